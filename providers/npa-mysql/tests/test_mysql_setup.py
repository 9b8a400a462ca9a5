"""Provider resolution, URLs, ensure_created, offline SQL, the MySQL statement splitter,
and the CI rule of this test package."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import mysql_support
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.provider.registry import resolve_provider
from npa_migrations.errors import ConfigurationError, DatabaseUnavailableError
from npa_mysql.provider import MysqlProvider
from npa_mysql.sqltext import split_mysql


# resolution and URLs (no server needed) --------------------------------------------------------
@pytest.mark.parametrize("url, driver, name", [
    ("mysql://u@h/db", "mysql+pymysql", "mysql"),
    ("mariadb://u@h/db", "mariadb+pymysql", "mariadb"),
    ("mysql+pymysql://u@h/db", "mysql+pymysql", "mysql"),
    ("mariadb+pymysql://u@h/db", "mariadb+pymysql", "mariadb"),
])
def test_urls_resolve_to_pymysql(url, driver, name):
    provider = resolve_provider(sa.make_url(url))
    assert isinstance(provider, MysqlProvider)
    assert provider.url.drivername == driver and provider.name == name
    assert not provider.capabilities.transactional_ddl and provider.capabilities.advisory_lock


def test_other_drivers_map_to_pymysql_and_other_engines_are_refused():
    provider = resolve_provider(sa.make_url("mysql+mysqldb://u@h/db"))
    assert provider.url.drivername == "mysql+pymysql"
    from types import SimpleNamespace

    engine = SimpleNamespace(dialect=SimpleNamespace(driver="mysqlconnector"))
    with pytest.raises(ConfigurationError, match="PyMySQL.*mysqlconnector"):
        provider.driver.use_engine(engine)


def test_offline_script_uses_backticks_and_mysql_syntax(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_all.py").write_text('''
import sqlalchemy as sa
from npa_migrations import Migration

class All(Migration):
    def up(self, b):
        b.create_table("order", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("a b", sa.String(10)))
        b.rename_table("order", "orders", schema="shop")
        b.drop_index("ix", "orders")
        b.drop_constraint("fk", "orders", type_="foreignkey")
        b.drop_constraint("uq", "orders", type_="unique")
        b.drop_constraint("pk", "orders", type_="primary")
        b.drop_constraint("loose", "orders")
        b.alter_column("orders", "a b", server_default="x")
        b.alter_column("orders", "a b", new_column_name="c")
        b.create_schema("shop")
        b.bulk_insert("orders", [{"a b": "it's 50%"}])
''')
    script = MigrationExecutor("mysql://u@127.0.0.1/app", str(folder)).script(offline=True)
    for line in [
        "CREATE TABLE `order` (",
        "\t`a b` VARCHAR(10), ",
        "RENAME TABLE shop.`order` TO shop.orders;",
        "DROP INDEX ix ON orders;",
        "ALTER TABLE orders DROP FOREIGN KEY fk;",
        "ALTER TABLE orders DROP INDEX uq;",
        "ALTER TABLE orders DROP PRIMARY KEY;",
        "ALTER TABLE orders DROP CONSTRAINT loose;",
        "ALTER TABLE orders ALTER COLUMN `a b` SET DEFAULT 'x';",
        "ALTER TABLE orders RENAME COLUMN `a b` TO c;",
        "CREATE DATABASE shop;",
        "INSERT INTO orders (`a b`) VALUES ('it''s 50%');",
    ]:
        assert line in script, line


def test_splitter():
    text = ("INSERT INTO t VALUES ('it\\'s; fine', \"a;b\"); # a comment; here\n"
            "-- another; one\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n"
            "  IF NEW.a > 0 THEN SET NEW.b = 1; END IF;\n"
            "  CASE WHEN NEW.c THEN SET NEW.d = 2; ELSE SET NEW.d = 3; END CASE;\nEND;\n"
            "SELECT `x;y` FROM t; /* only a comment; */ /*!40101 SET NAMES utf8mb4 */")
    assert split_mysql(text) == [
        "INSERT INTO t VALUES ('it\\'s; fine', \"a;b\")",
        "# a comment; here\n-- another; one\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH "
        "ROW BEGIN\n  IF NEW.a > 0 THEN SET NEW.b = 1; END IF;\n  CASE WHEN NEW.c THEN SET "
        "NEW.d = 2; ELSE SET NEW.d = 3; END CASE;\nEND",
        "SELECT `x;y` FROM t",
        "/* only a comment; */ /*!40101 SET NAMES utf8mb4 */",
    ]
    assert split_mysql("SELECT 'a\\'; SELECT 2", backslash_escapes=False) == [
        "SELECT 'a\\'", "SELECT 2"]
    assert split_mysql("BEGIN; SELECT 1; COMMIT") == ["BEGIN", "SELECT 1", "COMMIT"]


def test_unreachable_server_fails_under_ci_and_skips_otherwise(monkeypatch):
    monkeypatch.setenv(mysql_support.URL_ENV, "mysql+pymysql://root@127.0.0.1:1/test")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="unreachable.*CI"):
        mysql_support.require_server()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="MySQL/MariaDB at .* unreachable"):
        mysql_support.require_server()


# against the server ------------------------------------------------------------------------------
def test_server_is_detected(my):
    executor = my.executor()
    assert executor.status().applied == []
    provider = executor.provider
    assert provider.server_version is not None
    version = my.query("SELECT VERSION()")[0][0]
    assert provider.is_mariadb == ("MariaDB" in version)
    assert ("mariadb" in provider.names) == provider.is_mariadb


def test_ensure_created_creates_the_database(my):
    database = my.name("db")
    my.databases.append(database)
    url = sa.make_url(my.url).set(database=database).render_as_string(hide_password=False)
    t = my.name("t")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    with pytest.raises(DatabaseUnavailableError, match="does not exist.*ensure_created"):
        my.executor(url).execute()
    result = my.executor(url, ensure_created=True).execute()
    assert result.success, result.errors
    assert my.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                    "WHERE SCHEMA_NAME = %s", (database,)) == [(database,)]
    assert {t, my.history_table} <= my.tables(schema=database)
    # a second run finds it and changes nothing
    assert my.executor(url, ensure_created=True).execute().migrations_applied == []


def test_engine_and_connection_targets(my):
    """An SQLAlchemy Engine or Connection works as the target; a caller's connection
    gets its session settings back."""
    t = my.name("eng")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    engine = sa.create_engine(my.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            before = conn.exec_driver_sql(
                "SELECT @@SESSION.lock_wait_timeout, @@SESSION.autocommit").fetchone()
            options = my.options(ddl_lock_timeout_seconds=7)
            result = MigrationExecutor(conn, str(my.folder), options=options).execute()
            assert result.success, result.errors
            after = conn.exec_driver_sql(
                "SELECT @@SESSION.lock_wait_timeout, @@SESSION.autocommit").fetchone()
            assert tuple(after) == tuple(before)
        assert t in my.tables()
        assert MigrationExecutor(engine, str(my.folder),
                                 options=my.options()).execute().migrations_applied == []
    finally:
        engine.dispose()


def test_status_and_rollback_to(my):
    a, b_ = my.name("a"), my.name("b")
    my.migration("20250101000000_A", f"b.create_table({a!r}, sa.Column('id', sa.Integer))",
                 f"b.drop_table({a!r})")
    my.migration("20250102000000_B", f"b.create_table({b_!r}, sa.Column('id', sa.Integer))",
                 f"b.drop_table({b_!r})")
    executor = my.executor()
    assert executor.execute().success
    status = executor.status()
    assert status.current == "20250102000000_B" and status.pending == []
    assert executor.rollback_to("20250101000000").success
    assert a in my.tables() and b_ not in my.tables()
    assert [row[0] for row in my.history()] == ["20250101000000_A"]


def test_default_options_object_is_accepted(my):
    assert isinstance(my.options(), MigrationExecutorOptions)
