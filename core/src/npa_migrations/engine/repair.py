"""``npa migrate repair``: settle failed history entries and accept intended checksum
changes, always under the migration lock.

A failed entry (``success = false``) records how many operations of the migration took
effect (``steps_done``) on databases that cannot roll DDL back. The choices:

* ``resume`` — run the remaining operations (after the user fixed the cause);
* ``undo_partial`` — run the inverse of the operations that took effect, newest first;
  refused, with the list of operations that have no known inverse, unless every one of
  them can be inverted (a half-undone migration would be worse than the failed one);
* ``mark_applied`` / ``mark_rolled_back`` — the user fixed the database by hand.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from ..errors import ConfigurationError, MigrationException, UnknownTargetError
from ..sqltext import first_line
from ..statements import steps_transactional

from ..provider.sql import RenderContext
from .planner import plan_steps

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.connection import DbConnection
    from .executor import MigrationExecutor
    from .history import HistoryRow

ACTIONS = ("resume", "undo_partial", "mark_applied", "mark_rolled_back")


@dataclass
class RepairReport:
    """What a repair did: one line per settled migration, and the ones still failed."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """``True`` when every failed migration was settled."""
        return not self.failed


def failed_entries(executor: "MigrationExecutor") -> list:
    conn = executor._connect()
    try:
        rows = executor._read_history(conn)
    finally:
        conn.close()
    return [r for r in rows.values() if not r.success]


def repair(executor: "MigrationExecutor", action: str | None = None,
           accept_checksum: str | None = None) -> RepairReport:
    """Apply one repair ``action`` to every failed entry, and/or accept a checksum."""
    if action is not None and action not in ACTIONS:
        raise ConfigurationError(f"Unknown repair action '{action}'; use one of "
                                 + ", ".join(a.replace("_", "-") for a in ACTIONS) + ".")
    report = RepairReport()
    with locked_history(executor) as (conn, rows):
        scripts = {s.id: s for s in executor.discover()}
        if accept_checksum is not None:
            target = executor.resolve_target(accept_checksum)
            if target not in rows:
                raise UnknownTargetError(
                    f"Migration {target} is not applied, so it has no stored checksum to "
                    "replace.")
            old, new = rows[target].checksum, scripts[target].checksum
            executor.history.set_checksum(conn, target, new)
            executor.eventlog.record(conn, "repair", migration_id=target, checksum=new,
                                     detail=f"accept-checksum: {old} -> {new}")
            report.done.append(f"{target}: accepted checksum {new}")
        if action is None:
            return report
        for row in [r for r in rows.values() if not r.success]:
            script = scripts.get(row.migration_id)
            if script is None and action in ("resume", "undo_partial"):
                raise ConfigurationError(
                    f"Migration {row.migration_id} is recorded as failed but its file was "
                    "not found; restore it, or use --mark-rolled-back / --mark-applied.")
            _repair_one(executor, conn, row, script, action, report)
    return report


@contextmanager
def locked_history(executor: "MigrationExecutor"
                   ) -> "Iterator[tuple[DbConnection, dict[str, HistoryRow]]]":
    """A connection with the history table and the event log ensured, under the
    migration lock, and the history rows read under it (for commands that change the
    history without running migrations: repair, baseline); the connection is closed
    afterwards."""
    conn = executor._connect()
    try:
        executor.history.ensure(conn)
        executor.eventlog.ensure(conn)
        with executor._locked():
            yield conn, executor.history.read(conn)
    finally:
        conn.close()


def _repair_one(executor, conn, row, script, action: str, report: RepairReport) -> None:
    before = len(report.done)
    started = time.perf_counter()
    _repair_action(executor, conn, row, script, action, report)
    if len(report.done) > before:  # settled: one "repair" row in the event log
        executor.eventlog.record(
            conn, "repair", migration_id=row.migration_id,
            checksum=script.checksum if script else row.checksum,
            duration_ms=int((time.perf_counter() - started) * 1000),
            detail=f"{action.replace('_', '-')}: {report.done[-1]}")


def _repair_action(executor, conn, row, script, action: str, report: RepairReport) -> None:
    history = executor.history
    done = row.steps_done or 0
    if action == "mark_applied":
        history.record(conn, row.migration_id, script.checksum if script else row.checksum,
                       row.execution_ms, True, replace=True)
        report.done.append(f"{row.migration_id}: marked as applied")
    elif action == "mark_rolled_back":
        history.delete(conn, row.migration_id)
        report.done.append(f"{row.migration_id}: marked as rolled back (history row removed)")
    elif action == "resume":
        remaining = _run_order(script)[done:]
        ran = _run_operations(executor, conn, script, remaining, row, done)
        history.record(conn, row.migration_id, script.checksum, row.execution_ms + ran, True,
                       replace=True)
        report.done.append(f"{row.migration_id}: resumed {len(remaining)} remaining "
                           "operation(s); now applied")
    else:  # undo_partial
        took_effect = _run_order(script)[:done]
        inverses = [(op, op.reverse()) for op in reversed(took_effect)]
        unknown = [op for op, inverse in inverses if inverse is None]
        if unknown:
            report.failed.append(
                f"{row.migration_id}: cannot undo automatically; no known inverse for: "
                + "; ".join(op.describe() for op in unknown)
                + ". Nothing was changed. Undo these by hand, then run "
                "'npa migrate repair --mark-rolled-back'.")
            return
        _run_operations(executor, conn, script, [inv for _, inv in inverses], row, done,
                        undo=True)
        history.delete(conn, row.migration_id)
        report.done.append(f"{row.migration_id}: undid {len(inverses)} operation(s); "
                           "now not applied")


def _run_order(script) -> list:
    """The migration's up operations in the order the engine ran them
    (:func:`~npa_migrations.engine.planner.order_operations`), which is the order
    ``steps_done`` counts in."""
    from .planner import order_operations

    return list(order_operations(list(script.up_operations())))


def _run_operations(executor, conn, script, operations, row, done: int, undo: bool = False) -> int:
    """Run operations in one transaction where the database allows, each statement
    between the statement events (as a migration run does); return elapsed ms."""
    from .executor import run_statement

    started = time.perf_counter()
    statement = None
    count = 0
    durable = 0  # operations known committed, where DDL commits implicitly
    transactional = False
    try:
        steps = plan_steps(executor.provider, list(operations))
        transactional = script.transactional and steps_transactional(steps)
        if transactional:
            conn.begin()
        for step in steps:
            for statement in step.render(RenderContext(conn)):
                run_statement(executor.hook, conn, script, statement)
            statement = None
            count += len(step.operations)
            if transactional and executor.provider.driver.transaction_open(conn) is False:
                durable = count  # a DDL statement committed the transaction
        if transactional:
            conn.commit()
    except Exception as exc:
        if transactional and executor.provider.driver.transaction_open(conn):
            count = durable  # the rollback undoes what ran since the last commit
        if conn.in_transaction:
            conn.rollback()
        if not undo and not executor.provider.capabilities.transactional_ddl:
            executor.history.record(conn, row.migration_id, row.checksum, row.execution_ms,
                                    False, steps_done=done + count, replace=True,
                                    error=f"{exc}")
        where = f" at statement: {first_line(statement.render())}" if statement else ""
        from .eventlog import log_failure

        log_failure(executor, conn, row.migration_id, "repair",
                    statement=statement.render() if statement else None,
                    error=f"{type(exc).__name__}: {exc}{where}",
                    detail=f"repair --{'undo-partial' if undo else 'resume'}")
        raise MigrationException(
            f"Repair of {row.migration_id} failed{where}\n  Database said: "
            f"{type(exc).__name__}: {exc}\n  The entry stays failed; fix the cause and run "
            "'npa migrate repair' again.", migration_id=row.migration_id,
            statement=statement.render() if statement else None, original=exc) from exc
    return int((time.perf_counter() - started) * 1000)
