"""Every statement the provider generates parses as Oracle SQL (sqlglot, ``oracle``
dialect, errors raised), or -- for PL/SQL and the few constructs sqlglot cannot read --
passes the stricter checks of :mod:`oracle_sqlcheck`.

Covered: every scenario operation (ordinary and hostile identifiers), both directions of
the example and hostile migration folders, each statement as executed (bound
parameters) and as printed in a ``--sql`` script, the history table, the event log, the
lock table and the ``DBMS_LOCK`` blocks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import oracle_scenarios as scenarios
from npa_migrations import MigrationExecutor
from oracle_sqlcheck import SqlCheckError, check_plsql, check_sql

from npa_oracle import sqltext
from npa_oracle.locking import ALLOCATE, CURRENT_SCHEMA, HOLDER, RELEASE, REQUEST
from npa_migrations.provider import OFFLINE
from npa_migrations.engine.planner import plan_steps

TESTS = Path(__file__).parent
EXAMPLES = TESTS.parents[2] / "examples" / "migrations"
HOSTILE = TESTS / "migrations_hostile"


def check(sql: str) -> str:
    """Check one statement as the driver receives it (PL/SQL keeps ``END;``)."""
    if sqltext.is_plsql(sql):
        assert sql.rstrip().endswith(";"), f"PL/SQL must end with 'END;': {sql!r}"
        check_plsql(sql)
        return "plsql"
    return check_sql(sql)


def check_script_text(text: str) -> None:
    """Check a statement as printed in a SQL*Plus script: split it back the way
    SQL*Plus does and check each piece."""
    for piece in sqltext.split_oracle(text):
        check(piece)


def provider():
    from npa_migrations.engine.target import parse_url
    from npa_migrations.provider.registry import resolve_provider

    return resolve_provider(parse_url(scenarios.URL))


def folder_statements(folder: Path) -> list[tuple[str, object]]:
    executor = MigrationExecutor(scenarios.URL, str(folder))
    p = executor.provider
    found = []
    for script in executor.discover():
        for direction in ("up", "down"):
            operations = script.up_operations() if direction == "up" else \
                script.down_operations()
            for step in plan_steps(p, list(operations or [])):
                for statement in step.render(OFFLINE):
                    found.append((f"{script.id} {direction}: {step.describe()}", statement))
    return found


@pytest.mark.parametrize("name", sorted(scenarios.CASES))
def test_scenario_statements_parse(name):
    p = provider()
    count = 0
    for step in plan_steps(p, scenarios.operations(name)):
        for statement in step.render(OFFLINE):
            if not statement.many or isinstance(statement.script, str) or \
                    not str(statement.render()).startswith("--"):
                check_script_text(statement.render())
            check(statement.sql)
            count += 1
    if name not in ("alter_column_nullable_known",):
        assert count, f"scenario {name} rendered no statement"


@pytest.mark.parametrize("folder", [EXAMPLES, HOSTILE], ids=["examples", "hostile"])
def test_migration_folder_statements_parse(folder):
    statements = folder_statements(folder)
    assert statements
    for where, statement in statements:
        try:
            check(statement.sql)
            text = statement.render()
            if not text.lstrip().startswith("--"):
                check_script_text(text)
        except SqlCheckError as exc:
            raise AssertionError(f"{where}: {exc}") from None


@pytest.mark.parametrize("folder", [EXAMPLES, HOSTILE], ids=["examples", "hostile"])
@pytest.mark.parametrize("kind", ["idempotent", "from", "down"])
def test_offline_dba_scripts_parse(folder, kind):
    """Every statement of an idempotent script (its PL/SQL guard blocks, and the dynamic SQL
    they run), a range script and a rollback script, split back the SQL*Plus way."""
    executor = MigrationExecutor(scenarios.URL, str(folder))
    ids = [s.id for s in executor.discover()]
    options = {"idempotent": {"idempotent": True}, "from": {"start": ids[0]},
               "down": {"direction": "down", "steps": len(ids)}}[kind]
    script = executor.script(offline=True, **options)
    settings, body = script.split("\n\n", 1)  # SQL*Plus settings, then SQL
    assert settings.startswith("WHENEVER SQLERROR EXIT FAILURE ROLLBACK")
    pieces = sqltext.split_oracle(body)
    assert len(pieces) > len(ids)
    guards = 0
    for piece in pieces:
        try:
            check(piece)
        except SqlCheckError as exc:
            raise AssertionError(f"{kind} script of {folder.name}: {exc}") from None
        guards += "  npa_pending NUMBER;\nBEGIN" in piece
    assert guards == (len(ids) if kind == "idempotent" else 0)


def test_engine_tables_parse():
    from npa_migrations.engine.eventlog import event_log
    from npa_migrations.engine.history import HistoryStore
    from npa_oracle.locking import OracleTableLock

    p = provider()
    history = HistoryStore(p)
    for sql in history.statements() + [
            history.insert_script("20250101000000_X", "sha256:x"),
            history.delete_script("20250101000000_X")]:
        check(sql)
    log = event_log(p, "npa_migrations_log")
    for sql in log.create_statements():
        check(sql)
    for attribute in ("_probe", "_insert", "_select"):
        value = getattr(log, attribute, None)
        if value is not None:
            check(getattr(value, "sql", value))
    lock = OracleTableLock(p, "npa_migrations_lock")
    for sql in (lock._create, lock._probe, lock._lock_table, lock._select.sql, lock._insert.sql,
                lock._take.sql, lock._renew.sql, lock._delete_own.sql, lock._delete_any.sql):
        check(sql)


def test_dbms_lock_blocks_parse():
    for block in (ALLOCATE, REQUEST, RELEASE):
        assert check(block) == "plsql"
    check(CURRENT_SCHEMA)
    check(HOLDER)


def test_session_statements_parse():
    from npa_oracle.provider import OracleProvider

    class Recorder:
        def __init__(self):
            self.sql = []

        def execute(self, sql, params=None):
            self.sql.append(sql)

    conn = Recorder()
    p = provider()
    assert isinstance(p, OracleProvider)
    p.driver.apply_ddl_lock_timeout(conn, 12.5)
    p.driver.apply_ddl_lock_timeout(conn, None)
    for sql in conn.sql:
        check(sql)


# the checker itself rejects what Oracle would reject ------------------------------------------
@pytest.mark.parametrize("bad", [
    "CREATE TABLE t (a INTEGER",
    "ALTER TABLE t ADD COLUMN",
    "ALTER TABLE t MODIFY (c NUMBER(10) NOT)",
    "ALTER TABLE t MODIFY c NUMBER(10)",
    "CREATE INDEX s.ix ON s.t (a",
    "CREATE UNIQUE INDEX s.ix ON s.t (a b c)",
    "CREATE USER x NO AUTHENTICATION QUOTA 10M ON users",
    "LOCK TABLE t IN SHARE MODE",
    "DROP USER",
    "INSERT INTO t (a) VALUES (:1",
    "SELECT 1 FROM t;",
])
def test_checker_rejects_invalid_sql(bad):
    with pytest.raises(SqlCheckError):
        check_sql(bad)


@pytest.mark.parametrize("bad", [
    "BEGIN NULL END;",
    "BEGIN EXECUTE IMMEDIATE 'ALTER TABLE t MODIFY (c NOT)'; END;",
    "BEGIN IF 1 = 1 THEN NULL; END; END;",
    "BEGIN\n  EXECUTE IMMEDIATE 'DROP TABLE t';\nEXCEPTION\n  WHEN OTHERS THEN\n"
    "    IF SQLCODE != -942 THEN\n      RAISE;\n  END IF;\nEND",
    "DECLARE x VARCHAR2(10) BEGIN NULL; END;",
    "BEGIN UPDATE t SET a = WHERE b = 1; END;",
    "BEGIN :r := DBMS_LOCK.REQUEST(lockhandle => ); END;",
])
def test_checker_rejects_invalid_plsql(bad):
    with pytest.raises(SqlCheckError):
        check_plsql(bad)


def test_ignore_errors_block_round_trips_hostile_sql():
    inner = 'ALTER TABLE "it\'s; a \'\'x\'\' table" MODIFY ("a;b" NULL)'
    block = sqltext.ignore_errors(inner, 1451)
    assert check_plsql(block) == [inner]
