"""npa-lint and npa-concurrent-index install on their own with plain pip beside the core
(one virtual environment for both, to save time), register their entry points, and work."""

import json
import os
import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_plugins_install_with_plain_pip(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(ROOT / "core"), str(ROOT / "providers" / "npa-sqlite"),
                    str(ROOT / "plugins" / "npa-lint"),
                    str(ROOT / "plugins" / "npa-concurrent-index")],
                   check=True, timeout=600)
    npa = env_dir / "bin" / "npa"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPA_")}

    listed = subprocess.run([npa, "providers", "--json"], capture_output=True, text=True,
                            env=env, check=True)
    names = {row["name"]: row["distribution"] for row in json.loads(listed.stdout)["plugins"]}
    assert names == {"sqlite": "npa-sqlite", "lint": "npa-lint",
                     "concurrent_index": "npa-concurrent-index"}

    help_text = subprocess.run([npa, "migrate", "--help"], capture_output=True, text=True,
                               env=env, check=True).stdout
    assert "lint" in help_text

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_init.sql").write_text(textwrap.dedent("""\
        -- npa:up
        CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));
        CREATE INDEX ix_users_name ON users (name);
        """))
    (folder / "20250102000000_drop.sql").write_text("-- npa:up\nDROP TABLE users;\n")
    base = [npa, "-d", f"sqlite:///{tmp_path / 'app.db'}", "-m", str(folder), "migrate"]
    run = subprocess.run(base + ["up", "--target", "20250101000000"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    lint = subprocess.run(base + ["lint", "--json"], capture_output=True, text=True, env=env,
                          cwd=tmp_path)
    assert lint.returncode == 0, lint.stdout + lint.stderr  # drop-table is a warning
    assert [f["rule"] for f in json.loads(lint.stdout)["findings"]] == ["drop-table"]
