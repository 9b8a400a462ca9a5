"""Opening a PostgreSQL database with nothing but psycopg, for the recorded up-to-date
answers of ``npa migrate up`` / ``status`` (:mod:`npa_migrations.uptodate`): this module
must stay free of SQLAlchemy and of the engine."""

from __future__ import annotations

#: ``typing.TYPE_CHECKING``, without importing ``typing`` (type checkers read it as true)
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import psycopg

#: seconds libpq may take to connect when neither the URL nor PGCONNECT_TIMEOUT says
CONNECT_TIMEOUT = 10


def connect(args: list, kwargs: dict) -> "psycopg.Connection":
    """An autocommit connection with the dialect's connect arguments."""
    import os

    import psycopg

    if "PGCONNECT_TIMEOUT" not in os.environ:
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return psycopg.connect(*args, autocommit=True, **kwargs)
