"""No transactional DDL: failures are recorded truthfully, all-in-one is refused, data
statements still commit with their migration, timeouts apply."""

from __future__ import annotations

import threading
import time

import pytest

from npa_migrations.errors import ConfigurationError, ValidationError

from mysql_support import q


def test_third_statement_fails_is_recorded_and_blocks_later_runs(my):
    a, b_, c = my.name("a"), my.name("b"), my.name("c")
    missing = my.name("missing")
    my.migration("20250101000000_Partial", f"""
        b.create_table({a!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.create_table({b_!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.execute("INSERT INTO {missing} (id) VALUES (1)")
        b.create_table({c!r}, sa.Column("id", sa.Integer, primary_key=True))
    """, f"""
        b.drop_table({c!r})
        b.drop_table({b_!r})
        b.drop_table({a!r})
    """)
    result = my.executor().execute()
    assert not result.success
    message = result.errors[0].message
    assert "20250101000000_Partial" in message and f"INSERT INTO {missing}" in message
    assert "2 of 4 operation(s) took effect" in message and "npa migrate repair" in message
    ((migration_id, success, steps_done, error),) = my.history()
    assert (migration_id, success, steps_done) == ("20250101000000_Partial", 0, 2)
    assert f"INSERT INTO {missing} (id) VALUES (1)" in error and "1146" in error
    assert {a, b_} <= my.tables() and c not in my.tables()  # the truth on the server

    # a later run stops before doing anything, naming the migration and the way out
    with pytest.raises(ValidationError) as info:
        my.executor().execute()
    assert "20250101000000_Partial" in str(info.value)
    assert "npa migrate repair" in str(info.value)
    assert {a, b_} <= my.tables() and c not in my.tables()

    # repair --undo-partial drops what took effect, and the migration is pending again
    report = my.executor().repair("undo_partial")
    assert report.success, report.failed
    assert not ({a, b_} & my.tables()) and my.history() == []


def test_data_only_failure_rolls_back_and_leaves_no_trace(my):
    """Without DDL the migration's transaction is real: two inserts before a failing
    third are rolled back with the record of them, so the migration left no trace and
    does not block the next run (no repair needed)."""
    t = my.name("d")
    my.migration("20250101000000_Table", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    my.migration("20250102000000_Rows", f"""
        b.execute("INSERT INTO {t} VALUES (1)")
        b.bulk_insert({t!r}, [{{"id": 2}}])
        b.execute("INSERT INTO {t} VALUES (1)")
    """)
    result = my.executor().execute()
    assert not result.success and "Duplicate entry" in result.errors[0].message
    assert "left no trace" in result.errors[0].message
    assert "DDL" not in result.errors[0].message
    assert my.query(f"SELECT COUNT(*) FROM {q(t)}") == [(0,)]
    assert [row[:3] for row in my.history()] == [("20250101000000_Table", 1, None)]
    with pytest.raises(Exception, match="Duplicate entry"):  # the next run tries again
        raise my.executor().execute().errors[0].exception


def test_rows_after_an_implicit_commit_roll_back_with_their_record(my):
    """After DDL committed the transaction, later data statements run in a new one with
    the record of them: a failure rolls them back, and the record says only the DDL took
    effect -- which is the truth on the server."""
    t, u = my.name("x"), my.name("y")
    my.migration("20250101000000_Mixed", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.bulk_insert({t!r}, [{{"id": 1}}])
        b.execute("INSERT INTO {t} VALUES (1)")
        b.create_table({u!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    result = my.executor().execute()
    assert not result.success
    assert my.query(f"SELECT id FROM {q(t)}") == []
    assert [row[:3] for row in my.history()] == [("20250101000000_Mixed", 0, 1)]


def test_rows_before_a_failing_ddl_statement_are_recorded_with_it(my):
    """The record of plain DML waits in memory (one round trip per statement) and is
    written before a statement that may commit: a DDL statement that fails after its
    implicit commit leaves the rows and the record of them, in agreement."""
    t = my.name("w")
    my.migration("20250101000000_Rows", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.execute("INSERT INTO {t} VALUES (1)")
        b.execute("INSERT INTO {t} VALUES (2)")
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    result = my.executor().execute()
    assert not result.success and "3 of 4 operation(s) took effect" in result.errors[0].message
    assert my.query(f"SELECT id FROM {q(t)} ORDER BY id") == [(1,), (2,)]
    assert [row[:3] for row in my.history()] == [("20250101000000_Rows", 0, 3)]


def test_data_and_ddl_commit_with_the_history_row(my):
    """BEGIN, DML, DDL (implicit commit), DML, history row, COMMIT: the explicit COMMIT
    after the implicit one is harmless and everything is there."""
    t, u = my.name("p"), my.name("r")
    my.migration("20250101000000_Table", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    my.migration("20250102000000_Mixed", f"""
        b.bulk_insert({t!r}, [{{"id": 1}}, {{"id": 2}}])
        b.create_table({u!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.execute("INSERT INTO {u} SELECT id FROM {t}")
    """)
    result = my.executor().execute()
    assert result.success, result.errors
    assert my.query(f"SELECT COUNT(*) FROM {q(u)}") == [(2,)]
    assert [row[:2] for row in my.history()] == [("20250101000000_Table", 1),
                                                ("20250102000000_Mixed", 1)]


def test_all_in_one_is_refused_before_anything_runs(my):
    t = my.name("never")
    my.migration("20250101000000_Never", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    with pytest.raises(ConfigurationError) as info:
        my.executor(transaction_mode="all-in-one").execute()
    assert info.value.exit_code == 2
    assert "all-in-one" in str(info.value) and "per-migration" in str(info.value)
    assert not {t, my.history_table} & my.tables()


def test_statement_timeout(my):
    """MariaDB's max_statement_time stops any statement; MySQL's max_execution_time only
    read-only SELECTs -- both stop a long SELECT."""
    my.migration("20250101000000_Slow", "b.execute('SELECT SLEEP(5) FROM DUAL WHERE 1 = 1')")
    executor = my.executor(timeout_seconds=1)
    started = time.monotonic()
    result = executor.execute()
    elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed
    assert not result.success
    expected = ("max_statement_time exceeded" if executor.provider.is_mariadb
                else "maximum statement execution time exceeded")
    assert expected in result.errors[0].message


@pytest.mark.parametrize("where", ["option", "migration"])
def test_ddl_lock_timeout(my, where):
    """A migration whose ALTER waits behind another session's open transaction gives
    up after the DDL lock timeout (lock_wait_timeout) instead of hanging, and is
    recorded as failed with nothing done."""
    t = my.name("busy")
    my.query(f"CREATE TABLE {q(t)} (id INT PRIMARY KEY)")
    attr = "    lock_timeout_seconds = 1\n" if where == "migration" else ""
    path = my.migration("20250101000000_Alter", f"""
        b.add_column({t!r}, sa.Column("extra", sa.Integer))
    """)
    if attr:
        path.write_text(path.read_text().replace("(Migration):\n", "(Migration):\n" + attr))
    options = {"ddl_lock_timeout_seconds": 1} if where == "option" else {}
    options["ddl_lock_retries"] = 0
    blocker = my.connect()
    try:
        cur = blocker.cursor()
        cur.execute("BEGIN")
        cur.execute(f"SELECT * FROM {q(t)}")  # holds a metadata lock until COMMIT
        executor = my.executor(**options)
        started = time.monotonic()
        result = executor.execute()
        elapsed = time.monotonic() - started
    finally:
        blocker.close()
    assert not result.success
    assert "Lock wait timeout exceeded" in result.errors[0].message
    assert executor.provider.driver.is_lock_timeout(result.errors[0].exception)
    assert elapsed < 5, elapsed
    assert my.history() == []  # nothing took effect: no trace, the next run tries again


def test_ddl_lock_timeout_retried_while_nothing_took_effect(my):
    """The ALTER times out behind a long transaction before anything took effect: the
    migration runs again after a pause, and succeeds once the transaction ends."""
    t = my.name("retry")
    my.query(f"CREATE TABLE {q(t)} (id INT PRIMARY KEY)")
    my.migration("20250101000000_Alter", f"""
        b.add_column({t!r}, sa.Column("extra", sa.Integer))
    """)
    steps = []
    blocker = my.connect()
    cur = blocker.cursor()
    cur.execute("BEGIN")
    cur.execute(f"SELECT * FROM {q(t)}")  # holds a metadata lock until COMMIT
    releaser = threading.Timer(1.5, blocker.close)
    releaser.start()
    try:
        result = my.executor(ddl_lock_timeout_seconds=1, ddl_lock_retries=5,
                             on_progress=lambda m, step: steps.append(step.kind)).execute()
    finally:
        releaser.join()
    assert result.success, result.errors
    assert "retry" in steps
    assert [row[:2] for row in my.history()] == [("20250101000000_Alter", 1)]
    assert "extra" in [c[0] for c in my.query(f"SHOW COLUMNS FROM {q(t)}")]


@pytest.mark.parametrize("released", [True, False])
def test_ddl_lock_timeout_retried_from_what_took_effect(my, released):
    """An earlier operation of the migration committed (MySQL DDL commits implicitly)
    before the ALTER timed out: the retry continues from the ALTER -- the earlier table
    is never created twice -- and succeeds once the blocker goes, or is recorded failed
    at exactly that point when it never does."""
    t, made = my.name("busy2"), my.name("made")
    my.query(f"CREATE TABLE {q(t)} (id INT PRIMARY KEY)")
    my.migration("20250101000000_TwoSteps", f"""
        b.create_table({made!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.add_column({t!r}, sa.Column("extra", sa.Integer))
    """)
    steps = []
    blocker = my.connect()
    cur = blocker.cursor()
    cur.execute("BEGIN")
    cur.execute(f"SELECT * FROM {q(t)}")
    releaser = threading.Timer(1.5, blocker.close) if released else None
    if releaser:
        releaser.start()
    try:
        result = my.executor(ddl_lock_timeout_seconds=1, ddl_lock_retries=3,
                             on_progress=lambda m, step: steps.append(step.kind)).execute()
    finally:
        if releaser:
            releaser.join()
        else:
            blocker.close()
    assert "retry" in steps
    assert made in my.tables()
    if released:
        assert result.success, result.errors
        assert [row[:2] for row in my.history()] == [("20250101000000_TwoSteps", 1)]
        assert "extra" in [c[0] for c in my.query(f"SHOW COLUMNS FROM {q(t)}")]
    else:
        assert not result.success
        assert "waited too long for a table lock 4 time(s)" in result.errors[0].message
        assert [row[:3] for row in my.history()] == [("20250101000000_TwoSteps", 0, 1)]


def test_lock_wait_timeout_is_reset_between_migrations(my):
    """A migration's own lock_timeout_seconds does not leak into the next one."""
    t = my.name("lw")
    path = my.migration("20250101000000_First", f"""
        b.create_table({t!r}, sa.Column("v", sa.Integer))
    """)
    path.write_text(path.read_text().replace("(Migration):\n",
                                             "(Migration):\n    lock_timeout_seconds = 3\n"))
    my.migration("20250102000000_Second",
                 f"b.execute('INSERT INTO {t} SELECT @@SESSION.lock_wait_timeout')")
    assert my.executor().execute().success
    default = my.query("SELECT @@GLOBAL.lock_wait_timeout")[0][0]
    assert my.query(f"SELECT v FROM {q(t)}") == [(default,)]


def test_threads_share_nothing_but_the_server(my):
    """Several threads calling execute() on one executor at once: each migration is
    applied exactly once."""
    t = my.name("th")
    my.migration("20250101000000_Table", f"""
        b.create_table({t!r}, sa.Column("id", sa.String(40), primary_key=True))
    """)
    for n in range(2, 12):
        my.migration(f"202501{n:02d}000000_Step{n}",
                     f"b.bulk_insert({t!r}, [{{'id': 'm{n}'}}])")
    executor = my.executor(lock_timeout_seconds=60)
    others = [my.executor(lock_timeout_seconds=60) for _ in range(4)]
    results, errors = [], []

    def run(ex):
        try:
            results.append(ex.execute())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ex,)) for ex in [executor] * 4 + others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert all(r.success for r in results)
    applied = [m for r in results for m in r.migration_ids]
    assert sorted(applied) == sorted(row[0] for row in my.history())
    assert len(applied) == 11 and len(set(applied)) == 11
    assert my.query(f"SELECT COUNT(*) FROM {q(t)}") == [(10,)]


def test_refused_event_log_row_records_the_migration_as_failed(my):
    """A failure in the bookkeeping after the DDL committed implicitly (here the event-log
    row is refused) leaves a failed history row that counts the operation that took
    effect, and names the cause -- never a successful row."""
    kept, later = my.name("kept"), my.name("later")
    my.migration("20250101000000_Ok", f"""
        b.create_table({kept!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    assert my.executor().execute().success
    my.query(f"ALTER TABLE {q(my.name('log'))} ADD CONSTRAINT refuse_later CHECK "
             "(NOT (event = 'apply' AND migration_id = '20250101000100_Later'))")
    my.migration("20250101000100_Later", f"""
        b.create_table({later!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    result = my.executor().execute()
    (error,) = result.errors
    assert error.migration_id == "20250101000100_Later"
    assert "refuse_later" in error.message
    history = {row[0]: row[1:3] for row in my.history()}
    assert history["20250101000000_Ok"] == (1, None)
    assert history["20250101000100_Later"] == (0, 1)  # failed, its one operation took effect
    assert later in my.tables()


class Sent(list):
    """The statements sent, in order; :attr:`compounds` lists those that went together
    in one compound statement (MariaDB's ``BEGIN NOT ATOMIC ... END``)."""

    def __init__(self):
        super().__init__()
        self.compounds: list[list[str]] = []


COMPOUND = "BEGIN NOT ATOMIC\n"


def on_mariadb(my) -> bool:
    return "mariadb" in my.query("SELECT VERSION()")[0][0].lower()


def _statements_sent(monkeypatch) -> Sent:
    """Every statement the run's PyMySQL connections send, as its first word (plus the
    table for history and event-log writes), recorded from now on; each statement of a
    compound statement counts as sent (``START TRANSACTION`` as ``BEGIN``)."""
    import pymysql.connections

    sent = Sent()
    original = pymysql.connections.Connection._execute_command

    def label(text: str) -> str:
        words = text.split()
        word = words[0].upper() if words else ""
        if word in ("UPDATE", "DELETE", "INSERT", "REPLACE"):
            table = next(w for w in words[1:] if w.upper() not in ("FROM", "INTO"))
            word += " " + ("history" if table.endswith("_history") else
                           "log" if table.endswith("_log") else table)
        return "BEGIN" if word == "START" else word

    def recording(self, command, sql):
        text = sql.decode() if isinstance(sql, bytes) else sql
        if text.startswith(COMPOUND):
            parts = [label(p) for p in text[len(COMPOUND):].rsplit("END", 1)[0].split(";\n")
                     if p.strip()]
            sent.extend(parts)
            sent.compounds.append(parts)
        else:
            sent.append(label(text))
        return original(self, command, sql)

    monkeypatch.setattr(pymysql.connections.Connection, "_execute_command", recording)
    return sent


def test_round_trips_per_migration(my, monkeypatch):
    """A migration of DDL statements: the history row is written with one ``REPLACE``
    (not a ``DELETE`` and an ``INSERT``); the position after the last DDL statement is
    not written on its own -- the row the migration ends with replaces it in the same
    transaction; and a journal write just before a statement that commits implicitly
    (the ``running`` row, a position) is sent alone, without a ``BEGIN``, since that
    statement commits it anyway (issue 16: MariaDB round trips). Apply 8, roll back 6,
    where it was 13 and 8, then 10 and 7. On MariaDB the bookkeeping at the end (``BEGIN``
    to ``COMMIT``) is one compound statement: apply 5, roll back 3."""
    t = my.name("rt")
    my.migration("20250101000000_First", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("name", sa.String(50)))
        b.create_index("ix_{t}_name", {t!r}, ["name"])
    """, f"""
        b.drop_table({t!r})
    """)
    my.executor().execute()  # the tables of the history and the log exist from here on
    assert my.executor().rollback(steps=1).success
    sent = _statements_sent(monkeypatch)
    assert my.executor().execute().success
    start = sent.index("REPLACE history")
    end = len(sent) - sent[::-1].index("COMMIT")
    assert sent[start:end] == [
        "REPLACE history",            # the row, 'running', in autocommit
        "CREATE",
        "UPDATE history",             # the position, in autocommit
        "CREATE",
        "BEGIN", "REPLACE history", "INSERT log", "COMMIT"]
    assert "BEGIN" not in sent[:start]
    if on_mariadb(my):
        assert sent.compounds[-1] == ["BEGIN", "REPLACE history", "INSERT log", "COMMIT"]
    sent.clear()
    sent.compounds.clear()
    assert my.executor().rollback(steps=1).success
    start = sent.index("UPDATE history")
    end = len(sent) - sent[::-1].index("COMMIT")
    assert sent[start:end] == [
        "UPDATE history",  # 'running', direction down, in autocommit
        "DROP",
        "BEGIN", "DELETE history", "INSERT log", "COMMIT"]
    assert "BEGIN" not in sent[:start]
    if on_mariadb(my):
        assert sent.compounds == [["BEGIN", "DELETE history", "INSERT log", "COMMIT"]]


def test_the_next_running_row_commits_with_the_last_migrations_end(my, monkeypatch):
    """Where DDL commits implicitly, the ``running`` row of the next migration is written
    in the transaction that records the previous one's end, not alone in autocommit
    before its first statement: rolling back two one-DROP migrations sends the first
    row alone, then per migration its DROP and one bookkeeping transaction."""
    tables = [my.name("a"), my.name("b")]
    for number, table in enumerate(tables):
        my.migration(f"2025010100000{number}_Make{number}", f"""
            b.create_table({table!r}, sa.Column("id", sa.Integer, primary_key=True))
        """, f"b.drop_table({table!r})")
    assert my.executor().execute().success
    sent = _statements_sent(monkeypatch)
    assert my.executor().rollback(steps=2).success
    start = sent.index("UPDATE history")
    end = len(sent) - sent[::-1].index("COMMIT")
    assert sent[start:end] == [
        "UPDATE history", "DROP",  # the second migration: its row alone, then its DROP
        "BEGIN", "DELETE history", "INSERT log",
        "UPDATE history",          # the first migration's row, 'running', direction down
        "COMMIT",
        "DROP",
        "BEGIN", "DELETE history", "INSERT log", "COMMIT"]
    assert my.history() == [] and my.tables() & set(tables) == set()
    if on_mariadb(my):  # each end, with the next start, is one round trip
        assert len(sent.compounds) == 2


def test_a_next_migration_that_cannot_be_planned_gets_no_running_row(my):
    """The next migration's ``running`` row goes with the previous one's end only when
    it can start: one the database rules out when it is planned (a partial index on
    MySQL) fails with nothing written for it."""
    t = my.name("p")
    my.migration("20250101000000_Table", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("n", sa.Integer))
    """)
    my.migration("20250101000100_Partial", f"""
        b.create_index("ix_{t}_n", {t!r}, ["n"], where="n > 0")
    """)
    from npa_migrations.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="partial indexes"):
        my.executor().execute()
    assert [row[:2] for row in my.history()] == [("20250101000000_Table", 1)]


def test_a_first_statement_that_keeps_the_transaction_shares_it_with_the_row(my, monkeypatch):
    """Only a statement that certainly commits implicitly gets its journal record alone:
    a migration that starts with DML still writes its ``running`` row in the DML's
    transaction, and the position after a DDL statement that comes before DML waits for
    that DML's transaction (a data change and its record commit together)."""
    t = my.name("dml")
    my.migration("20250101000000_Table", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    my.migration("20250101000100_Rows", f"""
        b.execute("INSERT INTO {t} (id) VALUES (1)")
        b.create_index("ix_{t}_id", {t!r}, ["id"])
        b.execute("INSERT INTO {t} (id) VALUES (2)")
    """)
    assert my.executor().execute(target="20250101000000").success
    sent = _statements_sent(monkeypatch)
    assert my.executor().execute().success
    start = sent.index("BEGIN")
    end = len(sent) - sent[::-1].index("COMMIT")
    assert sent[start:end] == [
        "BEGIN", "REPLACE history", f"INSERT {t}",  # the row with the first DML
        "UPDATE history",                          # its record, before the DDL commits
        "CREATE",
        "BEGIN", f"INSERT {t}",                    # the position waits for this transaction
        "REPLACE history", "INSERT log", "COMMIT"]
    if on_mariadb(my):  # the bookkeeping in the open transaction
        assert sent.compounds == [["REPLACE history", "INSERT log", "COMMIT"]]


@pytest.mark.parametrize("sql, commits", [
    ("CREATE TABLE t (id INT)", True), ("  create unique index ix on t (a)", True),
    ("CREATE OR REPLACE TABLE t (id INT)", True), ("ALTER TABLE t ADD c INT", True),
    ("ALTER ONLINE IGNORE TABLE t ADD c INT", True), ("DROP TABLE t", True),
    ("DROP INDEX ix ON t", True), ("RENAME TABLE a TO b", True), ("TRUNCATE t", True),
    ("CREATE TEMPORARY TABLE t (id INT)", False), ("DROP TEMPORARY TABLE t", False),
    ("INSERT INTO t VALUES (1)", False), ("UPDATE t SET a = 1", False),
    ("SET SESSION x = 1", False), ("/*!50000 CREATE TABLE t (id INT) */", False),
    ("CREATE TABLESPACE ts", False), ("CALL p()", False),
])
def test_commits_implicitly_claims_only_ddl_that_always_commits(sql, commits):
    import sqlalchemy as sa
    from npa_migrations.provider.registry import resolve_provider

    driver = resolve_provider(sa.make_url("mysql+pymysql://root@localhost/x")).driver
    assert driver.commits_implicitly(sql) is commits
