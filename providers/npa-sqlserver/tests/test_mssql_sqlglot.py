"""Every statement the provider generates is valid T-SQL as far as sqlglot (dialect
``tsql``, errors raised) can tell, and the dynamic SQL its batches build at run time is
valid too (run on a simulated catalog by :mod:`mssql_tsqlcheck`).

sqlglot cannot parse three constructs the provider uses; they are checked by strict
grammars whose parts are parsed by sqlglot (see :mod:`mssql_tsqlcheck`): ``IF <condition>
<statement>``, ``SET IDENTITY_INSERT`` and ``ALTER TABLE ... ADD CONSTRAINT ... DEFAULT
... FOR``. The tests below fail if sqlglot meets anything else it cannot parse.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

import mssql_scenarios as scenarios
import mssql_tsqlcheck as check
from mssql_support import EXAMPLES
from npa_migrations.engine.target import DatabaseTarget
from npa_migrations.operations import Execute
from npa_sqlserver import locking, tsql
from npa_sqlserver.provider import SESSION_SETUP
from npa_migrations.provider import OFFLINE
from npa_migrations.engine.planner import plan_steps


@pytest.fixture(scope="module")
def provider():
    return DatabaseTarget(scenarios.URL).provider


def generated(provider, name):
    """(operation, statement text) for every statement of a scenario: the script form
    and, for parameterised statements, the executed form."""
    ops = {id(op): op for op in scenarios.operations(name)}
    for step in plan_steps(provider, list(ops.values())):
        for statement in step.render(OFFLINE):
            texts = [statement.render()]
            if statement.params is not None:
                texts.append(statement.sql)
            for text in texts:
                yield step.operations[0], text, statement.many


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_every_statement_parses(provider, name):
    how = []
    for operation, text, many in generated(provider, name):
        if isinstance(operation, Execute):
            # custom SQL: sent as written (one batch); sqlglot must read all of it
            trees = sqlglot.parse(text, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
            assert trees and not any(isinstance(t, exp.Command) for t in trees), text
            continue
        if many:  # a bulk insert's script form: one INSERT per row
            for insert in check.top_level_statements(text):
                assert isinstance(check.parse(insert), exp.Insert)
            continue
        how += check.check_batch(text)
    assert how or name in ("execute",)


def test_unparseable_constructs_are_only_the_known_ones(provider):
    """Everything sqlglot reads as an opaque command is one of the known grammars."""
    kinds = set()
    for name in scenarios.SCENARIOS:
        for operation, text, many in generated(provider, name):
            if isinstance(operation, Execute) or many:
                continue
            kinds.update(k for k in check.check_batch(text) if k != "sqlglot")
    assert kinds == {"grammar: ADD CONSTRAINT ... DEFAULT ... FOR", "if: sqlglot",
                     "if: grammar: SET IDENTITY_INSERT"}


def test_examples_script_parses_batch_by_batch():
    from npa_migrations import MigrationExecutor

    script = MigrationExecutor(scenarios.URL, EXAMPLES).script(offline=True)
    batches = check.script_batches(script)
    assert len(batches) > 10
    for batch in batches:
        check.check_batch(batch)


@pytest.mark.parametrize("direction", ["up", "down"])
def test_server_test_migrations_render_and_parse(tmp_path, direction):
    """The migrations of the real-server tests, as an offline script (both directions)."""
    import textwrap

    from npa_migrations import MigrationExecutor

    folder = tmp_path / "m"
    folder.mkdir()
    for name, text in scenarios.SERVER_MIGRATIONS.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    executor = MigrationExecutor(scenarios.URL, folder)
    script = executor.script(offline=True, direction=direction,
                             steps=len(executor.discover()))
    batches = check.script_batches(script)
    assert len(batches) > 20
    for batch in batches:
        check.check_batch(batch)


@pytest.mark.parametrize("kind", ["idempotent", "from", "down"])
def test_offline_dba_scripts_parse_batch_by_batch(kind):
    """An idempotent script (its guarded blocks and the dynamic SQL they run), a range
    script and a rollback script of the examples."""
    from npa_migrations import MigrationExecutor

    examples = MigrationExecutor(scenarios.URL, EXAMPLES)
    ids = [s.id for s in examples.discover()]
    options = {"idempotent": {"idempotent": True}, "from": {"start": ids[0]},
               "down": {"direction": "down", "steps": len(ids)}}[kind]
    batches = check.script_batches(examples.script(offline=True, **options))
    kinds = [how for batch in batches for how in check.check_batch(batch)]
    assert kinds.count("guarded block") == (len(ids) if kind == "idempotent" else 0)
    assert check.unescape("N'it''s' + N'\\\nx'") == "it's\\\nx"


def test_idempotent_guard_runs_identity_insert_outside_exec(provider):
    """SET IDENTITY_INSERT set inside EXEC would end with it: it stays in the batch."""
    from npa_sqlserver import tsql

    batch = tsql.guarded_batch("NOT (EXISTS (SELECT * FROM h WHERE h.migration_id = N'x'))", [
        tsql.identity_insert("[t]", ["id"], on=True), "INSERT INTO [t] (id) VALUES (1)",
        tsql.identity_insert("[t]", ["id"], on=False)])
    lines = batch.splitlines()
    assert lines[2].startswith("    IF EXISTS (SELECT 1 FROM sys.identity_columns")
    assert lines[3] == "    EXEC(N'INSERT INTO [t] (id) VALUES (1)');"
    assert check.check_batch(batch) == ["guarded block"]


def test_engine_statements_parse(provider):
    """History table, lock and session statements the engine runs itself."""
    from npa_migrations.engine.history import HistoryStore

    history = HistoryStore(provider, "npa_migrations_history")
    texts = [*history.statements(),
             history.insert_script("20250101000000_X", "sha256:00"),
             history.delete_script("20250101000000_X"),
             provider.driver.begin_statement, provider.driver.commit_statement, provider.driver.rollback_statement,
             SESSION_SETUP, "SET LOCK_TIMEOUT 5000", "SET LOCK_TIMEOUT -1",
             locking.GET_APPLOCK, locking.RELEASE_APPLOCK, locking.HOLDER,
             "SELECT DB_NAME()", "SELECT DB_ID(?)", "CREATE DATABASE [npa test]",
             "SELECT @@OPTIONS, @@LOCK_TIMEOUT"]
    for text in texts:
        check.check_batch(text)


# hostile identifiers round-trip through sqlglot's own reading of the names ----------------
def test_hostile_names_read_back_exactly(provider):
    texts = [text for _op, text, _many in generated(provider, "hostile_identifiers")]
    create = next(t for t in texts if t.startswith("CREATE TABLE [we"))
    tree = check.parse(create)
    assert tree.find(exp.Table).name == scenarios.H_TABLE
    columns = [c.name for c in tree.find_all(exp.ColumnDef)]
    assert columns == ["id", "parent_id", *scenarios.H_COLUMNS]
    constraints = {c.name for c in tree.find_all(exp.Constraint)}
    assert {scenarios.H_UNIQUE, scenarios.H_FK, scenarios.H_CHECK} <= constraints
    in_schema = next(t for t in texts if t.startswith("CREATE TABLE [sch"))
    table = check.parse(in_schema).find(exp.Table)
    assert (table.db, table.name) == (scenarios.H_SCHEMA, scenarios.H_TABLE)
    index = next(t for t in texts if t.startswith("CREATE INDEX"))
    assert check.parse(index).this.name == scenarios.H_INDEX
    rename = next(t for t in texts if t.startswith("EXEC sp_rename") and "COLUMN" in t)
    literals = [n.this for n in check.parse(rename).find_all(exp.National)]
    assert literals == [f"[{scenarios.H_TABLE.replace(']', ']]')}].[sel ect]", 'new "name;']


# dynamic SQL ------------------------------------------------------------------------------
INDEXES = [
    {"name": "ix a]b 'c'", "type": 2, "is_unique": True, "is_unique_constraint": False,
     "filter_definition": "([sku] IS NOT NULL)", "keys": "[sku] DESC, [name]",
     "include": "[price]"},
    {"name": "UQ__products__1]2", "type": 2, "is_unique": True, "is_unique_constraint": True,
     "filter_definition": None, "keys": "[sku]", "include": None},
    {"name": "cx", "type": 1, "is_unique": False, "is_unique_constraint": False,
     "filter_definition": None, "keys": "[sku]", "include": None},
]
VARIABLES = {"column": 3, "nullable": True, "type": "nvarchar", "length": 80,
             "collation": "SQL_Latin1_General_CP1_CI_AS", "default": "DF__products__sku__5]';x",
             "definition": "(N'it''s; [x]')"}


def batches_of(provider, name):
    for operation, text, many in generated(provider, name):
        if not many and not isinstance(operation, Execute) and "sp_executesql" in text:
            yield operation, text


@pytest.mark.parametrize("name", ["drop_column", "alter_column_type", "alter_column_nullable",
                                  "alter_column_several", "alter_column_server_default",
                                  "create_index", "hostile_identifiers"])
@pytest.mark.parametrize("nullable", [True, False])
@pytest.mark.parametrize("with_default", [True, False])
def test_dynamic_sql_is_valid(provider, name, nullable, with_default):
    variables = dict(VARIABLES, nullable=nullable)
    if not with_default:
        variables["default"] = variables["definition"] = None
    variables["filter"] = "[barcode] IS NOT NULL" if nullable else None
    batches = list(batches_of(provider, name))
    assert batches
    for _operation, batch in batches:
        for sql in check.simulate(batch, check.Catalog(variables, INDEXES)):
            check.check_batch(sql)


def test_alter_column_drops_and_recreates_indexes_around_the_change(provider):
    op = scenarios.operations("alter_column_several")[0]
    batch = provider.sql.generate(op, OFFLINE)[0].sql
    executed = check.simulate(batch, check.Catalog(VARIABLES, INDEXES))
    assert executed == [
        "ALTER TABLE products DROP CONSTRAINT [DF__products__sku__5]]';x]",
        "ALTER TABLE products DROP CONSTRAINT [UQ__products__1]]2]; "
        "DROP INDEX [ix a]]b 'c'] ON products; DROP INDEX [cx] ON products",
        "ALTER TABLE products ALTER COLUMN sku NVARCHAR(80) COLLATE "
        "SQL_Latin1_General_CP1_CI_AS NOT NULL",
        "CREATE CLUSTERED INDEX [cx] ON products ([sku]); "
        "ALTER TABLE products ADD CONSTRAINT [UQ__products__1]]2] UNIQUE NONCLUSTERED ([sku]); "
        "CREATE UNIQUE NONCLUSTERED INDEX [ix a]]b 'c'] ON products ([sku] DESC, [name]) "
        "INCLUDE ([price]) WHERE ([sku] IS NOT NULL)",
    ]
    # the new default is a statement of its own, after the batch
    assert provider.sql.generate(op, OFFLINE)[1].sql == (
        "ALTER TABLE products ADD CONSTRAINT [DF_products_sku] DEFAULT N'none' FOR sku")


def test_alter_column_in_place_leaves_indexes_alone(provider):
    """A longer nvarchar on a column that is already NOT NULL: SQL Server changes it in
    place, so nothing but the default is touched."""
    op = scenarios.operations("alter_column_several")[0]
    batch = provider.sql.generate(op, OFFLINE)[0].sql
    executed = check.simulate(batch, check.Catalog(dict(VARIABLES, nullable=False), INDEXES))
    assert [s.split(" ")[0:3] for s in executed] == [
        ["ALTER", "TABLE", "products"], ["ALTER", "TABLE", "products"]]
    assert "ALTER COLUMN" in executed[1]


def test_alter_column_keeps_default_and_nullability(provider):
    op = scenarios.operations("alter_column_type")[0]  # name -> String(400), nothing else
    batch = provider.sql.generate(op, OFFLINE)[0].sql
    for nullable, word in ((True, " NULL"), (False, " NOT NULL")):
        executed = check.simulate(batch, check.Catalog(dict(VARIABLES, nullable=nullable)))
        assert executed[1].endswith("NVARCHAR(400) COLLATE SQL_Latin1_General_CP1_CI_AS" + word)
        assert executed[-1] == ("ALTER TABLE products ADD CONSTRAINT [DF__products__sku__5]]';x] "
                                "DEFAULT (N'it''s; [x]') FOR name")


def test_unique_index_filter(provider):
    op = scenarios.operations("create_index")[2]
    batch = provider.sql.generate(op, OFFLINE)[0].sql
    assert check.simulate(batch, check.Catalog({"filter": "[barcode] IS NOT NULL"})) == [
        "CREATE UNIQUE INDEX ux_products_barcode ON products (barcode) "
        "WHERE [barcode] IS NOT NULL"]
    assert check.simulate(batch, check.Catalog({})) == [
        "CREATE UNIQUE INDEX ux_products_barcode ON products (barcode)"]


def test_hostile_alter_column(provider):
    op = next(o for o in scenarios.operations("hostile_identifiers")
              if o.kind == "alter_column" and o.column_name == "apos'trophe")
    batch = provider.sql.generate(op, OFFLINE)[0].sql
    executed = check.simulate(batch, check.Catalog(
        dict(VARIABLES, default="DF x]y", type="nvarchar", length=80), INDEXES[:1]))
    table = '[we"ird; tab\'le [x]]]'
    assert executed == [
        f"ALTER TABLE {table} DROP CONSTRAINT [DF x]]y]",
        f"DROP INDEX [ix a]]b 'c'] ON {table}",
        f"ALTER TABLE {table} ALTER COLUMN [apos'trophe] NVARCHAR(80) COLLATE "
        "SQL_Latin1_General_CP1_CI_AS NOT NULL",
        f"CREATE UNIQUE NONCLUSTERED INDEX [ix a]]b 'c'] ON {table} ([sku] DESC, [name]) "
        "INCLUDE ([price]) WHERE ([sku] IS NOT NULL)",
    ]
    for sql in executed:
        check.check_batch(sql)


def test_go_separated_custom_sql_is_sent_batch_by_batch(provider):
    batches = provider.sql.split_statements(
        "CREATE VIEW v AS SELECT 1 AS x\nGO\n-- GO in a comment\n"
        "CREATE PROCEDURE p AS\nBEGIN\n  SELECT 'GO\nGO';\n  SELECT 2;\nEND\ngo 2\n")
    assert batches[0] == "CREATE VIEW v AS SELECT 1 AS x"
    assert batches[1] == batches[2]
    assert batches[1].startswith("-- GO in a comment\nCREATE PROCEDURE p AS")
    assert len(batches) == 3
    tree = sqlglot.parse(batches[1], read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    assert not any(isinstance(t, exp.Command) for t in tree)


def test_nstring_round_trips_through_sqlglot():
    for value in ["plain", "it's", "a\\\nb", "a\\\r\nb", "日本語", "x]'\"; --"]:
        literal = tsql.nstring(value)
        tree = check.parse(f"SELECT {literal}")
        parts = [n.this for n in tree.find_all(exp.National)]
        assert "".join(parts) == value, (value, literal)
