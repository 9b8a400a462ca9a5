"""SqliteProvider: what SQLite does differently from the base provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from npa_migrations.provider import BaseProvider, Capabilities


class SqliteProvider(BaseProvider):
    """SQLite through the standard library's ``sqlite3``.

    Transactions are explicit (``isolation_level=None``) and taken with
    ``BEGIN IMMEDIATE`` so a migration holds the write lock from its first statement and
    two writers never deadlock. What ``ALTER TABLE`` cannot do is done by a table rebuild
    (:mod:`npa_sqlite.rebuild`).
    """

    name = "sqlite"
    install_extra = "sqlite"
    capabilities = Capabilities(transactional_ddl=True, advisory_lock=False, schemas=False,
                                if_exists=True, alter_in_place=False, drop_column=True,
                                create_database=True)
    begin_statement = "BEGIN IMMEDIATE"
    #: seconds a statement waits for another connection's write lock
    busy_timeout = 30.0

    def database_name(self) -> str:
        return self.url.database or ":memory:"

    def prepare_connection(self, raw: Any) -> None:
        raw.isolation_level = None
        raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def connection_state(self, raw: Any) -> Any:
        return raw.isolation_level

    def restore_connection(self, raw: Any, state: Any) -> None:
        raw.isolation_level = state

    def set_wait_timeout(self, conn, seconds: float) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def ensure_database(self) -> bool:
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        path = Path(database)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        return True
