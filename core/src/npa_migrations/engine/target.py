"""Turning what the user passed (URL string, SQLAlchemy URL, Engine or Connection) into
a provider and DB-API connections."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from ..provider.registry import resolve_provider
from ..urls import parse_url


class DatabaseTarget:
    """The database a run works on: its provider and a way to open connections."""

    def __init__(self, database: Any):
        import sqlalchemy as sa

        #: the caller's SQLAlchemy Engine, whose pool the run borrows connections from
        self.engine: sa.engine.Engine | None = None
        #: the caller's own SQLAlchemy Connection, which the run uses as its connection
        self.connection: sa.engine.Connection | None = None
        if isinstance(database, sa.engine.Engine):
            self.engine = database
            url = database.url
        elif isinstance(database, sa.engine.Connection):
            self.connection = database
            self.engine = database.engine
            url = database.engine.url
        else:
            if database is None or str(database).strip() == "":
                raise ConfigurationError(
                    "No database URL given. Pass -d/--database-url, set NPA_DATABASE_URL, "
                    "or set database_url in npa.toml.")
            url = parse_url(database)
        self.url = url
        self.provider = resolve_provider(url)
        if self.engine is not None:
            self.provider.driver.use_engine(self.engine)

    def connect(self):
        """The run's main connection: the caller's own (SQLAlchemy Connection) or a new one."""
        if self.connection is not None:
            return self.provider.driver.wrap(self.connection.connection.driver_connection)
        return self.provider.driver.connect()
