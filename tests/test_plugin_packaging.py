"""npa-lint and npa-concurrent-index install on their own with plain pip beside the core
(one virtual environment for both, to save time), register their entry points, and work."""

import json
import textwrap

import pytest
from venv_helpers import CORE, ROOT, SQLITE, FreshVenv


@pytest.mark.slow
def test_plugins_install_with_plain_pip(tmp_path):
    env = FreshVenv(tmp_path / "venv")
    env.install(CORE, SQLITE, ROOT / "plugins" / "npa-lint",
                ROOT / "plugins" / "npa-concurrent-index")

    listed = env.run("npa", "providers", "--json")
    assert listed.returncode == 0, listed.stderr
    names = {row["name"]: row["distribution"] for row in json.loads(listed.stdout)["plugins"]}
    assert names == {"sqlite": "npa-sqlite", "lint": "npa-lint",
                     "concurrent_index": "npa-concurrent-index"}

    help_run = env.run("npa", "migrate", "--help")
    assert help_run.returncode == 0, help_run.stderr
    assert "lint" in help_run.stdout

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_init.sql").write_text(textwrap.dedent("""\
        -- npa:up
        CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));
        CREATE INDEX ix_users_name ON users (name);
        """))
    (folder / "20250102000000_drop.sql").write_text("-- npa:up\nDROP TABLE users;\n")
    base = ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m", folder, "migrate"]
    run = env.run("npa", *base, "up", "--target", "20250101000000", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lint = env.run("npa", *base, "lint", "--json", cwd=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr  # drop-table is a warning
    assert [f["rule"] for f in json.loads(lint.stdout)["findings"]] == ["drop-table"]
