"""Opening a MySQL / MariaDB database with nothing but PyMySQL, for the recorded
up-to-date answers of ``npa migrate up`` / ``status`` (:mod:`npa_migrations.uptodate`):
this module must stay free of SQLAlchemy and of the engine."""

from __future__ import annotations

#: ``typing.TYPE_CHECKING``, without importing ``typing`` (type checkers read it as true)
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    import pymysql

#: seconds the connection and the server's greeting may take
CONNECT_TIMEOUT = 10


def connect(args: list, kwargs: dict) -> "pymysql.connections.Connection":
    """An autocommit connection with the dialect's connect arguments."""
    import pymysql

    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return pymysql.connect(*args, autocommit=True, **kwargs)
