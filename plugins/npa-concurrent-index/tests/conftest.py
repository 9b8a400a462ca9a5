"""Fixtures of npa-concurrent-index's tests.

``concurrent_plugin`` makes sure the plugin is registered for the test (it is, through
its entry point, when the package is installed; otherwise the fixture registers it and
unregisters it afterwards). ``pg`` is a schema of its own on the test PostgreSQL server
(``$NPA_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``), put
first on the ``search_path`` through the URL, and dropped afterwards. An unreachable
server skips those tests -- unless ``$CI`` is set, where they fail.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from pathlib import Path

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL_ENV = "NPA_TEST_POSTGRES_URL"


@pytest.fixture
def concurrent_plugin():
    import npa_concurrent_index.plugin as plugin
    from npa_migrations.plugins import get_plugin_manager

    manager = get_plugin_manager()
    added = not manager.is_registered(plugin)
    if added:
        manager.register(plugin, name="npa-concurrent-index-test")
    try:
        yield plugin
    finally:
        if added:
            manager.unregister(plugin)


def _server_url() -> str:
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    import psycopg
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    try:
        psycopg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                        password=parsed.password, dbname=parsed.database, connect_timeout=3,
                        autocommit=True).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        message = (f"PostgreSQL at {parsed.render_as_string(hide_password=True)} is "
                   f"unreachable ({str(exc).strip()}). Start it with 'bash "
                   f"scripts/start-databases.sh' or set ${URL_ENV}.")
        if os.environ.get("CI"):
            pytest.fail(f"{message} ($CI is set, so this is a failure, not a skip.)",
                        pytrace=False)
        pytest.skip(message)
    return url


class PgSchema:
    """One test's schema on the server, a migrations folder and a lock name."""

    def __init__(self, server_url: str, tmp: Path):
        token = uuid.uuid4().hex[:10]
        self.server_url = server_url
        self.schema = f"npa_ci_{token}"
        self.lock_name = f"npa_ci_lock_{token}"
        self.folder = tmp / "migrations"
        self.folder.mkdir()

    @property
    def url(self) -> str:
        import sqlalchemy as sa

        url = sa.make_url(self.server_url)
        return url.set(query={**url.query, "options": f"-csearch_path={self.schema}"}
                       ).render_as_string(hide_password=False)

    def query(self, sql: str, params=None) -> list[tuple]:
        import psycopg
        import sqlalchemy as sa

        url = sa.make_url(self.server_url)
        with psycopg.connect(host=url.host, port=url.port, user=url.username,
                             password=url.password, dbname=url.database, autocommit=True,
                             options=f"-csearch_path={self.schema}") as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def python(self, name: str, body: str) -> Path:
        path = self.folder / f"{name}.py"
        path.write_text("import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n\n"
                        + textwrap.dedent(body).strip() + "\n", encoding="utf-8")
        return path

    def executor(self, **options):
        from npa_migrations import MigrationExecutor, MigrationExecutorOptions

        options.setdefault("lock_table", self.lock_name)
        return MigrationExecutor(self.url, str(self.folder),
                                 options=MigrationExecutorOptions(**options))


@pytest.fixture
def pg(tmp_path, concurrent_plugin):
    test = PgSchema(_server_url(), tmp_path)
    test.query(f'CREATE SCHEMA "{test.schema}"')
    try:
        yield test
    finally:
        # never hang the suite on a leftover lock
        test.query(f"SET lock_timeout = '30s'; DROP SCHEMA IF EXISTS \"{test.schema}\" CASCADE")
