"""cookiecutter-provider, tried as a new provider author would: render it, pip-install the
result beside the core, and have a provider that ``npa`` finds through its entry point,
that migrates a database from the CLI, and that passes the conformance suite."""

from __future__ import annotations

import json
import re
import sqlite3
import tomllib
from contextlib import closing
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from venv_helpers import CORE, ROOT, SQLITE, FreshVenv

TEMPLATE = ROOT / "cookiecutter-provider"
#: the sample's answers: a two-word name, so derived names are exercised
CONTEXT = {"provider_name": "Quokka DB", "author_name": "Ada Author"}
SCHEME = "quokkadb"

EXPECTED_FILES = {
    "README.md",
    "pyproject.toml",
    "src/npa_quokkadb/__init__.py",
    "src/npa_quokkadb/dialect.py",
    "src/npa_quokkadb/plugin.py",
    "src/npa_quokkadb/provider.py",
    "tests/conftest.py",
    "tests/test_quokkadb_provider.py",
    "tests/test_quokkadb_suite.py",
}

CREATE_ITEMS = '''\
import sqlalchemy as sa

from npa_migrations import Migration


class CreateItems(Migration):
    def up(self, b):
        b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("name", sa.String(50), nullable=True))
        b.create_index("ix_items_name", "items", ["name"])
        b.bulk_insert("items", [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}])

    def down(self, b):
        b.drop_table("items")
'''

# SQLite cannot ALTER a column: the sample provider's plan() must rebuild the table
REQUIRE_NAME = '''\
import sqlalchemy as sa

from npa_migrations import Migration


class RequireName(Migration):
    depends_on = ("20250101000000_CreateItems",)

    def up(self, b):
        b.alter_column("items", "name", nullable=False, server_default="unnamed")

    def down(self, b):
        b.alter_column("items", "name", nullable=True, server_default=None)
'''

ADD_TAGS = """\
-- npa:up
CREATE TABLE tags (item_id INTEGER NOT NULL REFERENCES items (id), tag VARCHAR(20) NOT NULL);
-- npa:down
DROP TABLE tags;
"""


def query(database: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` read with the stdlib sqlite3 (the sample's database is SQLite)."""
    with closing(sqlite3.connect(database)) as db:
        return db.execute(sql).fetchall()


def render(output_dir: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir),
                             extra_context=CONTEXT))


def test_template_renders_a_provider_package(tmp_path):
    project = render(tmp_path)
    assert project.name == "npa-quokkadb"
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES
    for name in files:
        text = (project / name).read_text()
        assert not re.search(r"\{\{|\{%|cookiecutter", text), f"unrendered template in {name}"
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "npa-quokkadb"
    assert meta["project"]["entry-points"]["npa"] == {SCHEME: "npa_quokkadb.plugin"}
    assert meta["project"]["entry-points"]["sqlalchemy.dialects"] == {
        SCHEME: "npa_quokkadb.dialect:QuokkaDBDialect"}
    assert meta["project"]["authors"] == [{"name": "Ada Author", "email": "you@example.com"}]
    assert "class QuokkaDBProvider(BaseProvider):" in (
        project / "src/npa_quokkadb/provider.py").read_text()
    assert 'pytest_plugins = ["npa_migrations.testing.plugin"]' in (
        project / "tests/conftest.py").read_text()
    assert "NPA_TEST_QUOKKADB_URL" in (project / "tests/conftest.py").read_text()


def test_driver_requirement_becomes_a_dependency(tmp_path):
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path),
                                extra_context={"provider_name": "Acme",
                                               "driver_requirement": "acme-driver>=2"}))
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    assert "acme-driver>=2" in meta["project"]["dependencies"]
    assert meta["project"]["entry-points"]["npa"] == {"acme": "npa_acme.plugin"}
    # the missing-driver error names the driver (the provider itself is installed)
    assert 'install_hint = "acme-driver>=2"' in (project / "src/npa_acme/provider.py").read_text()


def test_a_name_that_cannot_be_a_scheme_is_refused(tmp_path):
    from cookiecutter.exceptions import FailedHookException

    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path),
                     extra_context={"provider_name": "Acme", "url_scheme": "acme+odbc"})
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_rendered_provider_installs_migrates_and_passes_the_conformance_suite(tmp_path):
    project = render(tmp_path / "out")
    env = FreshVenv(tmp_path / "venv")
    env.install(CORE, SQLITE, f"{project}[test]")

    # registered through its entry point
    listed = env.run("npa", "providers", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {row["name"]: row for row in json.loads(listed.stdout)["plugins"]}
    assert plugins[SCHEME]["distribution"] == "npa-quokkadb"
    assert plugins[SCHEME]["backends"] == [SCHEME]

    # a real migration run through the CLI on a quokkadb:// URL
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "20250101000000_create_items.py").write_text(CREATE_ITEMS)
    (migrations / "20250102000000_require_name.py").write_text(REQUIRE_NAME)
    (migrations / "20250103000000_add_tags.sql").write_text(ADD_TAGS)
    database = tmp_path / "data" / "app.db"  # its folder is made by ensure_database()
    config = tmp_path / "npa.toml"
    config.write_text(f'database_url = "{SCHEME}:///{database}"\n'
                      f'migrations = "{migrations}"\nensure_created = true\n')
    npa = ("npa", "--config", config, "migrate")
    up = env.run(*npa, "up", cwd=tmp_path)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "3 migrations applied successfully" in up.stdout
    assert query(database, "SELECT id, name FROM items ORDER BY id") == [
        (1, "first"), (2, "second")]
    name = [row for row in query(database, "PRAGMA table_info(items)") if row[1] == "name"][0]
    assert name[3:5] == (1, "'unnamed'")  # NOT NULL with a default: the table was rebuilt
    assert query(database, "SELECT migration_id FROM npa_migrations_history "
                           "WHERE success ORDER BY 1") == [
        ("20250101000000_CreateItems",), ("20250102000000_RequireName",),
        ("20250103000000_AddTags",)]
    down = env.run(*npa, "down", "--steps", "2", cwd=tmp_path)
    assert down.returncode == 0, down.stdout + down.stderr
    status = env.run(*npa, "status", "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["current"] == "20250101000000_CreateItems"
    assert [m["id"] if isinstance(m, dict) else m for m in state["pending"]] == [
        "20250102000000_RequireName", "20250103000000_AddTags"]
    tables = {r[0] for r in query(database, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "tags" not in tables and "items" in tables
    assert query(database, "SELECT count(*) FROM npa_migrations_history") == [(1,)]
    assert [r[3] for r in query(database, "PRAGMA table_info(items)")] == [1, 0]  # nullable

    # the rendered package's own tests: its unit tests and the whole conformance suite
    suite = env.run("python", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                    cwd=project, timeout=600)
    output = suite.stdout + suite.stderr
    assert suite.returncode == 0, output
    counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) (passed|skipped|failed)",
                                                           output.splitlines()[-1]))
    assert counts.get("passed", 0) >= 80, output  # the suite ran, not just the unit tests
    for reason in re.findall(r"SKIPPED \[\d+\] .*", output):
        # only what the sample's capabilities (SQLite) really lack
        assert re.search(r"requires (alter_in_place|schemas|no_transactional_ddl|"
                         r"reflects_quoted_constraint_names|reads_back_hostile_names) ",
                         reason), reason
