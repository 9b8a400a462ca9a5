"""npa-oracle: the Oracle provider of npa-migrations (python-oracledb, thin mode)."""

__version__ = "0.1.0"
