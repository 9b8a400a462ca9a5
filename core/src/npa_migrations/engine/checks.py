"""Plan checks: what plugins find wrong with a run before it executes (``--dry-run``).

A plugin implements the :func:`~npa_migrations.hookspecs.npa_check_plan` hook and returns
:class:`PlanFinding` objects; :func:`check_plan` collects them from every plugin. The
``npa-lint`` plugin is one such checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .executor import MigrationExecutor
    from ..migration import MigrationScript

#: severities, most severe first; ``error`` findings fail a dry run (exit code 3)
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class PlanFinding:
    """One problem a plan check found in a migration.

    :ivar migration_id: the migration it concerns.
    :ivar rule: a stable id of what was checked, e.g. ``"drop-column"``.
    :ivar severity: ``"error"``, ``"warning"`` or ``"info"``.
    :ivar message: what is wrong and why it is dangerous, naming the table / column.
    :ivar fix: what to do instead.
    :ivar checker: who found it, e.g. ``"npa-lint"``.
    :ivar operation: the operation's human line (``Dropping column 'x'``), or ``None``.
    :ivar source: the migration's file or module, or ``None``.
    """

    migration_id: str
    rule: str
    severity: str
    message: str
    fix: str = ""
    checker: str = ""
    operation: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"PlanFinding severity must be one of {', '.join(SEVERITIES)}, "
                             f"not {self.severity!r}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_json(self) -> dict[str, Any]:
        return {"migration_id": self.migration_id, "rule": self.rule,
                "severity": self.severity, "message": self.message, "fix": self.fix,
                "checker": self.checker, "operation": self.operation, "source": self.source}

    def lines(self, marks: dict[str, str] | None = None) -> list[str]:
        """Human lines: ``<mark> <severity> [<rule>] <message>`` then ``fix: ...``.
        ``marks`` maps a severity to the symbol shown before it."""
        mark = (marks or {}).get(self.severity, "-")
        lines = [f"{mark} {self.severity:<7} [{self.rule}] {self.message}"]
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return lines


def check_plan(executor: "MigrationExecutor", migrations: "list[MigrationScript]",
               direction: str, settings: dict[str, Any] | None = None) -> list[PlanFinding]:
    """Every plugin's findings for a planned run (hook ``npa_check_plan``), ordered by
    the run order of their migrations, then most severe first."""
    found: list[PlanFinding] = []
    for result in executor.hook.npa_check_plan(executor=executor, migrations=list(migrations),
                                               direction=direction, settings=settings or {}):
        found.extend(result or ())
    order = {script.id: n for n, script in enumerate(migrations)}
    return sorted(found, key=lambda f: (order.get(f.migration_id, len(order)),
                                        SEVERITIES.index(f.severity)))
