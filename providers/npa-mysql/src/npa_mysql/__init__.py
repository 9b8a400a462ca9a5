"""npa-mysql: the MySQL / MariaDB provider of npa-migrations (PyMySQL)."""

__version__ = "0.1.0"
