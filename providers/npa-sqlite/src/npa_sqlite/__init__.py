"""npa-sqlite: the SQLite provider of npa-migrations (stdlib ``sqlite3``)."""

__version__ = "0.1.0"
