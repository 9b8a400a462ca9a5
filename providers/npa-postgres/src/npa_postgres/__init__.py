"""npa-postgres: the PostgreSQL provider of npa-migrations (psycopg 3)."""

__version__ = "0.1.0"
