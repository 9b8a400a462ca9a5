"""Validation of discovered migrations against the history, before anything runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..options import OutOfOrder
from .history import FAILED
from .ordering import ValidationProblem

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from .history import HistoryRow


def validate_history(ordered: list["MigrationScript"], history: dict[str, "HistoryRow"], *,
                     validate_checksums: bool = True,
                     out_of_order: OutOfOrder = OutOfOrder.ERROR,
                     direction: str = "up") -> list[ValidationProblem]:
    """Every problem between the ordered scripts and the history, all at once, for a run
    in ``direction`` (``up`` or ``down``).

    Codes: ``failed`` (a failed entry needs repair), ``interrupted`` (a migration under way
    in the other direction: ``up`` while a rollback is half done, or the reverse),
    ``missing`` (applied but not found), ``checksum`` (changed after it was applied or
    started), ``out_of_order`` (pending but older than the newest applied one),
    ``dependency`` (an applied migration depends on a pending one). A migration under way
    in ``direction`` is no problem: the run continues it. A repeatable migration whose
    checksum changed is no problem either (it runs again), and is never out of order.
    """
    problems: list[ValidationProblem] = []
    by_id = {s.id: s for s in ordered}
    position = {s.id: n for n, s in enumerate(ordered)}
    for row in history.values():
        script = by_id.get(row.migration_id)
        if row.status == FAILED:
            where = (f" after {row.position.done()} took effect"
                     if row.steps_done or row.statements_done else "")
            problems.append(ValidationProblem(
                "failed", row.migration_id,
                f"Migration {row.migration_id} is recorded as failed{where}"
                f"{': ' + first_error_line(row.error) if row.error else ''}. Fix the cause, "
                "then run 'npa migrate repair' (--resume, --undo-partial, --mark-applied or "
                "--mark-rolled-back) before migrating again."))
            continue
        if row.under_way and (row.direction or "up") != _run_direction(direction):
            problems.append(interrupted_problem(row))
            continue
        if script is None:
            problems.append(ValidationProblem(
                "missing", row.migration_id,
                f"Migration {row.migration_id} is applied in the database but was not found in "
                "the migration sources. Restore its file, or check -m / NPA_MIGRATIONS points "
                "at the right folder."))
            continue
        if validate_checksums and not script.repeatable and row.checksum != script.checksum \
                and _same_algorithm(row.checksum, script.checksum):
            what = "applied" if row.success else "started"
            problems.append(ValidationProblem(
                "checksum", row.migration_id,
                f"Migration {row.migration_id} ({script.source}) changed after it was "
                f"{what} (checksum {short(row.checksum)} in the database, "
                f"{short(script.checksum)} now). Revert the edit and add a new migration, "
                f"or if the change is harmless run 'npa migrate repair --accept-checksum "
                f"{row.migration_id}'."))
    newest = newest_applied(ordered, history)
    replaced_by = {old: s.id for s in ordered for old in s.replaces}
    for script in ordered:
        if script.id in history:
            for dep in script.depends_on:
                if dep not in history and replaced_by.get(dep) not in history:
                    problems.append(ValidationProblem(
                        "dependency", script.id,
                        f"Migration {script.id} is applied but its dependency {dep} is not. "
                        "Apply it or fix depends_on."))
            continue
        if position[script.id] < newest and out_of_order is OutOfOrder.ERROR \
                and not script.repeatable:
            problems.append(ValidationProblem(
                "out_of_order", script.id,
                f"Pending migration {script.id} ({script.source}) is older than the newest "
                f"applied migration {ordered[newest].id}. Give it a newer timestamp, or allow "
                "it with --out-of-order apply (or ignore to skip it)."))
    return problems


def interrupted_problem(row: "HistoryRow") -> ValidationProblem:
    """The problem of a migration left under way in the other direction than the run's."""
    if row.direction == "up":
        doing, finish = "being applied", "npa migrate up"
    elif row.direction == "down":
        doing, finish = "being rolled back", "npa migrate down"
    else:
        doing, finish = "being undone by repair", "npa migrate repair --undo-partial"
    return ValidationProblem(
        "interrupted", row.migration_id,
        f"Migration {row.migration_id} was {doing} when its run was interrupted "
        f"({row.position.done()} had taken effect). Run '{finish}' to finish that first, or settle "
        "it with 'npa migrate repair'.")


def _run_direction(direction: str) -> str:
    return "undo" if direction == "undo" else direction


def newest_applied(ordered: list["MigrationScript"], history: dict[str, "HistoryRow"]) -> int:
    """The position in ``ordered`` of the newest applied versioned migration (repeatable
    ones do not count), ``-1`` when none is applied."""
    return max((n for n, s in enumerate(ordered)
                if not s.repeatable and s.id in history and history[s.id].success),
               default=-1)


def pending_migrations(ordered: list["MigrationScript"], history: dict[str, "HistoryRow"],
                       out_of_order: OutOfOrder = OutOfOrder.ERROR) -> list["MigrationScript"]:
    """Versioned scripts not in the history, in run order (``IGNORE`` drops the
    out-of-order ones)."""
    versioned = [s for s in ordered if not s.repeatable]
    if out_of_order is not OutOfOrder.IGNORE:
        return [s for s in versioned if s.id not in history]
    position = {s.id: n for n, s in enumerate(ordered)}
    newest = newest_applied(ordered, history)
    return [s for s in versioned if s.id not in history and position[s.id] > newest]


def repeatables_due(ordered: list["MigrationScript"], history: dict[str, "HistoryRow"]
                    ) -> list["MigrationScript"]:
    """Repeatable scripts that run: never applied, or changed since they were (a failed
    or interrupted one is settled by repair, not run again), in run order."""
    return [s for s in ordered if s.repeatable and (
        s.id not in history or (history[s.id].success
                                and history[s.id].checksum != s.checksum))]


def _same_algorithm(stored: str, current: str) -> bool:
    """A checksum stored with another algorithm tag is re-hashed, not reported."""
    return stored.split(":", 1)[0] == current.split(":", 1)[0]


def short(checksum: str) -> str:
    """``sha256:<12 hex digits>``, as messages show a checksum."""
    algo, _, digest = checksum.partition(":")
    return f"{algo}:{digest[:12]}" if digest else checksum[:12]


def first_error_line(error: str) -> str:
    """The first line of a stored error."""
    return error.strip().splitlines()[0] if error and error.strip() else ""
