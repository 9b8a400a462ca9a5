"""Turning what the user passed (URL string, SQLAlchemy URL, Engine or Connection) into
a provider and DB-API connections."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from ..provider.registry import resolve_provider


def parse_url(value: Any):
    """A SQLAlchemy URL from a string or URL; a bad URL is a configuration error that
    never echoes a password."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    if isinstance(value, URL):
        return value
    try:
        return make_url(str(value))
    except ArgumentError:
        raise ConfigurationError(
            f"Invalid database URL '{mask_credentials(str(value))}'. Use the SQLAlchemy form "
            "dialect[+driver]://user:password@host[:port]/database, e.g. sqlite:///app.db "
            "or postgresql://app@localhost/app.") from None


def mask_credentials(text: str) -> str:
    """``text`` with everything between the scheme and the last ``@`` replaced by
    ``***``, for a URL SQLAlchemy could not parse (its password may hold any character,
    and the ``://`` itself may be what is wrong)."""
    import re

    head, at, host = text.rpartition("@")
    if not at:
        return text
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:?//", head)
    return f"{scheme.group(0) if scheme else ''}***@{host}"


class DatabaseTarget:
    """The database a run works on: its provider and a way to open connections."""

    def __init__(self, database: Any):
        self.engine = None
        self.connection = None
        import sqlalchemy as sa

        if isinstance(database, sa.engine.Engine):
            self.engine = database
            url = database.url
        elif isinstance(database, sa.engine.Connection):
            self.connection = database
            url = database.engine.url
        else:
            if database is None or str(database).strip() == "":
                raise ConfigurationError(
                    "No database URL given. Pass -d/--database-url, set NPA_DATABASE_URL, "
                    "or set database_url in npa.toml.")
            url = parse_url(database)
        self.url = url
        self.provider = resolve_provider(url)
        if self.engine is not None or self.connection is not None:
            self.provider.driver.use_engine(self.engine or self.connection.engine)

    def connect(self):
        """The run's main connection: the caller's own (SQLAlchemy Connection) or a new one."""
        if self.connection is not None:
            return self.provider.driver.wrap(self.connection.connection.driver_connection)
        return self.provider.driver.connect()
