"""The SQL of every operation, compared with golden files reviewed by hand.

No Oracle server runs in CI, so what the provider generates is pinned here: a change to
any statement shows up as a diff to review. Regenerate after an intended change, then
read the diff line by line::

    NPA_REGENERATE_GOLDEN=1 uv run --no-sync pytest providers/npa-oracle/tests/test_oracle_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import oracle_scenarios as scenarios
from oracle_golden import GOLDEN, render_case, render_script

REGENERATE = bool(os.environ.get("NPA_REGENERATE_GOLDEN"))
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "migrations"
HOSTILE = Path(__file__).parent / "migrations_hostile"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), (f"no golden file {path.name}; generate it with "
                           "NPA_REGENERATE_GOLDEN=1 and review it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{path.name} differs from what the provider renders now. If the change is "
        "intended, regenerate with NPA_REGENERATE_GOLDEN=1 and review the diff.")


@pytest.mark.parametrize("name", sorted(scenarios.CASES))
def test_operation_sql_matches_golden(name):
    check(f"{name}.sql", render_case(name))


def test_examples_script_matches_golden(monkeypatch):
    check("examples_up.sql", render_script(EXAMPLES, monkeypatch))


def test_examples_script_in_transaction_mode_none_matches_golden(monkeypatch):
    check("examples_up_mode_none.sql",
          render_script(EXAMPLES, monkeypatch, transaction_mode="none"))


#: the DBA scripts of the examples: golden file -> ``MigrationExecutor.script`` arguments
OFFLINE_SCRIPTS = {
    "examples_up_idempotent.sql": {"idempotent": True},
    "examples_up_from.sql": {"start": "20251119143022"},
    "examples_down.sql": {"direction": "down", "target": "20251119120000"},
}


@pytest.mark.parametrize("name", sorted(OFFLINE_SCRIPTS))
def test_offline_dba_scripts_match_golden(name, monkeypatch):
    check(name, render_script(EXAMPLES, monkeypatch, script=OFFLINE_SCRIPTS[name]))


def test_hostile_script_matches_golden(monkeypatch):
    check("hostile_up.sql", render_script(HOSTILE, monkeypatch))


def test_every_golden_file_has_a_case():
    known = {f"{n}.sql" for n in scenarios.CASES} | set(OFFLINE_SCRIPTS) | {
        "examples_up.sql", "examples_up_mode_none.sql", "hostile_up.sql"}
    stray = {p.name for p in GOLDEN.glob("*.sql")} - known
    assert not stray, f"golden files without a test: {sorted(stray)}; delete them"
