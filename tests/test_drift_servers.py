"""Drift detection, post-execution verification, baseline and the event log on real
PostgreSQL and MariaDB servers.

Each test works in a database of its own (``npa_drift_<random>``, created for the test
and dropped after it), so nothing it creates outlives it and other tests' tables on the
shared server never show up as drift. URLs: ``NPA_TEST_POSTGRES_URL`` and
``NPA_TEST_MYSQL_URL`` (defaults: the local servers CI starts). An unreachable server
skips the tests, except when ``CI`` is set: then it is a failure.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationExecutor, MigrationExecutorOptions, ValidationError
from npa_migrations.engine.baseline import BaselineError
from npa_migrations.hookspecs import hookimpl
from npa_migrations.operations import AddColumn
from npa_migrations.plugins import get_plugin_manager

from server_databases import SERVERS, execute_sql, fresh_database

CREATE = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateShop(Migration):
        def up(self, b):
            b.create_table("customers", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("email", sa.String(100), nullable=False, unique=True),
                           sa.Column("active", sa.Boolean, nullable=False,
                                     server_default=sa.true()),
                           sa.Column("created", sa.DateTime,
                                     server_default=sa.func.current_timestamp()))
            b.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("customer_id", sa.Integer,
                                     sa.ForeignKey("customers.id", ondelete="CASCADE")),
                           sa.Column("total", sa.Numeric(10, 2), server_default="0"),
                           sa.Column("note", sa.String(200)),
                           sa.Column("status", sa.String(10), server_default="new"),
                           sa.CheckConstraint("total >= 0", name="ck_orders_total"))
            b.create_index("ix_orders_customer", "orders", ["customer_id"])

        def down(self, b):
            b.drop_table("orders")
            b.drop_table("customers")
"""

ADD_PRICE = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class AddPrice(Migration):
        def up(self, b):
            b.add_column("orders", sa.Column("price", sa.Numeric(10, 2)))
            b.create_index("ix_orders_price", "orders", ["price"])

        def down(self, b):
            b.drop_index("ix_orders_price", "orders")
            b.drop_column("orders", "price")
"""

TAGS_SQL = """
    -- npa:up
    CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL);
    INSERT INTO tags (id, name) VALUES (1, 'new');
    -- npa:down
    DROP TABLE tags;
"""


@pytest.fixture(params=sorted(SERVERS))
def server(request):
    """A fresh database on the server, dropped afterwards: yields its URL."""
    with fresh_database(request.param, "npa_drift") as url:
        yield url


@pytest.fixture
def folder(tmp_path: Path):
    path = tmp_path / "migrations"
    path.mkdir()

    def write(name: str, text: str) -> None:
        (path / name).write_text(textwrap.dedent(text).lstrip())

    write("20250101000000_create_shop.py", CREATE)
    write("20250102000000_add_price.py", ADD_PRICE)
    write.path = path
    return write




def kinds(report) -> list[tuple[str, str]]:
    return sorted((d.kind, d.where) for d in report.differences)


def events(executor) -> list[tuple[str, str | None]]:
    return [(e.event, e.migration_id) for e in executor.events()]


def is_pg(url) -> bool:
    return url.get_backend_name() == "postgresql"


def test_clean_database_then_hand_made_changes(server, folder):
    folder("20250103000000_tags.sql", TAGS_SQL)
    executor = MigrationExecutor(server, folder.path, MigrationExecutorOptions(verify=True))
    result = executor.execute()
    assert result.success, result.errors
    report = executor.drift()
    assert report.differences == [], report.lines()
    assert any(n.startswith("table tags: created by raw SQL") for n in report.not_compared)
    type_change = ("ALTER TABLE orders ALTER COLUMN note TYPE VARCHAR(300)" if is_pg(server)
                   else "ALTER TABLE orders MODIFY note VARCHAR(300)")
    drop_index = ("DROP INDEX ix_orders_price" if is_pg(server)
                  else "DROP INDEX ix_orders_price ON orders")
    execute_sql(server, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(30)", drop_index,
            type_change)
    report = executor.drift()
    assert kinds(report) == [("changed type", "orders.note"),
                             ("extra column", "customers.nickname"),
                             ("missing index", "orders.ix_orders_price")], report.lines()
    changed = [d for d in report.differences if d.kind == "changed type"][0]
    assert (changed.expected, changed.actual) == ("VARCHAR(200)", "VARCHAR(300)")


def test_matching_metadata_shows_no_drift(server, folder):
    executor = MigrationExecutor(server, folder.path)
    assert executor.execute().success
    metadata = sa.MetaData()
    customers = sa.Table(
        "customers", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(100), nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created", sa.DateTime, server_default=sa.func.current_timestamp()))
    sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("customer_id", sa.Integer,
                       sa.ForeignKey("customers.id", ondelete="CASCADE")),
             sa.Column("total", sa.Numeric(10, 2), server_default="0"),
             sa.Column("note", sa.String(200)),
             sa.Column("status", sa.String(10), server_default="new"),
             sa.Column("price", sa.Numeric(10, 2)),
             sa.CheckConstraint("total >= 0", name="ck_orders_total"),
             sa.Index("ix_orders_customer", "customer_id"), sa.Index("ix_orders_price", "price"))
    report = executor.drift(metadata)
    assert report.differences == [], report.lines()
    customers.append_column(sa.Column("phone", sa.String(20)))
    assert kinds(executor.drift(metadata)) == [("missing column", "customers.phone")]


def test_check_drift_and_edited_migration_fail_validation(server, folder):
    executor = MigrationExecutor(server, folder.path)
    executor.execute(target="20250101000000")
    folder("20250101000000_create_shop.py", CREATE.replace(
        'b.drop_table("orders")\n            b.drop_table("customers")',
        'b.drop_table("customers")\n            b.drop_table("orders")'))
    problems = MigrationExecutor(server, folder.path).validate()
    assert [(p.code, p.migration_id) for p in problems] == [
        ("checksum", "20250101000000_CreateShop")]
    execute_sql(server, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(30)")
    with pytest.raises(ValidationError) as info:
        MigrationExecutor(server, folder.path,
                          MigrationExecutorOptions(check_drift=True)).execute()
    assert sorted(p.code for p in info.value.problems) == ["checksum", "drift"]
    assert MigrationExecutor(server, folder.path).status().pending == ["20250102000000_AddPrice"]


class WrongPriceType:
    """Renders add_column('price') with INTEGER instead of the declared NUMERIC(10, 2)."""

    @hookimpl(tryfirst=True)
    def npa_generate_sql(self, provider, operation, context):
        if isinstance(operation, AddColumn) and operation.column.name == "price":
            return provider.sql.generate(AddColumn(operation.table,
                                                   sa.Column("price", sa.Integer)), context)
        return None


def test_verification_catches_a_wrongly_rendered_operation(server, folder):
    manager = get_plugin_manager()
    plugin = WrongPriceType()
    manager.register(plugin, name="test-servers-wrong-price")
    try:
        executor = MigrationExecutor(server, folder.path, MigrationExecutorOptions(verify=True))
        result = executor.execute()
    finally:
        manager.unregister(plugin)
    assert result.migration_ids == ["20250101000000_CreateShop"]
    [error] = result.errors
    assert "operation 1 (Adding column 'price') did not do what it said" in error.message
    # the live type as the database spells it (PostgreSQL's catalog: "integer")
    assert "NUMERIC(10, 2)" in error.message and "INTEGER" in error.message.upper()
    status = executor.status()
    if is_pg(server):  # transactional DDL: rolled back, not recorded
        assert status.pending == ["20250102000000_AddPrice"] and status.failed == []
    else:  # MariaDB commits DDL: recorded as failed, for repair
        assert status.failed == ["20250102000000_AddPrice"]
    assert events(executor)[-1] == ("failure", "20250102000000_AddPrice")


def test_baseline_then_up_applies_only_the_rest(server, folder):
    folder("20250103000000_tags.sql", TAGS_SQL)
    execute_sql(server, "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100))",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, "
            "total NUMERIC(10, 2), note VARCHAR(200))")
    executor = MigrationExecutor(server, folder.path)
    report = executor.baseline("20250101000000")
    assert report.recorded == ["20250101000000_CreateShop"]
    result = executor.execute()
    assert result.migration_ids == ["20250102000000_AddPrice", "20250103000000_Tags"]
    with pytest.raises(BaselineError):
        executor.baseline("20250101000000")
    assert [e[0] for e in events(executor)] == ["baseline", "apply", "apply"]


def test_event_log_records_every_event(server, folder):
    executor = MigrationExecutor(server, folder.path)
    assert executor.execute().success
    assert executor.rollback().success
    folder("20250103000000_broken.sql", "-- npa:up\nCREATE TABLE half (id INTEGER);\n"
                                        "SELECT * FROM nowhere;\n")
    second = MigrationExecutor(server, folder.path)
    assert not second.execute().success
    if not is_pg(server):  # PostgreSQL rolled it back; MariaDB recorded it as failed
        assert second.repair("mark_rolled_back").success
        execute_sql(server, "DROP TABLE half")
    folder("20250101000000_create_shop.py", CREATE.replace(
        'b.drop_table("orders")\n            b.drop_table("customers")',
        'b.drop_table("customers")\n            b.drop_table("orders")'))
    third = MigrationExecutor(server, folder.path)
    third.repair(accept_checksum="20250101000000")
    third.unlock()
    log = third.events()
    expected = [("apply", "20250101000000_CreateShop"), ("apply", "20250102000000_AddPrice"),
                ("revert", "20250102000000_AddPrice"), ("apply", "20250102000000_AddPrice"),
                ("failure", "20250103000000_Broken")]
    if not is_pg(server):
        expected.append(("repair", "20250103000000_Broken"))
    expected += [("repair", "20250101000000_CreateShop"), ("unlock", None)]
    assert [(e.event, e.migration_id) for e in log] == expected
    failure = [e for e in log if e.event == "failure"][0]
    assert failure.statement.startswith("SELECT * FROM nowhere") and failure.error
    assert not failure.success
    assert all(e.host and e.os_user for e in log)


# MySQL/MariaDB schemas are databases: this one runs on PostgreSQL only
@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_schemas_on_postgresql(server, folder):
    folder("20250103000000_schemas.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Schemas(Migration):
            def up(self, b):
                b.create_schema("sales")
                b.create_table("leads", sa.Column("id", sa.Integer, primary_key=True),
                               schema="sales")
                b.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),
                               schema="public")
                b.add_column("notes", sa.Column("body", sa.Text), schema="public")
    """)
    executor = MigrationExecutor(server, folder.path, MigrationExecutorOptions(verify=True))
    result = executor.execute()
    assert result.success, result.errors
    assert executor.drift().differences == []
    execute_sql(server, "ALTER TABLE sales.leads ADD COLUMN score INTEGER")
    assert kinds(executor.drift()) == [("extra column", "sales.leads.score")]


def test_names_with_backticks_and_quotes_show_no_drift(server, tmp_path):
    """Columns, indexes and constraints named with a backtick or a double quote reflect
    as written (SQLAlchemy's MySQL reflection keeps a backtick doubled; the MySQL
    provider undoes it), so verification passes and drift finds nothing."""
    path = tmp_path / "odd"
    path.mkdir()
    (path / "20250101000000_odd_names.py").write_text(textwrap.dedent('''\
        import sqlalchemy as sa
        from npa_migrations import Migration

        class OddNames(Migration):
            def up(self, b):
                b.create_table("odd`t", sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("we`ird", sa.Integer, nullable=False),
                               sa.Column('qu"ote', sa.String(20)),
                               sa.UniqueConstraint('qu"ote', name="uq`odd"))
                b.create_index("ix`odd", "odd`t", ["we`ird"])
        '''))
    executor = MigrationExecutor(server, path, MigrationExecutorOptions(verify=True))
    result = executor.execute()
    assert result.success, result.errors
    report = executor.drift()
    assert report.differences == [], report.lines()


# PostgreSQL's raw SQL: materialized views and types ------------------------------------
@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_index_on_a_materialized_view_is_not_a_missing_table(server, folder):
    """Lemmy's history: raw SQL indexes a materialized view; drift reported it as a
    missing table and ``up --check-drift`` refused to migrate."""
    folder("20250101120000_customer_stats.sql", """
        -- npa:up
        CREATE MATERIALIZED VIEW customer_stats AS
            SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id;
        CREATE UNIQUE INDEX idx_customer_stats ON customer_stats (customer_id);
        -- npa:down
        DROP MATERIALIZED VIEW customer_stats;
    """)
    executor = MigrationExecutor(server, folder.path)
    assert executor.execute(target="20250101120000").success
    report = executor.drift()
    assert report.differences == [] and report.complete, report.lines()
    checked = MigrationExecutor(server, folder.path, MigrationExecutorOptions(check_drift=True))
    result = checked.execute()
    assert result.success and result.migration_ids == ["20250102000000_AddPrice"]


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_create_type_does_not_blind_drift(server, folder):
    folder("20250101120000_mood.sql", """
        -- npa:up
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        -- npa:down
        DROP TYPE mood;
    """)
    executor = MigrationExecutor(server, folder.path, MigrationExecutorOptions(verify=True))
    assert executor.execute().success
    assert executor.drift().complete
    execute_sql(server, "ALTER TABLE customers ADD COLUMN feeling mood", "CREATE TABLE scratch (id INT)")
    assert kinds(executor.drift()) == [("extra column", "customers.feeling"),
                                       ("extra table", "scratch")]
