"""PostgresProvider: URL resolution, psycopg 3, connections, ensure_created, SQL details."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationExecutor, MigrationExecutorOptions, operations as ops
from npa_migrations.provider.registry import registrations, resolve_provider
from npa_postgres.provider import PostgresProvider, default_application_name
from npa_migrations.provider import OFFLINE


@pytest.mark.parametrize("url", [
    "postgresql://app:secret@db.example/app",
    "postgresql+psycopg://app:secret@db.example/app",
    "postgresql+psycopg2://app:secret@db.example/app",
])
def test_every_postgresql_url_resolves_to_psycopg3(url):
    provider = resolve_provider(sa.make_url(url))
    assert isinstance(provider, PostgresProvider)
    assert provider.url.drivername == "postgresql+psycopg"
    assert provider.dialect.driver == "psycopg"
    assert "secret" not in provider.display_url()
    assert provider.display_url().startswith(url.split("://")[0] + "://")
    assert provider.database_name() == "app"
    caps = provider.capabilities
    assert caps.transactional_ddl and caps.advisory_lock and caps.schemas
    assert {"postgresql", "postgres"} <= provider.names


def test_postgres_scheme_is_postgresql():
    """``postgres://`` (Heroku, Render, Fly) is PostgreSQL, through psycopg 3."""
    provider = resolve_provider(sa.make_url("postgres://app:secret@db.example/app"))
    assert isinstance(provider, PostgresProvider)
    assert provider.url.drivername == "postgresql+psycopg"
    assert registrations()["postgres"].plugin == registrations()["postgresql"].plugin


def provider():
    return PostgresProvider(sa.make_url("postgresql://u@h/d"))


def test_alter_column_is_one_statement_with_using_where_needed():
    p = provider()
    op = ops.AlterColumn("t", "Qty", type_=sa.Integer(), nullable=False,
                         server_default=sa.text("0"))
    assert p.sql.generate(op, OFFLINE) == [
        'ALTER TABLE t ALTER COLUMN "Qty" DROP DEFAULT, ALTER COLUMN "Qty" TYPE INTEGER '
        'USING "Qty"::INTEGER, ALTER COLUMN "Qty" SET NOT NULL, ALTER COLUMN "Qty" SET DEFAULT 0']
    # string targets: no USING (too-long values raise instead of being truncated)
    assert p.sql.generate(ops.AlterColumn("t", "c", type_=sa.String(5)), OFFLINE) == [
        "ALTER TABLE t ALTER COLUMN c TYPE VARCHAR(5)"]
    assert p.sql.generate(ops.AlterColumn("t", "c", type_=sa.Text, schema="s"), OFFLINE) == [
        "ALTER TABLE s.t ALTER COLUMN c TYPE TEXT"]
    assert p.sql.generate(ops.AlterColumn("t", "c", nullable=True, new_column_name="d"), OFFLINE) == [
        "ALTER TABLE t ALTER COLUMN c DROP NOT NULL", "ALTER TABLE t RENAME COLUMN c TO d"]
    assert p.sql.generate(ops.AlterColumn("t", "c", server_default=None), OFFLINE) == [
        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT"]


def test_enum_types_and_comments_are_emitted_around_create_table():
    p = provider()
    sql = p.sql.generate(ops.CreateTable("t", (
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", sa.Enum("a", "b", name="Mood"), comment="c"),
        sa.Column("v", sa.Enum("a", name="plain", native_enum=False)),
    )), OFFLINE)
    assert sql[0] == "CREATE TYPE \"Mood\" AS ENUM ('a', 'b')"
    assert sql[1].startswith("CREATE TABLE t (") and "id SERIAL NOT NULL" in sql[1]
    assert sql[2] == "COMMENT ON COLUMN t.m IS 'c'"
    assert len(sql) == 3


def test_connections_carry_application_name_and_settings(pg):
    seen = {}

    def look(migration, step):
        if step.kind == "start":
            seen["rows"] = pg.query(
                "SELECT application_name FROM pg_stat_activity WHERE application_name = %s",
                (default_application_name(),))

    pg.sql("20250101000000_settings", """
        -- npa:up
        CREATE TABLE settings AS SELECT current_setting('statement_timeout') AS st,
            current_setting('client_connection_check_interval') AS cc,
            current_setting('application_name') AS app;
    """)
    assert pg.executor(timeout_seconds=42, on_progress=look).execute().success
    st, cc, app = pg.query("SELECT st, cc, app FROM settings")[0]
    assert (st, cc) == ("42s", "1s")
    assert app.startswith("npa-migrations ") and ":" in app
    # the run's connection and the lock's connection, both named
    assert len(seen["rows"]) == 2


def test_application_name_in_the_url_wins(pg):
    pg.sql("20250101000000_settings", """
        -- npa:up
        CREATE TABLE settings AS SELECT current_setting('application_name') AS app;
    """)
    url = sa.make_url(pg.url)
    url = url.set(query={**url.query, "application_name": "my-deployer"})
    assert pg.executor(url=url.render_as_string(hide_password=False)).execute().success
    assert pg.query("SELECT app FROM settings") == [("my-deployer",)]


def test_sqlalchemy_engine_and_connection_targets(pg):
    pg.sql("20250101000000_one", "-- npa:up\nCREATE TABLE one (id INT);\n")
    engine = sa.create_engine(sa.make_url(pg.url), poolclass=sa.pool.NullPool)
    options = pg.options()
    try:
        assert MigrationExecutor(engine, str(pg.folder), options).execute().success
        pg.sql("20250101000100_two", "-- npa:up\nCREATE TABLE two (id INT);\n")
        with engine.connect() as conn:
            result = MigrationExecutor(conn, str(pg.folder), options).execute()
            assert result.success, [e.message for e in result.errors]
            # the caller's connection is handed back as it was
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
            assert conn.connection.driver_connection.autocommit is False
    finally:
        engine.dispose()
    assert {"one", "two"} <= pg.tables()


def test_connection_inside_a_transaction_is_a_clear_error(pg):
    from npa_migrations.errors import ConfigurationError

    pg.sql("20250101000000_one", "-- npa:up\nCREATE TABLE one (id INT);\n")
    engine = sa.create_engine(sa.make_url(pg.url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")  # SQLAlchemy has begun a transaction
            with pytest.raises(ConfigurationError, match="inside a transaction"):
                MigrationExecutor(conn, str(pg.folder), pg.options()).execute()
    finally:
        engine.dispose()
    assert "one" not in pg.tables()


def test_unreachable_server_is_a_clear_error():
    from npa_migrations.errors import DatabaseUnavailableError

    ex = MigrationExecutor("postgresql://nobody:pw@127.0.0.1:1/nothing", "does-not-matter",
                           MigrationExecutorOptions())
    with pytest.raises(DatabaseUnavailableError) as info:
        ex.status()
    assert "Cannot connect to postgresql://nobody:***@127.0.0.1:1/nothing" in str(info.value)


# ensure_created --------------------------------------------------------------------------
def new_database_url(pg, name):
    pg.databases.append(name)
    return sa.make_url(pg.server_url).set(database=name)


def database_exists(pg, name):
    return pg.query("SELECT 1 FROM pg_database WHERE datname = %s", (name,)) == [(1,)]


def test_ensure_created_creates_a_fresh_database(pg):
    name = f'npa pg "new"; {uuid.uuid4().hex[:8]}'
    url = new_database_url(pg, name)
    pg.sql("20250101000000_one", "-- npa:up\nCREATE TABLE one (id INT);\n")
    assert not database_exists(pg, name)
    options = pg.options(ensure_created=True)
    result = MigrationExecutor(url, str(pg.folder), options).execute()
    assert result.success, [e.message for e in result.errors]
    assert database_exists(pg, name)
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"),
                              poolclass=sa.pool.NullPool)
    try:
        assert {"one", "npa_migrations_history"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    # an existing database: nothing to create, and the run still works
    assert MigrationExecutor(url, str(pg.folder), options).status().pending == []


def test_ensure_created_from_many_threads_at_once(pg):
    name = f"npa_pg_race_{uuid.uuid4().hex[:8]}"
    url = new_database_url(pg, name)
    pg.sql("20250101000000_one", "-- npa:up\nCREATE TABLE one (id INT);\n")
    options = pg.options(ensure_created=True, lock_timeout_seconds=60)
    results, failures = [], []
    barrier = threading.Barrier(6)

    def run():
        try:
            executor = MigrationExecutor(url, str(pg.folder), options)
            barrier.wait()
            results.append(executor.execute())
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == [] and all(r.success for r in results)
    assert sum(len(r.migrations_applied) for r in results) == 1


def test_without_ensure_created_a_missing_database_is_an_error(pg):
    from npa_migrations.errors import DatabaseUnavailableError

    name = f"npa_pg_missing_{uuid.uuid4().hex[:8]}"
    url = new_database_url(pg, name)
    with pytest.raises(DatabaseUnavailableError, match="does not exist"):
        MigrationExecutor(url, str(pg.folder), pg.options()).execute()
    assert not database_exists(pg, name)
