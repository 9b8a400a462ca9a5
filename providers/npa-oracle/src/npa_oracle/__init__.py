"""npa-oracle: the Oracle provider of npa-migrations (python-oracledb)."""
