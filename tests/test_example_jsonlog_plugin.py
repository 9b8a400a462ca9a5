"""The example plugin of docs/writing-a-plugin.md (examples/plugins/npa-jsonlog): registered
with the plugin manager, it writes one JSON line per migration start and end and one per
statement (SQL and duration) while real migrations run on SQLite."""

from __future__ import annotations

import importlib
import io
import json
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from npa_migrations import MigrationExecutor
from npa_migrations.plugins import get_plugin_manager

PACKAGE = Path(__file__).resolve().parents[1] / "examples" / "plugins" / "npa-jsonlog"


@pytest.fixture
def jsonlog():
    """The example module, imported from its source folder and registered as its entry
    point would register it; unregistered afterwards."""
    sys.path.insert(0, str(PACKAGE / "src"))
    try:
        module = importlib.import_module("npa_jsonlog")
    finally:
        sys.path.remove(str(PACKAGE / "src"))
    manager = get_plugin_manager()
    manager.register(module, name="jsonlog")
    try:
        yield module
    finally:
        manager.unregister(module)
        module.configure(None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    (path / "20250101000000_create_items.py").write_text(textwrap.dedent("""
        import sqlalchemy as sa
        from npa_migrations import Migration

        class CreateItems(Migration):
            def up(self, b):
                b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("name", sa.String(50), nullable=False))
                b.create_index("ix_items_name", "items", ["name"])

            def down(self, b):
                b.drop_table("items")
    """))
    (path / "20250102000000_seed_items.sql").write_text(
        "-- npa:up\nINSERT INTO items (id, name) VALUES (1, 'a');\n"
        "INSERT INTO items (id, name) VALUES (2, 'b');\n"
        "-- npa:down\nDELETE FROM items;\n")
    return path


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_pyproject_registers_the_module_in_the_npa_group():
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["npa"] == {"jsonlog": "npa_jsonlog"}
    assert (PACKAGE / "src" / "npa_jsonlog" / "__init__.py").is_file()


def test_one_line_per_migration_start_end_and_statement(jsonlog, folder, tmp_path):
    buffer = io.StringIO()
    jsonlog.configure(buffer)
    result = MigrationExecutor(f"sqlite:///{tmp_path / 'app.db'}", folder).execute()
    assert result.success, result.errors

    records = lines(buffer)
    assert all(r["time"].endswith("Z") for r in records)
    assert [r["event"] for r in records] == [
        "plan",
        "migration_start",
        "statement_start", "statement",       # CREATE TABLE items
        "statement_start", "statement",       # CREATE INDEX ix_items_name
        "migration_end",
        "migration_start",
        "statement_start", "statement",       # INSERT 1
        "statement_start", "statement",       # INSERT 2
        "migration_end",
    ]
    assert records[0]["migrations"] == ["20250101000000_CreateItems",
                                        "20250102000000_SeedItems"]
    start = records[1]
    assert start["migration"] == "20250101000000_CreateItems"
    assert (start["direction"], start["index"], start["total"]) == ("up", 1, 2)

    statements = [r for r in records if r["event"] == "statement"]
    assert statements[0]["sql"].startswith("CREATE TABLE items (")
    assert statements[1]["sql"] == "CREATE INDEX ix_items_name ON items (name)"
    assert statements[2]["sql"] == "INSERT INTO items (id, name) VALUES (1, 'a')"
    assert all(s["migration"] == "20250101000000_CreateItems" for s in statements[:2])
    assert all(s["migration"] == "20250102000000_SeedItems" for s in statements[2:])
    assert all(isinstance(s["duration_ms"], float) and s["duration_ms"] >= 0
               for s in statements)
    starts = [r for r in records if r["event"] == "statement_start"]
    assert [s["sql"] for s in starts] == [s["sql"] for s in statements]

    ends = [r for r in records if r["event"] == "migration_end"]
    assert [e["success"] for e in ends] == [True, True]
    for end in ends:  # a migration takes at least as long as its statements
        own = [s["duration_ms"] for s in statements if s["migration"] == end["migration"]]
        assert end["duration_ms"] >= sum(own)


def test_a_failed_migration_logs_the_statement_and_error(jsonlog, folder, tmp_path):
    (folder / "20250103000000_broken.sql").write_text(
        "-- npa:up\nUPDATE no_such_table SET x = 1;\n")
    buffer = io.StringIO()
    jsonlog.configure(buffer)
    result = MigrationExecutor(f"sqlite:///{tmp_path / 'app.db'}", folder).execute()
    assert not result.success

    records = lines(buffer)
    assert records[-2] == {**records[-2], "event": "statement_start",
                           "sql": "UPDATE no_such_table SET x = 1"}
    end = records[-1]
    assert end["event"] == "migration_end" and end["success"] is False
    assert end["migration"] == "20250103000000_Broken"
    assert end["failed_statement"] == "UPDATE no_such_table SET x = 1"
    assert end["error"].startswith("Migration 20250103000000_Broken")
    # the failing statement has a start line but no "statement" (success) line
    assert [r["event"] for r in records].count("statement") == 4


def test_bound_parameters_are_not_logged(jsonlog, folder, tmp_path):
    (folder / "20250103000000_more_items.py").write_text(textwrap.dedent("""
        from npa_migrations import Migration

        class MoreItems(Migration):
            def up(self, b):
                b.bulk_insert("items", [{"id": 3, "name": "secret-value"},
                                        {"id": 4, "name": "other"}])
    """))
    buffer = io.StringIO()
    jsonlog.configure(buffer)
    assert MigrationExecutor(f"sqlite:///{tmp_path / 'app.db'}", folder).execute().success
    assert "secret-value" not in buffer.getvalue()
    insert = [r for r in lines(buffer) if r["event"] == "statement"
              and r["migration"] == "20250103000000_MoreItems"]
    assert len(insert) == 1 and insert[0]["sql"].startswith("INSERT INTO items")


def test_cli_run_writes_to_the_file_named_by_npa_jsonlog(jsonlog, folder, tmp_path,
                                                         monkeypatch):
    from click.testing import CliRunner
    from npa_migrations.cli import cli

    log = tmp_path / "migrations.jsonl"
    monkeypatch.setenv("NPA_JSONLOG", str(log))
    jsonlog.configure(None)
    outcome = CliRunner().invoke(cli, ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m",
                                       str(folder), "migrate", "up"])
    assert outcome.exit_code == 0, outcome.output
    jsonlog._output().close()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["event"] for r in records].count("migration_end") == 2
    assert "Executing migration 1/2: CreateItems" in outcome.output  # CLI output unchanged


def test_the_guide_lists_the_module_as_it_is():
    guide = (PACKAGE.parents[2] / "docs" / "writing-a-plugin.md").read_text()
    listing = guide.split("`src/npa_jsonlog/__init__.py`", 1)[1]
    listing = listing.split("```python\n", 1)[1].split("```\n", 1)[0]
    source = (PACKAGE / "src" / "npa_jsonlog" / "__init__.py").read_text()
    without_docstring = source.split('"""\n\n', 1)[1]
    assert listing == without_docstring
