"""A fresh database of its own on the PostgreSQL or MariaDB server, for a test that must
see nothing of other tests' tables on the shared server.

``fresh_database(backend)`` creates ``npa_<random>`` and drops it afterwards. URLs:
``NPA_TEST_POSTGRES_URL`` and ``NPA_TEST_MYSQL_URL`` (defaults: the local servers CI
starts). An unreachable server skips the test, except when ``CI`` is set: then it is a
failure.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Iterator

import pytest
import sqlalchemy as sa

SERVERS = {
    "postgresql": ("NPA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mariadb": ("NPA_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def _reachable(url: sa.engine.URL) -> Exception | None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            return None
    except Exception as exc:  # any driver error: the server is not there
        return exc
    finally:
        engine.dispose()


@contextlib.contextmanager
def fresh_database(backend: str, prefix: str = "npa") -> Iterator[sa.engine.URL]:
    """A new, empty database on the ``backend`` server (a key of :data:`SERVERS`), dropped
    on exit: yields its URL."""
    env, default = SERVERS[backend]
    base = sa.engine.make_url(os.environ.get(env) or default)
    problem = _reachable(base)
    if problem is not None:
        message = f"{backend} server at {base.render_as_string()} unreachable: {problem}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
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
