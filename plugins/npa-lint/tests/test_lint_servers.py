"""Row estimates from real PostgreSQL and MariaDB servers (``rewrite-large-table``).

Each test uses a schema / database of its own and drops it afterwards. An unreachable
server skips the test -- unless ``$CI`` is set, where it fails.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa


SERVERS = {
    "postgresql": ("NPA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": ("NPA_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


def server_engine(kind: str):
    env, default = SERVERS[kind]
    url = sa.make_url(os.environ.get(env) or default)
    if kind == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool,
                              connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        message = (f"{kind} at {url.render_as_string(hide_password=True)} is unreachable "
                   f"({str(exc).splitlines()[0]}); start it or set ${env}.")
        if os.environ.get("CI"):
            pytest.fail(f"{message} ($CI is set, so this is a failure, not a skip.)",
                        pytrace=False)
        pytest.skip(message)
    return engine


@pytest.fixture(params=sorted(SERVERS))
def server(request):
    """``(engine, schema)``: a schema of its own, holding a table ``big`` of 500 rows
    whose statistics are up to date."""
    engine = server_engine(request.param)
    schema = f"npa_lint_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE TABLE {schema}.big (id int primary key, v varchar(50))"))
        conn.execute(sa.text(f"INSERT INTO {schema}.big (id, v) VALUES (:id, 'x')"),
                     [{"id": n} for n in range(500)])
        conn.execute(sa.text(f"ANALYZE {schema}.big" if request.param == "postgresql"
                             else f"ANALYZE TABLE {schema}.big"))
    try:
        yield engine, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema}"
                                 + (" CASCADE" if request.param == "postgresql" else "")))
        engine.dispose()


def test_row_estimate_of_a_live_table(server):
    from npa_lint.estimates import row_estimator
    from npa_migrations.engine.target import DatabaseTarget

    engine, schema = server
    target = DatabaseTarget(engine)
    conn = target.connect()
    try:
        estimate = row_estimator(target.provider, conn)
        rows = estimate(schema, "big")
        assert rows is not None and 400 <= rows <= 600
        assert estimate(schema, "no_such_table") in (None, 0)
    finally:
        conn.close()


def test_rewrite_large_table_fires_above_the_threshold(server, make_script, tmp_path):
    from npa_lint import LintSettings, lint_executor
    from npa_migrations import MigrationExecutor, MigrationExecutorOptions

    engine, schema = server
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_retype.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n"
        "class Retype(Migration):\n"
        "    def up(self, b):\n"
        f"        b.alter_column('big', 'v', type_=sa.Integer(), schema={schema!r},\n"
        "                       existing_type=sa.Integer())\n", encoding="utf-8")
    executor = MigrationExecutor(engine, str(folder), options=MigrationExecutorOptions(
        history_table=f"{schema}_history", log_table=None))
    ids = ["20250101000000_Retype"]
    findings, _ = lint_executor(executor, ids, settings=LintSettings(large_table_rows=100))
    assert [f.rule for f in findings] == ["rewrite-large-table"]
    assert f"'{schema}.big'" in findings[0].message
    findings, _ = lint_executor(executor, ids, settings=LintSettings(large_table_rows=10**6))
    assert findings == []
