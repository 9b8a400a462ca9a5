"""Opening a SQLite database with nothing but ``sqlite3``, read-only, for the recorded
up-to-date answers of ``npa migrate up`` / ``status`` (:mod:`npa_migrations.uptodate`):
this module must stay free of SQLAlchemy and of the engine."""

from __future__ import annotations

import sqlite3

#: what a path must escape inside a ``file:`` URI
_URI_ESCAPES = (("%", "%25"), ("?", "%3f"), ("#", "%23"))


def connect(args: list, kwargs: dict) -> sqlite3.Connection:
    """A read-only connection to the database file ``args[0]`` (never creates it)."""
    (path,) = args
    for character, escaped in _URI_ESCAPES:
        path = path.replace(character, escaped)
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
