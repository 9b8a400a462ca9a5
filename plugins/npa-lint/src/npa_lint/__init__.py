"""npa-lint: flags dangerous migration operations before they run.

An npa-migrations plugin (entry point ``lint`` in group ``npa``). It adds
``npa migrate lint`` and a check to ``npa migrate up --dry-run``; rules and settings are
described in docs/plugins/npa-lint.md. From Python::

    from npa_migrations import MigrationExecutor
    from npa_lint import lint_executor

    findings, linted = lint_executor(MigrationExecutor(url, "migrations"))

The names below are imported lazily, so loading the plugin (every ``npa`` command that
loads plugins does) costs next to nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {"Linter": "engine", "lint_executor": "engine", "RULES": "rules", "Rule": "rules",
            "LintSettings": "settings"}
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'npa_lint' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from .engine import Linter, lint_executor
    from .rules import RULES, Rule
    from .settings import LintSettings
