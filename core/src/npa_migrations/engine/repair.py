"""``npa migrate repair``: settle failed and interrupted history entries and accept intended
checksum changes, always under the migration lock.

A failed entry (``failed``) or one an interrupted run left under way (``running``,
``stopped``) records exactly how far its steps took effect (the journal,
:mod:`npa_migrations.engine.journal`), and in which direction it was going. The choices:

* ``resume`` -- run the rest, from that position, in the direction it was going (after
  the user fixed the cause). A ``running`` entry's statement in doubt is first checked
  against the live schema, as ``up`` does; when the schema cannot tell, it runs again,
  unless ``skip_in_doubt`` says it took effect;
* ``undo_partial`` -- run the inverse of the steps of an ``up`` that took effect, newest
  first; refused, with the operations that have no known inverse, unless every one of
  them can be inverted (a half-undone migration would be worse than the failed one), and
  refused when a step took effect only in part;
* ``mark_applied`` / ``mark_rolled_back`` -- the user settled the database by hand.

Resume and undo go through the engine's one runner, so they are journaled like any run:
an interrupted repair is itself recorded where it stopped. Each settled entry gets one
``repair`` row in the event log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, UnknownTargetError, ValidationError
from .history import FAILED, RUNNING, STOPPED, Position
from .plan import DOWN, UNDO, UP, Plan, PlannedMigration
from .planner import plan_steps
from .recovery import statement_in_doubt

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from ..results import MigrationResult
    from .executor import MigrationExecutor
    from .history import HistoryRow
    from .session import Session

ACTIONS = ("resume", "undo_partial", "mark_applied", "mark_rolled_back")


@dataclass
class RepairReport:
    """What a repair did: one line per settled migration, and the ones still unsettled."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """``True`` when every entry was settled."""
        return not self.failed


def unsettled_entries(rows: dict[str, "HistoryRow"]) -> list["HistoryRow"]:
    """The history entries repair settles: failed ones, and those a run left under way."""
    return [r for r in rows.values() if r.status in (FAILED, RUNNING, STOPPED)]


def repair(executor: "MigrationExecutor", session: "Session", action: str | None = None,
           accept_checksum: str | None = None, *, skip_in_doubt: bool = False) -> RepairReport:
    """Apply one repair ``action`` to every failed or interrupted entry, and/or accept a
    checksum (see the module docs)."""
    if action is not None and action not in ACTIONS:
        raise ConfigurationError(f"Unknown repair action '{action}'; use one of "
                                 + ", ".join(a.replace("_", "-") for a in ACTIONS) + ".")
    report = RepairReport()
    with session.locked():
        session.ensure_tables()
        rows = session.read_history()
        scripts = {s.id: s for s in executor.discover()}
        if accept_checksum is not None:
            _accept_checksum(session, rows, scripts, accept_checksum, report)
        if action is None:
            return report
        for row in unsettled_entries(rows):
            script = scripts.get(row.migration_id)
            before = len(report.done)
            started = time.perf_counter()
            _repair_one(executor, session, rows, row, script, action, skip_in_doubt, report)
            if len(report.done) > before:  # settled: one "repair" row in the event log
                session.eventlog.record(
                    session.connection, "repair", migration_id=row.migration_id,
                    checksum=script.checksum if script else row.checksum,
                    duration_ms=int((time.perf_counter() - started) * 1000),
                    detail=f"{action.replace('_', '-')}: {report.done[-1]}")
    return report


def _accept_checksum(session: "Session", rows: dict[str, "HistoryRow"],
                     scripts: dict[str, "MigrationScript"], target: str,
                     report: RepairReport) -> None:
    if target not in rows:
        raise UnknownTargetError(
            f"Migration {target} is not applied, so it has no stored checksum to replace.")
    old, new = rows[target].checksum, scripts[target].checksum
    session.history.set_checksum(session.connection, target, new)
    session.eventlog.record(session.connection, "repair", migration_id=target, checksum=new,
                            detail=f"accept-checksum: {old} -> {new}")
    report.done.append(f"{target}: accepted checksum {new}")


def _repair_one(executor: "MigrationExecutor", session: "Session",
                rows: dict[str, "HistoryRow"], row: "HistoryRow",
                script: "MigrationScript | None", action: str, skip_in_doubt: bool,
                report: RepairReport) -> None:
    history, conn = session.history, session.connection
    if action == "mark_applied":
        history.record(conn, row.migration_id, script.checksum if script else row.checksum,
                       row.execution_ms, True, replace=True, state="applied", direction=UP)
        report.done.append(f"{row.migration_id}: marked as applied")
    elif action == "mark_rolled_back":
        history.delete(conn, row.migration_id)
        report.done.append(f"{row.migration_id}: marked as rolled back (history row removed)")
    elif script is None:
        raise ConfigurationError(
            f"Migration {row.migration_id} is recorded as {row.status} but its file "
            "was not found; restore it, or use --mark-rolled-back / --mark-applied.")
    elif action == "resume":
        _resume(executor, session, rows, row, script, skip_in_doubt, report)
    else:
        _undo(executor, session, rows, row, script, report)


def _resume(executor: "MigrationExecutor", session: "Session", rows: dict[str, "HistoryRow"],
            row: "HistoryRow", script: "MigrationScript", skip_in_doubt: bool,
            report: RepairReport) -> None:
    direction = row.direction or UP
    if direction == UNDO:
        report.failed.append(
            f"{row.migration_id}: an undo (repair --undo-partial) was interrupted part way, "
            "and the steps it reverted cannot be told from the history. Check the "
            "database, then settle it with --mark-rolled-back or --mark-applied.")
        return
    operations = script.up_operations() if direction == UP else (script.down_operations() or [])
    start = row.position
    if row.status == RUNNING and not skip_in_doubt:
        # the statement under way when the run died: what the live schema shows settles
        # it, as in 'up' (never run again a CREATE that took effect); what it cannot show
        # runs again -- the user chose --resume over --skip-in-doubt after checking
        planned = PlannedMigration(script, direction, operations, row)
        try:
            result = executor.run(session, Plan(direction, [planned]), rows)
        except ValidationError as exc:
            if any(p.code != "in_doubt" for p in exc.problems):
                raise
        else:
            _resumed(row, planned.start, direction, result, report)
            return
    if row.status == RUNNING:
        if skip_in_doubt:  # past the statement in doubt (the next step's first, when the
            # record says a whole step ran)
            start, _ = statement_in_doubt(session, plan_steps(executor.provider, operations),
                                          start)
            start = Position(start.step, start.statement + 1)
        session.history.progress(session.connection, row.migration_id, start)
        session.history.settle(session.connection, row.migration_id, STOPPED)
        row = session.read_history()[row.migration_id]
    plan = Plan(direction, [PlannedMigration(script, direction, operations, row)])
    _resumed(row, start, direction, executor.run(session, plan, rows), report)


def _resumed(row: "HistoryRow", start: Position, direction: str, result: "MigrationResult",
             report: RepairReport) -> None:
    if not result.success:  # recorded as failed again, at the position it reached
        raise result.first_failure()
    what = "applied" if direction == UP else "rolled back"
    report.done.append(f"{row.migration_id}: resumed from {start}; now {what}")


def _undo(executor: "MigrationExecutor", session: "Session", rows: dict[str, "HistoryRow"],
          row: "HistoryRow", script: "MigrationScript", report: RepairReport) -> None:
    if (row.direction or UP) != UP:
        report.failed.append(
            f"{row.migration_id}: --undo-partial reverts a partly applied 'up'; this entry "
            f"was {'being rolled back' if row.direction == DOWN else 'being undone'}. "
            "Use --resume to continue it, or settle it by hand (--mark-rolled-back / "
            "--mark-applied).")
        return
    if row.status == RUNNING:
        report.failed.append(
            f"{row.migration_id}: its last run died with a statement in doubt ({row.position}); "
            "run 'npa migrate up' (it checks the statement against the database) or 'npa "
            "migrate repair --resume [--skip-in-doubt]' first.")
        return
    position = row.position
    steps = plan_steps(executor.provider, script.up_operations())
    if position.statement:
        partial = steps[position.step].describe()
        report.failed.append(
            f"{row.migration_id}: step {position.step + 1} ({partial}) took effect only in "
            f"part ({position.statement} statement(s)), which no inverse undoes exactly. "
            "Finish it with --resume, or undo it by hand and use --mark-rolled-back.")
        return
    took_effect = [op for step in steps[:position.step] for op in step.operations]
    inverses = [(op, op.reverse()) for op in reversed(took_effect)]
    unknown = [op for op, inverse in inverses if inverse is None]
    if unknown:
        report.failed.append(
            f"{row.migration_id}: cannot undo automatically; no known inverse for: "
            + "; ".join(op.describe() for op in unknown)
            + ". Nothing was changed. Undo these by hand, then run "
            "'npa migrate repair --mark-rolled-back'.")
        return
    undo = [inverse for _, inverse in inverses if inverse is not None]
    plan = Plan(UNDO, [PlannedMigration(script, UNDO, undo, row)])
    result = executor.run(session, plan, rows)
    if not result.success:  # the failed entry stays as it was
        raise result.first_failure()
    report.done.append(f"{row.migration_id}: undid {len(inverses)} operation(s); now not "
                       "applied")
