"""Provider resolution, capabilities, identifiers, types, literals and splitting."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import mssql_scenarios as scenarios
from npa_migrations import operations as ops
from npa_migrations.builder import MigrationBuilder
from npa_migrations.engine.target import DatabaseTarget, parse_url
from npa_migrations.errors import ConfigurationError
from npa_migrations.engine.history import HistoryStore
from npa_sqlserver import tsql
from npa_sqlserver.provider import SqlServerProvider
from npa_migrations.provider import OFFLINE
from npa_migrations.engine.planner import plan_steps
from npa_migrations.provider.registry import registrations, resolve_provider


@pytest.fixture
def provider():
    return DatabaseTarget(scenarios.URL).provider


def sql_of(provider, build):
    b = MigrationBuilder()
    build(b)
    out = []
    for step in plan_steps(provider, b.operations):
        out += [s.render() for s in step.render(OFFLINE)]
    return out


# resolution -------------------------------------------------------------------------------
def test_plugin_resolves_mssql_urls():
    provider = resolve_provider(parse_url(scenarios.URL))
    assert isinstance(provider, SqlServerProvider)
    assert registrations()["mssql"].plugin == "sqlserver"
    bare = DatabaseTarget("mssql://u:p@h/db?driver=ODBC+Driver+18+for+SQL+Server").provider
    assert bare.url.drivername == "mssql+pyodbc"
    with pytest.raises(ConfigurationError, match="through pyodbc, not 'pymssql'"):
        DatabaseTarget("mssql+pymssql://u:p@h/db")


def test_capabilities_and_statements(provider):
    caps = provider.capabilities
    assert caps.transactional_ddl and caps.advisory_lock and caps.schemas
    assert caps.alter_in_place and caps.drop_column and caps.create_database
    assert provider.driver.begin_statement == "BEGIN TRANSACTION"
    assert provider.driver.commit_statement == "COMMIT TRANSACTION"
    assert provider.driver.rollback_statement == "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
    assert provider.sql.script_terminator == "\nGO"
    assert provider.sql.bracket_identifiers is True
    assert {"mssql", "sqlserver"} <= provider.names
    assert provider.display_url() == scenarios.URL.replace("secret", "***")
    assert provider.database_name() == "shop"


def test_execute_for_this_provider_only(provider):
    assert sql_of(provider, lambda b: b.execute("SELECT 1", dialects="sqlserver")) == ["SELECT 1"]
    assert sql_of(provider, lambda b: b.execute("SELECT 1", dialects="mssql")) == ["SELECT 1"]
    assert sql_of(provider, lambda b: b.execute("SELECT 1", dialects="postgresql")) == []


# identifiers ------------------------------------------------------------------------------
def test_identifier_length_counts_characters(provider):
    assert provider.sql.max_identifier_length() == 128
    assert provider.sql.check_identifier("é" * 128, "table")  # 256 bytes, 128 characters
    with pytest.raises(ConfigurationError, match="129 characters long; SQL Server allows at most"):
        provider.sql.check_identifier("x" * 129, "table")
    with pytest.raises(ConfigurationError, match="empty"):
        provider.sql.check_identifier("", "column")
    with pytest.raises(ConfigurationError, match="long"):
        sql_of(provider, lambda b: b.rename_table("t", "y" * 129))


def test_quoting_escapes_closing_brackets(provider):
    assert provider.sql.quote("a]b") == "[a]]b]"
    assert provider.sql.quote("select") == "[select]"
    assert provider.sql.table_name("t", "a.b") == "[a.b].t"
    assert provider.sql.table_name("t]", "s]") == "[s]]].[t]]]"


def test_default_constraint_names_fit():
    assert tsql.default_constraint_name("items", "status") == "DF_items_status"
    long = tsql.default_constraint_name("t" * 100, "c" * 100)
    assert len(long) == 128 and long.startswith("DF_ttt")


# alter_column -----------------------------------------------------------------------------
def test_nullable_alone_needs_existing_type(provider):
    with pytest.raises(ConfigurationError, match="existing_type=") as error:
        sql_of(provider, lambda b: b.alter_column("items", "note", nullable=False))
    assert "restates the column's type" in str(error.value)


def test_alter_column_parts(provider):
    statements = sql_of(provider, lambda b: b.alter_column(
        "items", "note", type_=sa.Integer, nullable=True, server_default=sa.text("0"),
        new_column_name="amount"))
    assert len(statements) == 3
    assert "ALTER COLUMN note INTEGER' + N' NULL'" in statements[0]
    assert "COLLATE" not in statements[0]  # not a character type
    assert "ADD CONSTRAINT ' + QUOTENAME(@default)" not in statements[0]  # replaced below
    assert statements[1] == "ALTER TABLE items ADD CONSTRAINT [DF_items_note] DEFAULT 0 FOR note"
    assert statements[2] == ("EXEC sp_rename @objname = N'items.note', @newname = N'amount', "
                             "@objtype = 'COLUMN'")


def test_alter_column_explicit_collation_is_not_overridden(provider):
    (statement,) = sql_of(provider, lambda b: b.alter_column(
        "items", "code", type_=sa.String(10, collation="Latin1_General_BIN2")))
    assert "NVARCHAR(10) COLLATE Latin1_General_BIN2'" in statement
    assert "@collation, N'')" not in statement


def test_drop_default_only(provider):
    statements = sql_of(provider, lambda b: b.alter_column("items", "note", server_default=None))
    assert len(statements) == 1 and "DROP CONSTRAINT ' + QUOTENAME(@default)" in statements[0]


# types and literals -----------------------------------------------------------------------
@pytest.mark.parametrize("type_, expected", [
    (sa.String(20), "NVARCHAR(20)"), (sa.String(), "NVARCHAR(max)"), (sa.Text(), "NVARCHAR(max)"),
    (sa.Unicode(5), "NVARCHAR(5)"), (sa.VARCHAR(5), "VARCHAR(5)"), (sa.CHAR(2), "CHAR(2)"),
    (sa.DateTime(), "DATETIME2"), (sa.DateTime(timezone=True), "DATETIMEOFFSET"),
    (sa.DATETIME(), "DATETIME"), (sa.Date(), "DATE"), (sa.Time(), "TIME"),
    (sa.Boolean(), "BIT"), (sa.LargeBinary(), "VARBINARY(max)"), (sa.Uuid(), "UNIQUEIDENTIFIER"),
    (sa.Enum("a", "bcd"), "NVARCHAR(3)"), (sa.JSON(), "NVARCHAR(max)"),
    (sa.Numeric(10, 2), "NUMERIC(10, 2)"), (sa.BigInteger(), "BIGINT"),
])
def test_type_mapping(provider, type_, expected):
    assert provider.sql.compile_type(type_) == expected


@pytest.mark.parametrize("value, expected", [
    ("it's", "N'it''s'"), ("日本", "N'日本'"),
    (dt.datetime(2025, 1, 2, 3, 4, 5, 6), "CAST(N'2025-01-02T03:04:05.000006' AS DATETIME2)"),
    (dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc),
     "CAST(N'2025-01-02T00:00:00+00:00' AS DATETIMEOFFSET)"),
    (dt.date(2025, 1, 2), "CAST(N'2025-01-02' AS DATE)"),
    (dt.time(1, 2, 3), "CAST(N'01:02:03' AS TIME)"),
    (b"\x00\xff", "0x00FF"), (b"", "0x"), (True, "1"), (None, "NULL"),
])
def test_literals(provider, value, expected):
    element = sa.null() if value is None else sa.literal(value)
    assert provider.sql.compile_literal(element) == expected


def test_server_defaults(provider):
    assert provider.sql.render_default("x'y") == "N'x''y'"
    assert provider.sql.render_default(sa.text("getdate()")) == "getdate()"
    assert provider.sql.render_default(7) == "7"
    assert provider.sql.render_default(sa.func.current_timestamp()) == "CURRENT_TIMESTAMP"


def test_referential_actions(provider):
    def fk(ondelete):
        return lambda b: b.create_foreign_key("fk", "a", "b", ["x"], ["id"], ondelete=ondelete)

    assert sql_of(provider, fk("restrict"))[0].endswith("ON DELETE NO ACTION")
    assert sql_of(provider, fk("set null"))[0].endswith("ON DELETE SET NULL")
    with pytest.raises(ConfigurationError, match="SQL Server has no .ON DELETE CASCADE NOW."):
        sql_of(provider, fk("CASCADE NOW"))
    with pytest.raises(ConfigurationError, match="deferrable"):
        sql_of(provider, lambda b: b.create_table(
            "t", sa.Column("id", sa.Integer, primary_key=True),
            sa.ForeignKeyConstraint(["id"], ["u.id"], deferrable=True)))


def test_history_table_on_sql_server(provider):
    history = HistoryStore(provider, "npa_migrations_history")
    assert "applied_at DATETIME2 NOT NULL" in history._create
    assert "success BIT NOT NULL" in history._create
    assert "migration_id NVARCHAR(255) NOT NULL" in history._create
    assert history._probe == "SELECT 1 FROM npa_migrations_history WHERE 1 = 0"
    columns = len(history.table.columns)
    assert history._insert.sql.endswith(f"VALUES ({', '.join(['?'] * columns)})")
    assert "OUTPUT" not in history._insert.sql
    params = history._insert.params(history.values("m", "c", 5, True))
    assert params[5] in (1, True)
    script = history.insert_script("20250101000000_X", "sha256:0")
    assert "sysutcdatetime()" in script  # the time the script runs, in UTC


# GO splitting and literals ----------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("SELECT 1\nGO\nSELECT 2", ["SELECT 1", "SELECT 2"]),
    ("SELECT 1\n  go  \nSELECT 2\nGO", ["SELECT 1", "SELECT 2"]),
    ("SELECT 1\nGO 3\n", ["SELECT 1"] * 3),
    ("SELECT 'x\nGO\ny'", None),
    ("/* a\nGO\n /* nested\nGO\n */ still\nGO\n*/ SELECT 1", None),
    ("-- GO\nSELECT 1", None),
    ("GOTO label\nSELECT 1", None),
    ("SELECT [x\nGO\n]", None),
    ("SELECT 1\nGO\n-- only a comment\nGO\n", ["SELECT 1"]),
])
def test_split_go(text, expected):
    assert tsql.split_go(text) == expected


def test_semicolon_splitting_respects_brackets(provider):
    assert provider.sql.split_statements("SELECT [a;b] FROM t; SELECT 2") == [
        "SELECT [a;b] FROM t", "SELECT 2"]
    assert provider.sql.split_statements(
        "BEGIN TRY SELECT 1; SELECT 2; END TRY BEGIN CATCH SELECT 3; END CATCH") == [
        "BEGIN TRY SELECT 1; SELECT 2; END TRY BEGIN CATCH SELECT 3; END CATCH"]


def test_nstring_line_continuation():
    assert tsql.nstring("a\\\nb") == "N'a\\' + N'\nb'"


def test_every_statement_drains_its_results(provider):
    from npa_sqlserver.tsql import drain_results

    b = MigrationBuilder()
    scenarios.hostile(b)
    for step in plan_steps(provider, b.operations):
        for statement in step.render(OFFLINE):
            assert statement.many or statement.check is drain_results


def test_operations_all_have_sql(provider):
    """Every operation kind of the core has a T-SQL rendering here."""
    kinds = {cls.kind for cls in vars(ops).values()  # concrete ones declare their kind
             if isinstance(cls, type) and issubclass(cls, ops.MigrationOperation)
             and "kind" in vars(cls) and cls is not ops.MigrationOperation}
    rendered = set()
    for name in scenarios.SCENARIOS:
        rendered |= {op.kind for op in scenarios.operations(name)}
    assert kinds <= rendered, kinds - rendered


def test_schema_rules_float_and_time_spellings():
    rules = DatabaseTarget("mssql+pyodbc://sa:pw@db/app?driver=ODBC+Driver+18+for+SQL+Server"
                           ).provider.schema_rules
    assert rules.compare_type("FLOAT(53)", "FLOAT")
    assert not rules.compare_type("FLOAT(24)", "FLOAT")
    assert rules.normalise_default("(getdate())") == rules.normalise_default("SYSDATETIME()")


def test_a_query_timeout_is_the_statement_timeout(provider):
    driver = provider.driver
    assert driver.is_statement_timeout(Exception("HYT00", "[HYT00] Query timeout expired (0)"))
    assert not driver.is_statement_timeout(Exception("42S02", "[42S02] Invalid object name"))
