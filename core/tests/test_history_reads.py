"""Reading the history table twice in one session: ``up`` reads it before taking the lock
(an idle instance answers from that read, without queueing) and again under the lock.
The second read converts only the rows that changed, and sees everything a concurrent run
did in between."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from npa_migrations import MigrationExecutor
from npa_migrations.compiled import CompiledSql

TABLE = """
    -- npa:up
    CREATE TABLE {name} (id INTEGER PRIMARY KEY);
    -- npa:down
    DROP TABLE {name};
"""


def test_a_second_read_sees_what_changed_and_reuses_the_rest(migrations_dir, sqlite_url):
    for n, name in enumerate(("a", "b", "c")):
        migrations_dir(f"2024010{n + 1}000000_{name}.sql", TABLE.format(name=name))
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder)
    assert executor.execute().success
    a, b, c = (script.id for script in executor.discover())
    with executor.session() as session:
        first = session.read_history()
        # another run, between the reads: changes one row, removes one, adds one
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as other:
            other.execute("UPDATE npa_migrations_history SET checksum = 'sha256:new' "
                          "WHERE migration_id = ?", (b,))
            other.execute("DELETE FROM npa_migrations_history WHERE migration_id = ?", (c,))
            other.execute("INSERT INTO npa_migrations_history (migration_id, checksum, "
                          "applied_at, execution_ms, product_version, success) VALUES "
                          "('20240104000000_D', 'sha256:d', '2024-01-04 00:00:00', 1, "
                          "'0.1.0', 1)")
        second = session.read_history()
    assert sorted(second) == [a, b, "20240104000000_D"]
    assert second[a] is first[a]  # unchanged: not converted again
    assert second[b].checksum == "sha256:new" and first[b].checksum != "sha256:new"
    assert second["20240104000000_D"].applied_at.year == 2024


def test_a_statement_compiles_when_first_used():
    """A store holds every statement it may run and a command runs few: each compiles on
    first use; an ``sql`` set before that (a provider's rewritten insert) is kept."""
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    dialect = sa.create_engine("sqlite://").dialect
    insert = CompiledSql(dialect, table.insert())
    assert "sql" not in vars(insert)
    assert insert.sql == "INSERT INTO t (id) VALUES (?)"
    assert insert.params({"id": 7}) == (7,)
    replace = CompiledSql(dialect, table.insert())
    replace.sql = "INSERT OR REPLACE INTO t (id) VALUES (?)"
    assert replace.params({"id": 7}) == (7,)
    assert replace.sql == "INSERT OR REPLACE INTO t (id) VALUES (?)"
