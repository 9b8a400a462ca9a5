"""Each distribution installs on its own with plain pip, and registers its entry point."""

import pytest

from venv_helpers import CORE, ROOT, SQLITE, FreshVenv


@pytest.mark.slow
def test_core_and_sqlite_install_with_plain_pip(tmp_path):
    env = FreshVenv(tmp_path / "venv")
    env.install(CORE, SQLITE)
    listed = env.run("npa", "providers")
    assert listed.returncode == 0, listed.stderr
    assert "npa-sqlite" in listed.stdout
    assert "npa-postgres" not in listed.stdout  # only what was installed
    run = env.run("npa", "--config", ROOT / "examples" / "npa.toml",
                  "-d", f"sqlite:///{tmp_path / 'demo.db'}", "migrate", "up", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 migrations applied successfully" in run.stdout
    missing = env.run("npa", "-d", "postgresql://u:pw@localhost/x", "migrate", "status")
    assert missing.returncode == 2
    assert "pip install 'npa-migrations[postgres]'" in missing.stderr
