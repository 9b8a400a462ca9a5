"""Rendering the scenario migrations to SQL the way the golden files hold it.

``render_case(name)``: one line ``-- <what the step does>`` per step, then each statement
as it reads in a SQL*Plus script (``;`` after plain statements, ``/`` after PL/SQL).
``render_script(folder)``: the complete offline ``--sql`` script of a migrations folder,
with the parts that change from run to run (time, product version, checksums) fixed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import oracle_scenarios as scenarios
from npa_migrations.provider import OFFLINE
from npa_migrations.engine.planner import plan_steps

GOLDEN = Path(__file__).parent / "golden"
FIXED_TIME = dt.datetime(2025, 1, 2, 3, 4, 5, 678000)
_CHECKSUM = re.compile(r"sha256:[0-9a-f]{64}")


def provider():
    from npa_migrations.engine.target import parse_url
    from npa_migrations.provider.registry import resolve_provider

    return resolve_provider(parse_url(scenarios.URL))


def statements(name: str) -> list[tuple[str, list]]:
    """``[(step description, [Statement, ...]), ...]`` of scenario ``name``."""
    p = provider()
    return [(step.describe(), list(step.render(OFFLINE)))
            for step in plan_steps(p, scenarios.operations(name))]


def render_case(name: str) -> str:
    p = provider()
    lines = [f"-- scenario {name}: rendered by npa-oracle for {p.display_url()}", ""]
    for description, found in statements(name):
        lines.append(f"-- {description}")
        lines += [p.sql.script_statement(s.render()) for s in found]
    return "\n".join(lines) + "\n"


def render_script(folder: str | Path, monkeypatch, script: dict | None = None,
                  **options) -> str:
    """The offline ``--sql`` script of ``folder`` (``monkeypatch``: pytest's fixture, used
    to fix the history row's time and product version; ``script``: keyword arguments of
    ``MigrationExecutor.script``, e.g. ``idempotent=True``)."""
    import npa_migrations
    from npa_migrations import MigrationExecutor, MigrationExecutorOptions
    from npa_migrations.engine import history

    monkeypatch.setattr(history, "utcnow", lambda: FIXED_TIME)
    monkeypatch.setattr(npa_migrations, "__version__", "0.0.0")
    executor = MigrationExecutor(scenarios.URL, str(folder),
                                 options=MigrationExecutorOptions(**options))
    return normalise(executor.script(offline=True, **(script or {})))


def normalise(text: str) -> str:
    return _CHECKSUM.sub("sha256:<checksum>", text).rstrip("\n") + "\n"
