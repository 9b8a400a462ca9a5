"""npa-postgres: the PostgreSQL provider of npa-migrations (psycopg 3)."""
