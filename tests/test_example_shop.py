"""The sample application examples/shop runs its own tests -- the ready migration tests of
npa_migrations.apptest and its data-migration tests -- on SQLite, PostgreSQL and MariaDB,
in a separate pytest process, as its developers would; and its models pass
``npa migrate check``. So the example cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server_databases import reachable_server

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"


def shop_pytest(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NPA_CHECKSUM_CACHE": "0"}
    env.pop("NPA_TEST_URL", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                           *args], cwd=SHOP, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
def test_the_shop_runs_its_migration_tests(backend):
    args = [] if backend == "sqlite" else [
        "--npa-url", reachable_server(backend).render_as_string(hide_password=False)]
    result = shop_pytest(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("test_npa_single_order", "test_npa_stairway", "test_npa_down_restores_schema",
                 "test_npa_models_match", "test_prices_become_cents_and_back",
                 "test_emails_are_lower_cased"):
        assert f"::{name} PASSED" in result.stdout, result.stdout


def test_the_shop_models_match_its_migrations():
    result = subprocess.run([str(Path(sys.executable).with_name("npa")), "migrate", "check"],
                            cwd=SHOP, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No differences" in result.stdout
    assert not (SHOP / "shop.db").exists()  # check needs no database
