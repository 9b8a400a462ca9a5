"""Drift detection, post-execution verification, check_drift, baseline and the event log
on real SQLite files (the API and the CLI)."""

import json
import sqlite3
import textwrap

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from npa_migrations import (MigrationExecutor, MigrationExecutorOptions, TransactionMode,
                            ValidationError)
from npa_migrations.engine.baseline import BaselineError
from npa_migrations.cli import cli
from npa_migrations.hookspecs import hookimpl
from npa_migrations.operations import AddColumn, CreateTable
from npa_migrations.plugins import get_plugin_manager

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
    CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    INSERT INTO tags (name) VALUES ('new');
    -- npa:down
    DROP TABLE tags;
"""

MODELS = """
    import sqlalchemy as sa

    metadata = sa.MetaData()
    customers = sa.Table(
        "customers", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(100), nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created", sa.DateTime, server_default=sa.func.current_timestamp()))
    orders = sa.Table(
        "orders", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE")),
        sa.Column("total", sa.Numeric(10, 2), server_default="0"),
        sa.Column("note", sa.String(200)),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.CheckConstraint("total >= 0", name="ck_orders_total"),
        sa.Index("ix_orders_customer", "customer_id"), sa.Index("ix_orders_price", "price"))
"""


@pytest.fixture
def shop(migrations_dir):
    migrations_dir("20250101000000_create_shop.py", CREATE)
    migrations_dir("20250102000000_add_price.py", ADD_PRICE)
    return migrations_dir


def sql(url: str, *statements: str) -> list:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        rows = []
        for statement in statements:
            rows = conn.execute(statement).fetchall()
        return rows


def kinds(report) -> list[tuple[str, str]]:
    return sorted((d.kind, d.where) for d in report.differences)


def events(executor) -> list[tuple[str, str | None, bool]]:
    return [(e.event, e.migration_id, e.success) for e in executor.events()]


# drift ---------------------------------------------------------------------------------
def test_clean_database_has_no_drift(sqlite_url, shop):
    shop("20250103000000_tags.sql", TAGS_SQL)
    executor = MigrationExecutor(sqlite_url, shop.folder)
    assert executor.execute().success
    report = executor.drift()
    assert report.differences == [] and not report.has_drift
    assert report.expected_from == "3 applied migrations"
    # the raw-SQL table is named as not compared, never guessed
    assert any(line.startswith("table tags: created by raw SQL") for line in report.not_compared)
    # the engine's own tables are never reported
    assert "npa_migrations" not in "\n".join(report.lines())


def test_hand_made_changes_show_as_drift(sqlite_url, shop):
    executor = MigrationExecutor(sqlite_url, shop.folder)
    assert executor.execute().success
    sql(sqlite_url, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(30)",
        "DROP INDEX ix_orders_price",
        # a type change by hand: SQLite needs a rebuild
        "ALTER TABLE orders RENAME TO orders_old",
        "CREATE TABLE orders (id INTEGER NOT NULL, customer_id INTEGER, total NUMERIC(10, 2) "
        "DEFAULT '0', note TEXT, price NUMERIC(10, 2), PRIMARY KEY (id), "
        "CONSTRAINT ck_orders_total CHECK (total >= 0), "
        "FOREIGN KEY(customer_id) REFERENCES customers (id) ON DELETE CASCADE)",
        "DROP TABLE orders_old",
        "CREATE INDEX ix_orders_customer ON orders (customer_id)",
        "CREATE TABLE scratch (id INTEGER)")
    report = executor.drift()
    assert kinds(report) == [
        ("changed type", "orders.note"), ("extra column", "customers.nickname"),
        ("extra table", "scratch"), ("missing index", "orders.ix_orders_price")]
    lines = report.lines()
    assert lines[0].startswith("Schema drift in sqlite:///")
    assert any("changed type" in line and "orders.note" in line and "VARCHAR(200)" in line
               and "TEXT" in line for line in lines)
    assert lines[-1] == "4 differences."


def test_unreadable_sql_never_says_no_drift(sqlite_url, shop):
    """After a statement the model cannot read, the report says what it could not
    compare instead of "No drift"."""
    shop("20250103000000_search.sql", "-- npa:up\nCREATE VIRTUAL TABLE search USING "
                                      "fts5(body);\n")
    executor = MigrationExecutor(sqlite_url, shop.folder)
    assert executor.execute().success
    sql(sqlite_url, "CREATE TABLE scratch (id INTEGER)")
    report = executor.drift()
    assert report.differences == [] and not report.complete
    lines = report.lines()
    assert not lines[0].startswith("No drift:"), lines
    assert lines[0].startswith("No drift in what could be compared") and \
        "could not be compared" in lines[0]
    assert any("CREATE VIRTUAL TABLE search" in line and "any table may have changed" in line
               for line in lines)
    assert report.to_json()["complete"] is False


def test_drift_against_a_metadata(sqlite_url, shop):
    executor = MigrationExecutor(sqlite_url, shop.folder)
    executor.execute()
    namespace: dict = {}
    exec(textwrap.dedent(MODELS), namespace)
    assert executor.drift(namespace["metadata"]).differences == []
    namespace["orders"].append_column(sa.Column("discount", sa.Integer))
    report = executor.drift(namespace["metadata"])
    assert kinds(report) == [("missing column", "orders.discount")]
    assert report.expected_from.startswith("the given MetaData")


def test_check_drift_reports_with_validation_errors_and_applies_nothing(sqlite_url, shop):
    executor = MigrationExecutor(sqlite_url, shop.folder)
    executor.execute(target="20250101000000")
    sql(sqlite_url, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(30)")
    # an edit that changes the checksum but not the schema (the order of the down steps)
    shop("20250101000000_create_shop.py", CREATE.replace(
        'b.drop_table("orders")\n            b.drop_table("customers")',
        'b.drop_table("customers")\n            b.drop_table("orders")'))
    options = MigrationExecutorOptions(check_drift=True)
    with pytest.raises(ValidationError) as info:
        MigrationExecutor(sqlite_url, shop.folder, options).execute()
    codes = sorted(p.code for p in info.value.problems)
    assert codes == ["checksum", "drift"]
    assert "customers.nickname" in str(info.value)
    assert "price" not in [r[1] for r in sql(sqlite_url, "PRAGMA table_info(orders)")]


def test_edited_migration_fails_validation_with_its_id(sqlite_url, shop):
    MigrationExecutor(sqlite_url, shop.folder).execute()
    shop("20250102000000_add_price.py", ADD_PRICE.replace("Numeric(10, 2)", "Numeric(12, 2)"))
    problems = MigrationExecutor(sqlite_url, shop.folder).validate()
    assert [(p.code, p.migration_id) for p in problems] == [("checksum", "20250102000000_AddPrice")]
    assert "20250102000000_AddPrice" in str(problems[0])


# post-execution verification ----------------------------------------------------------
class WrongPriceType:
    """Renders add_column('price') with INTEGER instead of the declared NUMERIC(10, 2)."""

    @hookimpl(tryfirst=True)
    def npa_generate_sql(self, provider, operation, context):
        if isinstance(operation, AddColumn) and operation.column.name == "price":
            wrong = AddColumn(operation.table, sa.Column("price", sa.Integer),
                              schema=operation.schema)
            return provider.sql.generate(wrong, context)
        return None


@pytest.fixture
def wrong_plugin():
    manager = get_plugin_manager()
    plugin = WrongPriceType()
    manager.register(plugin, name="test-wrong-price-type")
    yield plugin
    manager.unregister(plugin)


def test_verification_catches_a_plugin_that_renders_wrongly(sqlite_url, shop, wrong_plugin):
    executor = MigrationExecutor(sqlite_url, shop.folder, MigrationExecutorOptions(verify=True))
    result = executor.execute()
    assert result.migration_ids == ["20250101000000_CreateShop"]
    [error] = result.errors
    assert error.migration_id == "20250102000000_AddPrice"
    assert "operation 1 (Adding column 'price') did not do what it said" in error.message
    assert "NUMERIC(10, 2)" in error.message and "INTEGER" in error.message
    assert "rolled back" in error.message
    # rolled back: not recorded, column gone, and the failure is in the event log
    assert executor.status().pending == ["20250102000000_AddPrice"]
    assert "price" not in [r[1] for r in sql(sqlite_url, "PRAGMA table_info(orders)")]
    assert events(executor)[-1] == ("failure", "20250102000000_AddPrice", False)


def test_verification_off_by_default_in_the_api(sqlite_url, shop, wrong_plugin):
    assert MigrationExecutor(sqlite_url, shop.folder).execute().success


def test_verification_passes_and_skips_raw_sql(sqlite_url, shop):
    shop("20250103000000_tags.sql", TAGS_SQL)
    shop("20250104000000_tag_color.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class TagColor(Migration):
            def up(self, b):
                b.add_column("tags", sa.Column("color", sa.String(7), server_default="#fff"))
                b.alter_column("orders", "note", type_=sa.String(250),
                               existing_type=sa.String(200))

            def down(self, b):
                b.alter_column("orders", "note", type_=sa.String(200))
                b.drop_column("tags", "color")
    """)
    executor = MigrationExecutor(sqlite_url, shop.folder, MigrationExecutorOptions(verify=True))
    result = executor.execute()
    assert result.success, result.errors
    assert executor.rollback(3).success
    assert executor.drift().differences == []


def test_verification_in_all_in_one_mode(sqlite_url, shop, wrong_plugin):
    options = MigrationExecutorOptions(verify=True, transaction_mode=TransactionMode.ALL_IN_ONE)
    executor = MigrationExecutor(sqlite_url, shop.folder, options)
    result = executor.execute()
    assert not result.success and result.migration_ids == []
    assert "did not do what it said" in result.errors[0].message
    assert executor.status().applied == []
    assert events(executor) == [("failure", "20250102000000_AddPrice", False)]


TICKETS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Tickets(Migration):
        def up(self, b):
            b.create_table("Tickets", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("code", sa.String(10), nullable=False),
                           sa.Column("qty", sa.Integer, nullable=False),
                           sa.UniqueConstraint("code", name="uq_tickets_code"),
                           sa.CheckConstraint("qty > 0", name="ck_tickets_qty"))
"""


class TicketsWithoutConstraints:
    """Renders create_table('Tickets') without its UNIQUE and CHECK constraints."""

    @hookimpl(tryfirst=True)
    def npa_generate_sql(self, provider, operation, context):
        if isinstance(operation, CreateTable) and operation.table == "Tickets":
            return ["CREATE TABLE \"Tickets\" (id INTEGER NOT NULL PRIMARY KEY, "
                    "code VARCHAR(10) NOT NULL, qty INTEGER NOT NULL)"]
        return None


def test_verification_catches_missing_unique_and_check(sqlite_url, migrations_dir, register):
    # SQLite's unique constraints and checks are read by the provider's rules alone
    # (SchemaRules.reflected_by_rules), not by SQLAlchemy: a table without them is caught
    register(TicketsWithoutConstraints())
    migrations_dir("20250101000000_tickets.py", TICKETS)
    result = MigrationExecutor(sqlite_url, migrations_dir.folder,
                               MigrationExecutorOptions(verify=True)).execute()
    [error] = result.errors
    assert "did not do what it said" in error.message
    assert "uq_tickets_code" in error.message and "ck_tickets_qty" in error.message


def test_verification_reads_constraints_of_a_table_named_in_another_case(
        sqlite_url, migrations_dir):
    # created as "Tickets", changed as "TICKETS": SQLite folds the name, and so does the
    # look-up of its stored CREATE TABLE statement (the unique constraint is claimed)
    migrations_dir("20250101000000_tickets.py", TICKETS)
    migrations_dir("20250102000000_ticket_ref.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class TicketRef(Migration):
            def up(self, b):
                b.add_column("TICKETS", sa.Column("ref", sa.String(10)))
                b.create_unique_constraint("uq_tickets_ref", "TICKETS", ["ref"])
    """)
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder,
                                 MigrationExecutorOptions(verify=True))
    result = executor.execute()
    assert result.success, result.errors
    assert executor.drift().differences == []


# event log -----------------------------------------------------------------------------
def test_event_log_records_every_kind_of_event(sqlite_url, shop):
    executor = MigrationExecutor(sqlite_url, shop.folder)
    executor.execute()
    executor.rollback()
    shop("20250103000000_broken.sql", "-- npa:up\nSELECT * FROM nowhere;\n")
    failed = MigrationExecutor(sqlite_url, shop.folder).execute()
    assert not failed.success
    shop("20250101000000_create_shop.py", CREATE.replace("String(200)", "String(201)"))
    edited = MigrationExecutor(sqlite_url, shop.folder)
    edited.repair(accept_checksum="20250101000000")
    edited.unlock()
    log = edited.events()
    assert [(e.event, e.migration_id) for e in log] == [
        ("apply", "20250101000000_CreateShop"), ("apply", "20250102000000_AddPrice"),
        ("revert", "20250102000000_AddPrice"),
        ("apply", "20250102000000_AddPrice"), ("failure", "20250103000000_Broken"),
        ("repair", "20250101000000_CreateShop"), ("unlock", None)]
    failure = log[4]
    assert not failure.success
    assert failure.statement == "SELECT * FROM nowhere"
    assert "no such table" in failure.error
    repair_row = log[5]
    assert repair_row.detail.startswith("accept-checksum: sha256:")
    assert repair_row.checksum == edited.discover()[0].checksum
    for entry in log:
        assert entry.host and entry.os_user and entry.occurred_at and entry.product_version
    assert log[0].checksum == executor.discover()[0].checksum
    assert log[0].duration_ms is not None
    assert log[-1].detail == "no lock was held"


def test_event_log_repair_of_a_failed_entry(sqlite_url, shop):
    options = MigrationExecutorOptions(transaction_mode=TransactionMode.NONE)
    shop("20250103000000_half.sql", "-- npa:up\nCREATE TABLE half (id INTEGER);\n"
                                    "SELECT * FROM nowhere;\n")
    executor = MigrationExecutor(sqlite_url, shop.folder, options)
    assert not executor.execute().success
    report = executor.repair("mark_rolled_back")
    assert report.success
    assert events(executor)[-2:] == [("failure", "20250103000000_Half", False),
                                     ("repair", "20250103000000_Half", True)]
    assert executor.events()[-1].detail.startswith("mark-rolled-back: ")


def test_apply_log_row_shares_the_migrations_single_commit(sqlite_url, shop, monkeypatch):
    from npa_migrations.provider.connection import DbConnection

    commits = []
    original = DbConnection.commit
    monkeypatch.setattr(DbConnection, "commit", lambda self: (commits.append(1),
                                                               original(self)))
    executor = MigrationExecutor(sqlite_url, shop.folder,
                                 MigrationExecutorOptions(acquire_lock=False))
    assert executor.execute().success
    assert len(commits) == 2  # exactly one per migration, log rows included
    assert [e[0] for e in events(executor)] == ["apply", "apply"]


def test_log_table_name_and_turning_it_off(sqlite_url, shop):
    MigrationExecutor(sqlite_url, shop.folder,
                      MigrationExecutorOptions(log_table="audit_log")).execute(
        target="20250101000000")
    MigrationExecutor(sqlite_url, shop.folder,
                      MigrationExecutorOptions(log_table=None)).execute()
    names = {r[0] for r in sql(sqlite_url, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "audit_log" in names and "npa_migrations_log" not in names
    assert sql(sqlite_url, "SELECT event, migration_id FROM audit_log") == [
        ("apply", "20250101000000_CreateShop")]


# baseline ------------------------------------------------------------------------------
def test_baseline_then_up_applies_only_the_rest(sqlite_url, shop):
    shop("20250103000000_tags.sql", TAGS_SQL)
    # the database existed before the tool: create the first migration's tables by hand
    sql(sqlite_url, "CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR(100))",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, "
        "total NUMERIC(10, 2), note VARCHAR(200))")
    executor = MigrationExecutor(sqlite_url, shop.folder)
    report = executor.baseline("20250101000000")
    assert report.recorded == ["20250101000000_CreateShop"]
    rows = sql(sqlite_url, "SELECT migration_id, checksum, success, execution_ms "
                           "FROM npa_migrations_history")
    assert rows == [("20250101000000_CreateShop", executor.discover()[0].checksum, 1, 0)]
    again = executor.baseline("20250101000000")  # the same baseline again: nothing to do
    assert again.recorded == [] and again.already_applied == ["20250101000000_CreateShop"]
    result = executor.execute()
    assert result.migration_ids == ["20250102000000_AddPrice", "20250103000000_Tags"]
    assert [e[0] for e in events(executor)] == ["baseline", "apply", "apply"]
    # past the baseline: refused, nothing recorded
    with pytest.raises(BaselineError, match="20250102000000_AddPrice"):
        executor.baseline("20250101000000_CreateShop")


def test_baseline_refuses_failed_entries_and_unknown_targets(sqlite_url, shop):
    # mode none: the table is created, the SELECT fails -> failed after 1 statement
    shop("20250103000000_broken.sql",
         "-- npa:up\nCREATE TABLE half (id INTEGER);\nSELECT * FROM nowhere;\n")
    executor = MigrationExecutor(sqlite_url, shop.folder,
                                 MigrationExecutorOptions(transaction_mode=TransactionMode.NONE))
    executor.execute()
    with pytest.raises(BaselineError, match="recorded as failed"):
        executor.baseline("20250103000000")
    from npa_migrations.errors import UnknownTargetError

    with pytest.raises(UnknownTargetError):
        executor.baseline("20990101000000")


# CLI -----------------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path, shop, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_drift_exit_codes_and_json(project):
    assert run("migrate", "up").exit_code == 0
    clean = run("migrate", "drift")
    assert clean.exit_code == 0, clean.output
    assert "No drift" in clean.output
    sql("sqlite:///npa.db", "ALTER TABLE customers ADD COLUMN nickname VARCHAR(30)")
    drifted = run("migrate", "drift")
    assert drifted.exit_code == 3
    assert "extra column" in drifted.output and "customers.nickname" in drifted.output
    data = json.loads(run("migrate", "drift", "--json").output)
    assert data["drift"] is True and data["complete"] is True
    assert data["differences"][0]["kind"] == "extra column"
    assert data["differences"][0]["table"] == "customers"
    assert data["differences"][0]["object"] == "nickname"


def test_cli_drift_model(project):
    (project / "shop_models_cli.py").write_text(textwrap.dedent(MODELS))
    run("migrate", "up")
    result = run("migrate", "drift", "--model", "shop_models_cli:metadata")
    assert result.exit_code == 0, result.output
    bad = run("migrate", "drift", "--model", "shop_models_cli")
    assert bad.exit_code == 2 and "module:attr" in bad.output


def test_cli_up_verifies_by_default(project, wrong_plugin):
    result = run("migrate", "up")
    assert result.exit_code == 1
    assert "did not do what it said" in result.output
    assert run("migrate", "up", "--no-verify").exit_code == 0


def test_cli_baseline_and_history(project):
    sql("sqlite:///npa.db", "CREATE TABLE customers (id INTEGER PRIMARY KEY)",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    result = run("migrate", "baseline", "--target", "20250101000000")
    assert result.exit_code == 0, result.output
    assert "recorded 1 migration(s)" in result.output
    run("migrate", "up", "--no-verify")
    text = run("migrate", "history").output
    assert "baseline" in text and "apply" in text and "20250102000000_AddPrice" in text
    data = json.loads(run("migrate", "history", "--json").output)
    assert [e["event"] for e in data["events"]] == ["baseline", "apply"]
    assert set(data["events"][0]) >= {"occurred_at", "event", "migration_id", "checksum",
                                      "success", "duration_ms", "host", "user"}
    refused = run("migrate", "baseline", "--target", "20250101000000_CreateShop")
    assert refused.exit_code == 2 and "past that point" in refused.output
    missing = run("migrate", "baseline")
    assert missing.exit_code == 2
