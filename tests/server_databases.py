"""Throwaway databases on the shared PostgreSQL and MariaDB servers, for cross-package
tests that must not see (or leave) other tests' tables.

``fresh_database("postgresql", "npa_drift")`` creates ``npa_drift_<random>`` on the
server named by ``NPA_TEST_POSTGRES_URL`` (``NPA_TEST_MYSQL_URL`` for ``"mariadb"``;
defaults: the local servers CI starts), yields its URL and drops it afterwards. An
unreachable server skips the test, or fails it when ``CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa

from npa_migrations.testing.servers import unavailable

#: backend -> (environment variable, default URL)
SERVERS = {
    "postgresql": ("NPA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("NPA_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def server_url(backend: str) -> sa.engine.URL:
    """The configured URL of ``backend``'s server (a key of :data:`SERVERS`)."""
    env, default = SERVERS[backend]
    return sa.engine.make_url(os.environ.get(env) or default)


def _reachable(url: sa.engine.URL) -> Exception | None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            return None
    except Exception as exc:  # any driver error: the server is not there
        return exc
    finally:
        engine.dispose()


def reachable_server(backend: str) -> sa.engine.URL:
    """:func:`server_url`, once the server answered; an unreachable server skips the
    test (fails it when ``CI`` is set)."""
    base = server_url(backend)
    problem = _reachable(base)
    if problem is not None:
        unavailable(f"{backend} server at {base.render_as_string()} unreachable: {problem}")
    return base


@contextmanager
def fresh_database(backend: str, prefix: str) -> Iterator[sa.engine.URL]:
    """A new database ``<prefix>_<random>`` on ``backend``'s server, dropped on exit
    (PostgreSQL: after ending the sessions still connected to it); yields its URL."""
    base = reachable_server(backend)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield base.set(database=name)
    finally:
        with admin.connect() as conn:
            if base.get_backend_name() == "postgresql":
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            conn.execute(sa.text(f"DROP DATABASE {name}"))
        admin.dispose()


@contextmanager
def database_of(backend: str, tmp_path, prefix: str) -> Iterator[str]:
    """An empty database of ``backend`` (``sqlite`` or a key of :data:`SERVERS`) as a URL
    string with its password: a file in ``tmp_path``, or :func:`fresh_database`."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / (prefix + '.db')}"
        return
    with fresh_database(backend, prefix) as url:
        yield url.render_as_string(hide_password=False)


def execute_sql(url: sa.engine.URL | str, *statements: str) -> None:
    """Run ``statements`` on ``url`` in one committed transaction (changing a database
    behind npa's back)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
