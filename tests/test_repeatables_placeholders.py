"""Repeatable migrations and ``${placeholders}`` on SQLite, PostgreSQL and MariaDB.

Repeatable migrations (``R__<name>.sql``, or a Python class with ``repeatable = True``)
run after the versioned ones, again whenever their checksum changes, under their id in
the history; ``status`` and ``validate`` show them; ``down`` leaves them alone unless
``--include-repeatables``. Placeholders come from the configuration and the environment,
an unknown one stops the run before anything is applied (exit 2), and checksums are taken
before substitution.
"""

from __future__ import annotations

import json



ITEMS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateItems(Migration):
        def up(self, b):
            b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("price", sa.Integer, nullable=False))
            b.bulk_insert("items", [{"id": 1, "price": 10}, {"id": 2, "price": 20}])

        def down(self, b):
            b.drop_table("items")
"""
TAGS = """
    -- npa:up
    CREATE TABLE tags (id INTEGER PRIMARY KEY);
    -- npa:down
    DROP TABLE tags;
"""
VIEW = """
    -- npa:up
    DROP VIEW IF EXISTS item_totals;
    CREATE VIEW item_totals AS SELECT SUM(price) AS total FROM items;
    -- npa:down
    DROP VIEW IF EXISTS item_totals;
"""
PYTHON_REPEATABLE = """
    from npa_migrations import Migration

    class ItemCount(Migration):
        repeatable = True

        def up(self, b):
            b.execute("DROP VIEW IF EXISTS item_count")
            b.execute("CREATE VIEW item_count AS SELECT COUNT(*) AS n FROM items")

        def down(self, b):
            b.execute("DROP VIEW IF EXISTS item_count")
"""
V1, V2 = "20250101000000_CreateItems", "20250102000000_Tags"


def executed(output: str) -> list[str]:
    """The migrations an ``up``/``down`` run reports, in order."""
    return [line.split(": ", 1)[1] for line in output.splitlines()
            if line.startswith(("Executing migration", "Rolling back migration"))]


def test_repeatables_run_after_the_versioned_ones_and_again_when_changed(dba):
    dba.write({"20250101000000_create_items.py": ITEMS, "R__item_totals.sql": VIEW,
              "R__counts.py": PYTHON_REPEATABLE})
    status = dba.status()
    assert [p["id"] for p in status["pending"]] == [V1, "R__ItemCount", "R__item_totals"]
    assert status["repeatables"] == ["R__ItemCount", "R__item_totals"]
    assert executed(dba.ok("up")) == ["CreateItems", "ItemCount", "item_totals"]
    assert dba.query("SELECT total FROM item_totals") == [(30,)]
    text = dba.ok("status")
    assert "✓ R__item_totals" in text and "(repeatable)" in text
    assert "up to date" in dba.ok("up")  # nothing changed: nothing runs again

    dba.write({"R__item_totals.sql": VIEW.replace("SUM(price)", "SUM(price) * 2"),
              "20250102000000_tags.sql": TAGS})
    assert [p["id"] for p in dba.status()["pending"]] == [V2, "R__item_totals"]
    assert "R__item_totals  (repeatable, changed: runs again)" in dba.ok("status")
    validate = dba.ok("validate")  # a changed repeatable is no validation problem
    assert "Validation passed" in validate and "R__item_totals" in validate
    assert json.loads(dba.ok("validate", "--json"))["repeatables_due"] == ["R__item_totals"]
    assert executed(dba.ok("up")) == ["Tags", "item_totals"]
    assert dba.query("SELECT total FROM item_totals") == [(60,)]
    assert dba.history() == sorted([V1, V2, "R__ItemCount", "R__item_totals"])
    assert dba.npa("status", "--exit-code").exit_code == 0


def test_down_leaves_repeatables_alone_unless_asked(dba):
    dba.write({"20250101000000_create_items.py": ITEMS, "20250102000000_tags.sql": TAGS,
              "R__item_totals.sql": VIEW})
    dba.ok("up")
    assert executed(dba.ok("down")) == ["Tags"]
    assert dba.history() == [V1, "R__item_totals"]
    plan = json.loads(dba.ok("down", "--dry-run", "--include-repeatables", "--json"))
    assert [m["id"] for m in plan["migrations"]] == ["R__item_totals", V1]
    assert executed(dba.ok("down", "--include-repeatables")) == ["item_totals", "CreateItems"]
    assert dba.history() == []
    assert executed(dba.ok("up")) == ["CreateItems", "Tags", "item_totals"]


def test_up_to_a_target_leaves_the_repeatables_for_a_full_up(dba):
    dba.write({"20250101000000_create_items.py": ITEMS, "20250102000000_tags.sql": TAGS,
              "R__item_totals.sql": VIEW})
    assert executed(dba.ok("up", "--target", "20250101000000")) == ["CreateItems"]
    assert executed(dba.ok("up")) == ["Tags", "item_totals"]


PLACED = """
    -- npa:up
    CREATE TABLE ${table_name} (id INTEGER PRIMARY KEY, note VARCHAR(50));
    INSERT INTO ${TABLE_NAME} (id, note) VALUES (1, '${note}');
    INSERT INTO ${table_name} (id, note) VALUES (2, '$${note}');
    -- npa:down
    DROP TABLE ${table_name};
"""


def test_placeholders_come_from_config_and_environment(dba):
    (dba.folder.parent / "npa.toml").write_text(
        '[placeholders]\ntable_name = "notes"\nnote = "from config"\n', encoding="utf-8")
    dba.write({"20250101000000_notes.sql": PLACED})
    dba.ok("up", env={"NPA_PLACEHOLDER_NOTE": "from env"})
    assert dba.query("SELECT id, note FROM notes ORDER BY id") == [
        (1, "from env"), (2, "${note}")]  # the environment wins; $${ is a literal ${
    # the checksum is the file's as written: another value is not an edit
    result = dba.npa("validate", env={"NPA_PLACEHOLDER_NOTE": "another value"})
    assert result.exit_code == 0, result.output
    assert dba.npa("status", "--exit-code").exit_code == 0
    dba.ok("down")
    assert dba.history() == []


def test_an_unknown_placeholder_stops_the_run_before_anything_is_applied(dba):
    dba.write({"20250101000000_create_items.py": ITEMS,
              "20250102000000_notes.sql": PLACED.replace("${note}", "${missing}", 1)})
    result = dba.npa("up", env={"NPA_PLACEHOLDER_TABLE_NAME": "notes"})
    assert result.exit_code == 2
    assert "20250102000000_notes.sql: line 3: placeholder ${missing} has no value" \
        in result.output
    assert "NPA_PLACEHOLDER_MISSING" in result.output and "$${missing}" in result.output
    assert dba.history() == []  # not even the migration before it ran
    assert dba.npa("status").exit_code == 0  # status needs no values: it runs nothing
