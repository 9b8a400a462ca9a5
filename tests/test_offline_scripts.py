"""Offline scripts for DBAs (``--sql --offline``), run with the database's own client on
SQLite, PostgreSQL and MariaDB: a full ``up``, a range (``--from``), a rollback
(``down --steps`` / ``--target``, ``--include-repeatables``) and an idempotent script run
twice and on a half-migrated database. What the script leaves is checked with npa itself:
no drift, nothing pending, the same history as ``npa migrate up`` writes.

The migrations use a table rebuild on SQLite (written from the replayed schema model), a
``MODIFY COLUMN`` on MariaDB (whose current definition comes from the model), and a
migration that runs outside a transaction (on PostgreSQL the idempotent script guards it
with psql's ``\\if``, as a ``DO`` block is a transaction).
"""

from __future__ import annotations

import pytest

from dba_project import project

INIT = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Init(Migration):
        def up(self, b):
            b.create_table("customers", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("name", sa.String(50), nullable=False))
            b.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"),
                                     nullable=False),
                           sa.Column("total", sa.Numeric(10, 2)))
            b.bulk_insert("customers", [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}])
            b.bulk_insert("orders", [{"id": 1, "customer_id": 1, "total": 5}])

        def down(self, b):
            b.drop_table("orders")
            b.drop_table("customers")
"""
NOTES = """
    -- npa:up
    CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100));
    INSERT INTO notes (id, body) VALUES (1, 'it''s; fine');
    -- npa:down
    DROP TABLE notes;
"""
CHANGE = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Change(Migration):
        def up(self, b):
            b.alter_column("orders", "total", nullable=False, server_default="0")
            b.create_check_constraint("ck_orders_total", "orders", "total >= 0")
            b.add_column("customers", sa.Column("email", sa.String(100)))
            b.create_index("ix_customers_email", "customers", ["email"])

        def down(self, b):
            b.drop_index("ix_customers_email", "customers")
            b.drop_column("customers", "email")
            b.drop_constraint("ck_orders_total", "orders", type_="check")
            b.alter_column("orders", "total", nullable=True, server_default=None)
"""
TOTALS = """
    -- npa:up
    DROP VIEW IF EXISTS order_totals;
    CREATE VIEW order_totals AS
        SELECT customer_id, SUM(total) AS total FROM orders GROUP BY customer_id;
    -- npa:down
    DROP VIEW IF EXISTS order_totals;
"""
OUTSIDE = """
    from npa_migrations import Migration

    class IndexNotes(Migration):
        transactional = False

        def up(self, b):
            b.create_index("ix_notes_body", "notes", ["body"])

        def down(self, b):
            b.drop_index("ix_notes_body", "notes")
"""
MIGRATIONS = {"20250101000000_init.py": INIT, "20250102000000_notes.sql": NOTES,
              "20250103000000_change.py": CHANGE, "20250104000000_index_notes.py": OUTSIDE,
              "R__order_totals.sql": TOTALS}
IDS = ["20250101000000_Init", "20250102000000_Notes", "20250103000000_Change",
       "20250104000000_IndexNotes", "R__order_totals"]


@pytest.fixture
def db(dba):
    dba.write(MIGRATIONS)
    return dba


def assert_up_to_date(db) -> None:
    """Nothing pending, no validation problem, no drift, each row inserted once."""
    assert db.npa("status", "--exit-code").exit_code == 0
    assert db.npa("drift").exit_code == 0, db.npa("drift").output
    assert db.history() == IDS
    assert db.query("SELECT COUNT(*) FROM customers") == [(2,)]
    assert db.query("SELECT COUNT(*) FROM notes") == [(1,)]
    assert db.query("SELECT customer_id, total FROM order_totals") == [(1, 5)]


def test_offline_up_script_leaves_what_up_leaves(db):
    script = db.ok("up", "--sql", "--offline")
    assert script.index("20250104000000_IndexNotes (up)") < script.index("R__order_totals (up)")
    db.run_script(script)
    assert_up_to_date(db)


def test_offline_script_for_a_range_starts_after_from(db):
    db.ok("up", "--target", "20250101000000")
    script = db.ok("up", "--sql", "--offline", "--from", "20250101000000_Init")
    assert "20250101000000_Init (up)" not in script
    assert "CREATE TABLE npa_migrations_history" not in script  # the database has it
    db.run_script(script)
    assert_up_to_date(db)


def test_offline_script_for_a_range_up_to_a_target(db):
    db.ok("up", "--target", "20250101000000")
    script = db.ok("up", "--sql", "--offline", "--from", "20250101000000",
                   "--target", "20250102000000")
    assert "20250103000000_Change" not in script and "R__order_totals" not in script
    db.run_script(script)
    assert db.history() == IDS[:2]


@pytest.mark.parametrize("how", [("--steps", "3"), ("--target", "20250101000000_Init")])
def test_offline_down_script_rolls_back_newest_first(db, how):
    db.ok("up")
    script = db.ok("down", "--sql", "--offline", *how)
    assert script.index("20250104000000_IndexNotes (down)") < \
        script.index("20250103000000_Change (down)") < \
        script.index("20250102000000_Notes (down)")
    assert "R__order_totals" not in script  # repeatable migrations only when asked
    assert "DELETE FROM npa_migrations_history" in script
    db.run_script(script)
    assert db.history() == [IDS[0], IDS[4]]
    assert db.status()["pending"] == [{"id": i} for i in IDS[1:4]]
    assert db.npa("drift").exit_code == 0
    db.ok("up")  # the rolled-back migrations apply again
    assert_up_to_date(db)


def test_offline_down_script_includes_repeatables_when_asked(db):
    db.ok("up")
    script = db.ok("down", "--sql", "--offline", "--include-repeatables")
    assert script.index("R__order_totals (down)") < \
        script.index("20250104000000_IndexNotes (down)")
    db.run_script(script)
    assert db.history() == IDS[:3]
    db.ok("up")
    assert_up_to_date(db)


def test_idempotent_script_runs_twice_and_on_a_half_migrated_database(db, tmp_path):
    if db.backend == "sqlite":
        result = db.npa("up", "--sql", "--offline", "--idempotent")
        assert result.exit_code == 2
        assert "sqlite cannot write an idempotent script" in result.output
        assert "--from" in result.output
        return
    script = db.ok("up", "--sql", "--offline", "--idempotent")
    if db.backend == "postgresql":  # outside a transaction: psql's \\if, not a DO block
        assert "\\if :npa_pending\nCREATE INDEX ix_notes_body" in script
        assert script.count("DO $npa$") == len(IDS) - 1
    db.run_script(script)
    db.run_script(script)  # a second run applies nothing again
    assert_up_to_date(db)
    with project(db.backend, tmp_path) as half:
        half.write(MIGRATIONS)
        half.ok("up", "--target", "20250102000000")
        half.run_script(script)
        assert_up_to_date(half)
        assert [r["id"] for r in half.status()["applied"]][:2] == IDS[:2]


def test_idempotent_script_runs_a_changed_repeatable_again(db):
    if db.backend == "sqlite":
        pytest.skip("SQLite cannot write an idempotent script")
    db.ok("up")
    db.write({"R__order_totals.sql": TOTALS.replace("SUM(total) AS total",
                                                    "SUM(total) + 1 AS total")})
    db.run_script(db.ok("up", "--sql", "--offline", "--idempotent"))
    assert db.query("SELECT customer_id, total FROM order_totals") == [(1, 6)]
    assert db.npa("status", "--exit-code").exit_code == 0


def test_from_and_idempotent_need_an_offline_script(db):
    for flags in (["--from", "20250101000000"], ["--idempotent"], ["--sql", "--idempotent"]):
        result = db.npa("up", *flags)
        assert result.exit_code == 2 and "--sql --offline" in result.output, flags
    result = db.npa("up", "--sql", "--offline", "--from", "20250103000000",
                    "--target", "20250102000000")
    assert result.exit_code == 2 and "is not after --from" in result.output
