"""Units of the DBA features: placeholder rules, ``-- npa:replaces`` in ``.sql`` files,
repeatable migration ids, and the squash view of a history."""

from __future__ import annotations

from pathlib import Path

import pytest

from npa_migrations.builtin.sources import load_python_migrations
from npa_migrations.builtin.placeholders import Placeholders
from npa_migrations.builtin.sqlfile import load_sql_migration
from npa_migrations.engine.history import HistoryRow
from npa_migrations.engine.squash import resolve_squashes
from npa_migrations.errors import ConfigurationError, MigrationSourceError
from npa_migrations.migration import MigrationScript


# placeholders ---------------------------------------------------------------------------------
def test_placeholders_are_case_insensitive_and_escaped():
    values = Placeholders({"Schema": "app", "on": True, "n": 3})
    text = "${schema}.${SCHEMA} $${schema} ${on} ${n} ${a+b} $$ ${ schema }"
    assert values.substitute(text, "f.sql") == "app.app ${schema} true 3 ${a+b} $$ ${ schema }"


def test_an_unknown_placeholder_names_file_line_and_variable():
    with pytest.raises(MigrationSourceError) as info:
        Placeholders({}).substitute("SELECT 1;\nSELECT '${who_am_i}';", "m/x.sql")
    assert str(info.value).startswith("m/x.sql: line 2: placeholder ${who_am_i} has no value")
    assert "NPA_PLACEHOLDER_WHO_AM_I" in str(info.value)


def test_environment_wins_over_configuration():
    values = Placeholders.configured({"schema": "a", "role": "r"},
                                     {"NPA_PLACEHOLDER_SCHEMA": "b", "OTHER": "x"})
    assert values.values == {"schema": "b", "role": "r"}


@pytest.mark.parametrize("settings", ["app", {"schema": ["a"]}])
def test_placeholder_settings_must_be_a_table_of_text(settings):
    with pytest.raises(ConfigurationError):
        Placeholders.configured(settings, {})


def test_checksum_is_taken_before_substitution(tmp_path):
    path = tmp_path / "20250101000000_x.sql"
    path.write_text("-- npa:up\nCREATE TABLE ${t} (id INT);\n", encoding="utf-8")
    one, two = load_sql_migration(path), load_sql_migration(path)
    one.use_placeholders({"t": "a"})
    two.use_placeholders({"t": "b"})
    assert one.checksum == two.checksum
    assert [op.sql for op in one.up_operations()] == ["CREATE TABLE a (id INT)"]
    assert [op.sql for op in two.up_operations()] == ["CREATE TABLE b (id INT)"]


# -- npa:replaces -------------------------------------------------------------------------------
def sql_file(tmp_path: Path, text: str, name: str = "20250103000000_base.sql") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sql_squash_names_what_it_replaces(tmp_path):
    script = load_sql_migration(sql_file(
        tmp_path, "-- npa:replaces 20250101000000_A, 20250102000000_B\n"
                  "-- npa:replaces 20250102500000_C\n-- npa:up\nSELECT 1;\n"))
    assert script.replaces == ("20250101000000_A", "20250102000000_B", "20250102500000_C")
    assert [op.sql for op in script.up_operations()] == ["SELECT 1"]


@pytest.mark.parametrize("text, message", [
    ("-- npa:up\n-- npa:replaces 20250101000000_A\nSELECT 1;\n", "must come before"),
    ("-- npa:replaces\n-- npa:up\nSELECT 1;\n", "names no migration"),
    ("-- npa:replaces not-an-id\n-- npa:up\nSELECT 1;\n", "is not '<14-digit"),
])
def test_sql_squash_declaration_errors_name_the_line(tmp_path, text, message):
    with pytest.raises(MigrationSourceError) as info:
        load_sql_migration(sql_file(tmp_path, text))
    assert message in str(info.value) and "line " in str(info.value)


# repeatable ids -------------------------------------------------------------------------------
def test_repeatable_ids(tmp_path):
    script = load_sql_migration(sql_file(tmp_path, "-- npa:up\nSELECT 1;\n",
                                         "R__refresh views.sql"))
    assert (script.id, script.repeatable, script.name) == ("R__refresh views", True,
                                                           "refresh views")
    path = tmp_path / "R__grants.py"
    path.write_text("from npa_migrations import Migration\n\n"
                    "class Grants(Migration):\n    repeatable = True\n"
                    "    def up(self, b):\n        b.execute('SELECT 1')\n", encoding="utf-8")
    (found,) = load_python_migrations(path, None)
    assert (found.id, found.repeatable) == ("R__Grants", True)
    path.write_text(path.read_text().replace("repeatable = True",
                                             "repeatable = True\n    id = 'Grants'"))
    with pytest.raises(MigrationSourceError) as info:
        load_python_migrations(path, None)
    assert "is not 'R__<name>'" in str(info.value)


# the squash view --------------------------------------------------------------------------------
def script(migration_id: str, replaces: tuple[str, ...] = ()) -> MigrationScript:
    return MigrationScript(migration_id, f"{migration_id}.py", list, list, replaces=replaces)


def row(migration_id: str, success: bool = True) -> HistoryRow:
    return HistoryRow(migration_id, "sha256:0", None, 0, "", success)


@pytest.mark.parametrize("applied, scripts, rows, unrecorded", [
    ([], ["S", "X"], [], []),                                   # fresh: the squash runs
    (["A", "B"], ["S", "X"], ["S"], ["S"]),                     # all replaced: it counts
    (["S"], ["S", "X"], ["S"], []),                             # recorded
    (["A"], ["A", "B", "X"], ["A"], []),                        # partly: the rest runs
])
def test_squash_view(applied, scripts, rows, unrecorded):
    ids = {"A": "20250101000000_A", "B": "20250102000000_B", "S": "20250102000000_S",
           "X": "20250103000000_X"}
    found = [script(ids["A"]), script(ids["B"]),
             script(ids["S"], (ids["A"], ids["B"])), script(ids["X"])]
    view = resolve_squashes(found, {ids[i]: row(ids[i]) for i in applied})
    assert [s.id for s in view.scripts] == [ids[i] for i in scripts]
    assert sorted(view.rows) == sorted(ids[i] for i in rows)
    assert view.unrecorded == [ids[i] for i in unrecorded] and not view.problems
