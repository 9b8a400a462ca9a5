"""Golden SQL: what the provider generates for every operation, reviewed by hand once
and kept in ``tests/golden``. A change to the generated SQL fails here until the golden
file is regenerated and reviewed again::

    NPA_REGEN_GOLDEN=1 uv run --no-sync pytest providers/npa-sqlserver -q -k golden
    git diff providers/npa-sqlserver/tests/golden   # review every changed line
"""

from __future__ import annotations

import os

import pytest

import mssql_scenarios as scenarios
from mssql_support import EXAMPLES, FROZEN, GOLDEN
from npa_migrations.engine.target import DatabaseTarget

REGENERATE = os.environ.get("NPA_REGEN_GOLDEN") == "1"


def compare(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.sql"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), (f"{path} is missing: run with NPA_REGEN_GOLDEN=1 and review it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"the SQL generated for '{name}' differs from {path}. If the change is intended, "
        "regenerate with NPA_REGEN_GOLDEN=1 and review the diff.")


@pytest.fixture
def provider():
    return DatabaseTarget(scenarios.URL).provider


@pytest.fixture
def frozen(monkeypatch):
    """History rows in scripts carry the time and version; fix both."""
    import npa_migrations
    import npa_migrations.engine.history as history

    monkeypatch.setattr(history, "utcnow", lambda: FROZEN)
    monkeypatch.setattr(npa_migrations, "__version__", "0.0.0")


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_operation_golden(provider, name):
    compare(name, scenarios.render(provider, name))


@pytest.mark.parametrize("mode", ["per-migration", "all-in-one"])
def test_examples_script_golden(frozen, mode):
    from npa_migrations import MigrationExecutor, MigrationExecutorOptions

    executor = MigrationExecutor(scenarios.URL, EXAMPLES,
                                 options=MigrationExecutorOptions(transaction_mode=mode))
    compare(f"examples_up_{mode.replace('-', '_')}", executor.script(offline=True))


#: the DBA scripts of the examples: golden file -> ``MigrationExecutor.script`` arguments
OFFLINE_SCRIPTS = {
    "examples_up_idempotent": {"idempotent": True},
    "examples_up_from": {"start": "20251119143022"},
    "examples_down": {"direction": "down", "target": "20251119120000"},
}


@pytest.mark.parametrize("name", sorted(OFFLINE_SCRIPTS))
def test_offline_dba_scripts_golden(frozen, name):
    from npa_migrations import MigrationExecutor

    compare(name, MigrationExecutor(scenarios.URL, EXAMPLES).script(
        offline=True, **OFFLINE_SCRIPTS[name]))


def test_every_golden_file_is_checked():
    names = {f"{n}.sql" for n in scenarios.SCENARIOS} | {
        f"{n}.sql" for n in OFFLINE_SCRIPTS} | {
        "examples_up_per_migration.sql", "examples_up_all_in_one.sql"}
    assert {p.name for p in GOLDEN.glob("*.sql")} == names
