"""npa-lint's configuration: the ``[lint]`` section of ``npa.toml`` (``[tool.npa.lint]``
in ``pyproject.toml``), and the per-migration ignores.

.. code-block:: toml

    [lint]
    disable = ["drop-table"]             # rules never reported
    large_table_rows = 500000            # rewrite-large-table threshold (row estimate)
    fail_on = "error"                    # error | warning | never  (exit code 3)

    [lint.severity]
    drop-column = "error"                # change a rule's severity
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from npa_migrations.errors import ConfigurationError

from .rules import ALL, RULES

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.migration import MigrationScript

SECTION = "lint"
DEFAULT_LARGE_TABLE_ROWS = 1_000_000
FAIL_ON = ("error", "warning", "never")
SEVERITIES = ("error", "warning", "info")
KEYS = {"disable", "severity", "large_table_rows", "fail_on"}
#: ``-- npa:lint-ignore rule-a, rule-b`` (in a SQL file or an execute() statement)
IGNORE_DIRECTIVE = re.compile(r"--\s*npa:lint-ignore\b[ \t]*(?P<rules>[^\n]*)", re.IGNORECASE)


@dataclass
class LintSettings:
    """Resolved lint settings (defaults where the configuration says nothing)."""

    disable: frozenset[str] = frozenset()
    severity: dict[str, str] = field(default_factory=dict)
    large_table_rows: int = DEFAULT_LARGE_TABLE_ROWS
    fail_on: str = "error"

    @classmethod
    def from_config(cls, settings: dict[str, Any] | None) -> "LintSettings":
        """Read the ``lint`` section of the resolved configuration; every mistake is a
        :class:`ConfigurationError` (exit code 2) that lists what is allowed."""
        section = (settings or {}).get(SECTION) or {}
        if not isinstance(section, dict):
            raise ConfigurationError(
                "The 'lint' setting must be a table ([lint] in npa.toml, [tool.npa.lint] in "
                "pyproject.toml).")
        unknown = sorted(set(section) - KEYS)
        if unknown:
            raise ConfigurationError(
                f"[lint]: unknown setting(s) {', '.join(unknown)}. Known settings: "
                f"{', '.join(sorted(KEYS))}.")
        disable = section.get("disable", [])
        if isinstance(disable, str):
            disable = [disable]
        result = cls(disable=frozenset(check_rule_ids(disable, "[lint] disable")))
        severity = section.get("severity", {})
        if not isinstance(severity, dict):
            raise ConfigurationError("[lint] severity must be a table: rule id = severity.")
        check_rule_ids(severity, "[lint.severity]")
        for rule, value in severity.items():
            if value not in SEVERITIES:
                raise ConfigurationError(
                    f"[lint.severity] {rule} = {value!r}: use one of {', '.join(SEVERITIES)}.")
        result.severity = dict(severity)
        rows = section.get("large_table_rows", DEFAULT_LARGE_TABLE_ROWS)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ConfigurationError(
                f"[lint] large_table_rows = {rows!r}: give a whole number of rows (>= 0).")
        result.large_table_rows = rows
        fail_on = section.get("fail_on", "error")
        if fail_on not in FAIL_ON:
            raise ConfigurationError(
                f"[lint] fail_on = {fail_on!r}: use one of {', '.join(FAIL_ON)}.")
        result.fail_on = fail_on
        return result

    def severity_of(self, rule_id: str) -> str:
        return self.severity.get(rule_id, RULES[rule_id].severity)

    def fails(self, severities: Iterable[str]) -> bool:
        """Whether findings of these severities fail the run under :attr:`fail_on`."""
        if self.fail_on == "never":
            return False
        failing = {"error"} if self.fail_on == "error" else {"error", "warning"}
        return any(s in failing for s in severities)


def check_rule_ids(ids: Iterable[str], where: str) -> list[str]:
    """The ids, each a known rule (or ``all``); an unknown one is a clear error."""
    ids = list(ids)
    unknown = [i for i in ids if i not in RULES and i != ALL]
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown lint rule(s) {', '.join(map(repr, unknown))}. Known rules: "
            f"{', '.join(RULES)} (or '{ALL}').")
    return ids


def parse_directives(text: str, where: str) -> set[str]:
    """Rule ids named by ``-- npa:lint-ignore`` lines in ``text``."""
    found: set[str] = set()
    for match in IGNORE_DIRECTIVE.finditer(text):
        names = [n for n in re.split(r"[\s,]+", match["rules"].strip()) if n]
        if not names:
            raise ConfigurationError(
                f"{where}: '-- npa:lint-ignore' names no rule. Write e.g. "
                "'-- npa:lint-ignore drop-column' (or 'all').")
        found.update(check_rule_ids(names, where))
    return found


def migration_ignores(script: "MigrationScript") -> set[str]:
    """Rules a migration turns off for all of its operations: the ``lint_ignore``
    attribute of a Python migration class, or ``-- npa:lint-ignore`` lines anywhere in a
    ``.sql`` migration file."""
    where = f"Migration {script.id} ({script.source})"
    cls = script.migration_class
    if cls is not None:
        value = getattr(cls, "lint_ignore", ())
        if isinstance(value, str):
            value = [value]
        return set(check_rule_ids(value, f"{where}: lint_ignore"))
    path = Path(script.source)
    if path.suffix == ".sql" and path.is_file():
        return parse_directives(path.read_text(encoding="utf-8"), where)
    return set()
