"""Raw SQL (``.sql`` migrations, ``b.execute``), ignores and settings."""

from __future__ import annotations

import pytest

from npa_lint import LintSettings
from npa_lint.sqlscan import scan
from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError


@pytest.mark.parametrize("sql,expected", [
    ('ALTER TABLE "app"."users" ADD COLUMN email varchar(50) NOT NULL', ["add-not-null-column"]),
    ("ALTER TABLE users ADD email varchar(50) NOT NULL DEFAULT ''", []),
    ("ALTER TABLE users ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY NOT NULL",
     ["rewrite-large-table"]),
    ("ALTER TABLE users ADD CONSTRAINT uq UNIQUE (email)", ["rewrite-large-table"]),
    ("ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES b (id) NOT VALID", []),
    ("ALTER TABLE users DROP COLUMN age, DROP CONSTRAINT ck_age", ["drop-column"]),
    ("ALTER TABLE users ALTER COLUMN age DROP DEFAULT", []),
    ("ALTER TABLE users ALTER COLUMN age TYPE bigint", ["rewrite-large-table"]),
    ("ALTER TABLE users ALTER COLUMN age SET NOT NULL", ["rewrite-large-table"]),
    ("ALTER TABLE users RENAME COLUMN name TO full_name", ["rename-column"]),
    ("ALTER TABLE users RENAME TO people", ["rename-table"]),
    ("DROP TABLE IF EXISTS users, app.orders", ["drop-table", "drop-table"]),
    ("CREATE INDEX ix_name ON users (name)", ["create-index-not-concurrently"]),
    ("CREATE UNIQUE INDEX CONCURRENTLY ix_name ON users (name)", []),
    ("-- DROP TABLE users\nSELECT 'DROP TABLE users'", []),
    ("INSERT INTO users (name) VALUES ('ALTER TABLE x DROP COLUMN y')", []),
])
def test_postgres_statements(sql, expected):
    assert [hit.rule for hit in scan(sql, "postgresql")] == expected


@pytest.mark.parametrize("sql,expected", [
    ("CREATE INDEX ix_name ON users (name)", []),
    ("ALTER TABLE `users` MODIFY COLUMN `name` varchar(20) NOT NULL", ["rewrite-large-table"]),
    ("ALTER TABLE users CHANGE name full_name varchar(20)",
     ["rewrite-large-table", "rename-column"]),
    ("RENAME TABLE users TO people", ["rename-table"]),
])
def test_mysql_statements(sql, expected):
    assert [hit.rule for hit in scan(sql, "mysql")] == expected


def test_sql_server_statements():
    assert [h.rule for h in scan("EXEC sp_rename 'dbo.users.name', 'full_name', 'COLUMN'",
                                 "mssql")] == ["rename-column"]
    assert [h.rule for h in scan("ALTER TABLE [users] ALTER COLUMN [name] nvarchar(20) NOT NULL",
                                 "mssql")] == ["rewrite-large-table"]


def test_hits_name_the_table():
    [hit] = scan('ALTER TABLE "app"."user list" DROP COLUMN "e mail"', "postgresql")
    assert hit.table == ("app", "user list") and "'e mail'" in hit.message


# through the linter ---------------------------------------------------------------------
PG = "postgresql://u@localhost/db"


def test_sql_migration_tables_created_earlier_are_new(run_lint, make_script):
    script = make_script("20250101000000_Sql", ops.Execute("CREATE TABLE t (a int)"),
                         ops.Execute("ALTER TABLE t ADD COLUMN b int NOT NULL"))
    assert run_lint(PG, script) == []


def test_execute_for_another_database_is_skipped(run_lint, make_script):
    script = make_script("20250101000000_Sql",
                         ops.Execute("ALTER TABLE t DROP COLUMN b", dialects=("mysql",)))
    assert run_lint(PG, script) == []
    assert [f.rule for f in run_lint("mysql+pymysql://u@h/db", script)] == ["drop-column"]


def test_statement_directive_ignores_the_rule_for_that_statement(run_lint, make_script):
    script = make_script("20250101000000_Sql",
                         ops.Execute("-- npa:lint-ignore drop-column\nALTER TABLE t DROP COLUMN b"),
                         ops.Execute("ALTER TABLE t DROP COLUMN c"))
    [finding] = run_lint(PG, script)
    assert finding.rule == "drop-column" and "'c'" in finding.message
    assert finding.operation == "ALTER TABLE t DROP COLUMN c"


def test_sql_file_directive_ignores_for_the_whole_migration(run_lint, make_script, folder):
    path = folder("20250101000000_drop.sql", """
        -- npa:lint-ignore drop-table, drop-column
        -- npa:up
        ALTER TABLE t DROP COLUMN b;
        DROP TABLE u;
        ALTER TABLE t RENAME COLUMN a TO z;
        """)
    from npa_migrations.builtin.sqlfile import load_sql_migration

    script = load_sql_migration(path)
    assert [f.rule for f in run_lint(PG, script)] == ["rename-column"]


def test_python_lint_ignore_attribute(run_lint, make_script):
    class Drop:
        lint_ignore = {"drop-table"}

    class All:
        lint_ignore = "all"

    drop = ops.DropTable("t")
    assert run_lint(PG, make_script("20250101000000_A", drop, migration_class=Drop)) == []
    assert run_lint(PG, make_script("20250101000000_A", drop, migration_class=All)) == []


def test_unknown_rule_in_lint_ignore_is_a_clear_error(run_lint, make_script):
    class Typo:
        lint_ignore = {"drop-tabel"}

    with pytest.raises(ConfigurationError, match=r"20250101000000_A.*'drop-tabel'.*Known rules"):
        run_lint(PG, make_script("20250101000000_A", ops.DropTable("t"), migration_class=Typo))


def test_empty_directive_is_an_error(run_lint, make_script):
    with pytest.raises(ConfigurationError, match="names no rule"):
        run_lint(PG, make_script("20250101000000_A", ops.Execute("-- npa:lint-ignore\nSELECT 1")))


# settings -------------------------------------------------------------------------------
def test_settings_disable_and_severity(run_lint, make_script):
    script = make_script("20250101000000_A", ops.DropTable("t"), ops.DropColumn("u", "c"))
    settings = LintSettings.from_config({"lint": {"disable": ["drop-table"],
                                                  "severity": {"drop-column": "error"}}})
    [finding] = run_lint(PG, script, settings=settings)
    assert (finding.rule, finding.severity) == ("drop-column", "error")


@pytest.mark.parametrize("section,match", [
    ({"disable": ["nope"]}, "unknown lint rule"),
    ({"severity": {"drop-table": "fatal"}}, "use one of error, warning, info"),
    ({"large_table_rows": -1}, "whole number"),
    ({"fail_on": "sometimes"}, "fail_on"),
    ({"disabled": []}, "unknown setting"),
])
def test_bad_settings_are_configuration_errors(section, match):
    with pytest.raises(ConfigurationError, match=match):
        LintSettings.from_config({"lint": section})


def test_fail_on():
    assert LintSettings().fails(["error"]) and not LintSettings().fails(["warning"])
    assert LintSettings(fail_on="warning").fails(["warning"])
    assert not LintSettings(fail_on="never").fails(["error"])
