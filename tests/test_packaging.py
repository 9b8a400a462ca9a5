"""Each distribution installs on its own with plain pip, and registers its entry point."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_core_and_sqlite_install_with_plain_pip(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(ROOT / "core"), str(ROOT / "providers" / "npa-sqlite")],
                   check=True, timeout=600)
    npa = env_dir / "bin" / "npa"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPA_")}
    listed = subprocess.run([npa, "providers"], capture_output=True, text=True, env=env,
                            check=True)
    assert "npa-sqlite" in listed.stdout
    assert "npa-postgres" not in listed.stdout  # only what was installed
    run = subprocess.run([npa, "--config", str(ROOT / "examples" / "npa.toml"),
                          "-d", f"sqlite:///{tmp_path / 'demo.db'}", "migrate", "up"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 migrations applied successfully" in run.stdout
    missing = subprocess.run([npa, "-d", "postgresql://u:pw@localhost/x", "migrate", "status"],
                             capture_output=True, text=True, env=env)
    assert missing.returncode == 2
    assert "pip install 'npa-migrations[postgres]'" in missing.stderr
