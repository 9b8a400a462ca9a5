"""npa-mysql: the MySQL / MariaDB provider of npa-migrations (PyMySQL)."""
