"""LiveTarget: the runner's statements executed against a database, truthfully recorded.

Transactions. A migration runs **atomically** -- every statement and its history row in
one transaction, one commit -- when the database rolls DDL back and every step may run in
a transaction (``all-in-one`` mode puts every migration in one outer transaction). Any
other migration is **journaled** (:mod:`npa_migrations.engine.journal`): its steps that may
run in a transaction share one, with the record of their progress; a statement that the
database commits on its own (DDL on MySQL/Oracle) is settled in the next transaction; a
step that must run outside a transaction runs statement by statement, each marked
in flight before it runs. A failure, a stop request or a kill leaves a history row that
says exactly what took effect.

Events. Every hook a plugin or the CLI listens to fires here: ``npa_run_planned``,
``npa_migration_start``, ``npa_statement_start`` / ``npa_statement_executed``,
``npa_operation_done``, ``npa_migration_retry``, ``npa_migration_end``, and the
``npa_checkpoint`` boundaries (begin, statement, commit, ...).
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import MigrationException, NpaError, RunInterrupted
from ..operations import OperationStream
from ..options import TransactionMode
from ..plugins import live
from ..provider.context import RenderContext
from ..provider.driver import StatementBatchError
from ..results import ProgressStep
from ..sqltext import first_line
from .history import Position
from .journal import Journal
from .planner import StepStream
from .runner import RetryMigration, RetryRun, RunTarget

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..migration import MigrationScript
    from ..options import MigrationExecutorOptions
    from ..schema.verify import Verifier
    from ..statements import Statement, Step
    from .interrupt import Interruption
    from .plan import Plan, PlannedMigration
    from .session import Session


def step_in_transaction(script: "MigrationScript", step: "Step",
                        options: "MigrationExecutorOptions") -> bool:
    """Whether a step's statements may run inside the migration's transaction: the step
    and the migration allow it, and the transaction mode is not ``none``."""
    return (step.transactional and script.transactional
            and options.transaction_mode is not TransactionMode.NONE)


def steps_in_transaction(script: "MigrationScript", steps: "Sequence[Step]",
                         options: "MigrationExecutorOptions") -> list[bool]:
    """:func:`step_in_transaction` of every step; of a
    :class:`~npa_migrations.engine.planner.StepStream` (a large ``.sql`` file) without
    planning its steps."""
    if isinstance(steps, StepStream):
        if not script.transactional or options.transaction_mode is TransactionMode.NONE:
            return [False] * len(steps)  # no step is: no need to ask
        return steps.transactional()
    return [step_in_transaction(script, step, options) for step in steps]


class LiveHooks:
    """The run's hook callers, where a hook no plugin implements is a no-op
    (:func:`~npa_migrations.plugins.live`): a pluggy call costs microseconds even with
    nothing to call, and a run makes several per statement."""

    def __init__(self, hook: Any):
        self._hook = hook

    def __getattr__(self, name: str) -> Any:
        value = live(getattr(self._hook, name))
        setattr(self, name, value)
        return value


class LiveTarget(RunTarget):
    """Runs statements on ``session`` (see the module docs).

    :param session: the open session, holding the migration lock.
    :param options: the run's options.
    :param verifier: post-execution verification, or ``None``.
    :param interruption: the run's stop request (a statement that rolls back anyway is
        cancelled when a stop is requested).
    """

    def __init__(self, session: "Session", options: "MigrationExecutorOptions", *,
                 verifier: "Verifier | None" = None,
                 interruption: "Interruption | None" = None):
        self.session = session
        self.provider = session.provider
        self.driver = session.provider.driver
        #: the provider's names (a set built anew on each access; asked once per step)
        self.names = self.provider.sql.names
        self.options = options
        self.verifier = verifier
        self.interruption = interruption
        self.hooks = LiveHooks(session.hook)
        self.context = RenderContext(session.connection)
        self.outer = options.transaction_mode is TransactionMode.ALL_IN_ONE
        self.transactional_ddl = self.provider.capabilities.transactional_ddl
        # the migration under way
        self.migration: "PlannedMigration | None" = None
        self.journal: Journal | None = None
        self.atomic = False
        self.wrapped: list[bool] = []
        self.steps: Sequence["Step"] = []
        self.started = 0.0
        self.statement: "Statement | None" = None
        #: a statement running outside any transaction, while it runs
        self.unguarded: "Statement | None" = None
        self.cancellable = False
        #: the statements of the steps of the batch that just ran, by step index, whose
        #: events :meth:`finish_step` fires; and each one's share of the batch's time
        self.batched: dict[int, list["Statement"]] = {}
        self.batch_share = 0.0
        #: the verifier's model before an all-in-one run (``False``: nothing to restore)
        self.base_model: Any = None
        #: the journal of the migration that runs next, when its ``running`` row was
        #: written with the previous one's end (:meth:`_start_next`)
        self.started_next: Journal | None = None

    @property
    def conn(self) -> Any:
        """The run's connection."""
        return self.session.connection

    # the run ---------------------------------------------------------------------------
    def start_run(self, plan: "Plan") -> None:
        if self.base_model is None:  # announced once, also when the run is retried
            self.hooks.npa_run_planned(migrations=plan.scripts, direction=plan.direction)
            self.session.eventlog.ensure(self.conn)
        if self.verifier is not None:  # a retried all-in-one run verifies from the start
            if self.base_model is None:
                self.base_model = self.verifier.model.snapshot() if self.outer else False
            elif self.base_model is not False:
                self.verifier.model = self.base_model.snapshot()
        else:
            self.base_model = False
        if self.outer and len(plan):
            self._begin()

    def finish_run(self, plan: "Plan", result: Any) -> None:
        if not (self.outer and len(plan)):
            return
        if result.errors:  # the whole all-in-one transaction went with the failure
            result.migration_ids.clear()
        else:
            self.session.commit()

    # a migration -----------------------------------------------------------------------
    def start_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                        index: int, total: int) -> None:
        script = migration.script
        if self.migration is not migration:  # not again when it is retried
            self.migration = migration
            self.hooks.npa_migration_start(migration=script, index=index, total=total,
                                           direction=_event_direction(migration))
            if self.options.on_progress is not None:  # not built for no one
                self._progress(script, ProgressStep(
                    "start", f"Executing migration {index}/{total}: {script.name}"))
        self.started = time.perf_counter()
        self.batched = {}
        self.session.checkpoint("migration", script)
        self.steps = steps
        self.wrapped = steps_in_transaction(script, steps, self.options)
        self.atomic = self.outer or (self.transactional_ddl and all(self.wrapped)
                                     and not migration.continues)
        if self.atomic:
            self.journal = None
            if not self.outer:
                self._begin()
            else:
                self._apply_lock_timeout()
            return
        started, self.started_next = self.started_next, None
        if started is not None and started.migration is migration:
            self.journal = started  # its row went with the previous migration's end
            self._apply_lock_timeout()
            return
        self.journal = Journal(self.session, migration)
        first = migration.start.step
        if first < len(steps) and self.wrapped[first] and self.transactional_ddl:
            self._begin()
            self.journal.start()
        elif first < len(steps) and self.wrapped[first]:
            # DDL commits implicitly: the first statement decides whether the row goes in
            # its transaction or alone before it (see _run_statement)
            self._apply_lock_timeout()
            self.journal.start_later()
        else:
            self._apply_lock_timeout()
            self.journal.start()

    def run_statement(self, migration: "PlannedMigration", position: "Position",
                      step: "Step", statement: "Statement") -> None:
        self._run_statement(migration, position, step, statement)
        if statement.rows_done is not None:
            self._rows_done(migration, step, statement.rows_done)

    def _run_statement(self, migration: "PlannedMigration", position: "Position",
                       step: "Step", statement: "Statement") -> None:
        if self.atomic:
            self._execute(migration.script, statement, cancellable=True)
            return
        journal = self.journal
        assert journal is not None  # every migration that is not atomic is journaled

        def position_after() -> "Position":  # read once the statement ran: its
            # checkpoint is set then
            return type(position)(position.step, position.statement + 1, statement.checkpoint)

        if not self.wrapped[position.step]:
            self._end_transaction(migration)
            journal.flush()  # a row or position still in memory: written for good first
            if step.data:  # its own transaction, committed with the record of it; a
                # stop request waits for it (a chunk is short), so the run stops cleanly
                self._begin()
                self._execute(migration.script, statement, cancellable=False)
                journal.advance(position_after())
                self._commit(migration)
                return
            journal.advance(position, in_flight=True)
            if self.interruption is not None and self.interruption.requested:
                # asked to stop while the transaction before it committed or the mark
                # was written: the statement has not started, so stop before it
                journal.advance(position)
                raise self.stop(migration)
            self.unguarded = statement
            self._execute(migration.script, statement, cancellable=False)
            self.unguarded = None
            journal.advance(position_after())
            return
        alone = False
        if not self.conn.in_transaction:
            # where DDL commits implicitly, a statement that certainly does so would commit
            # the journal's record due before it at once: the record is written alone, in
            # autocommit, and the statement runs without a transaction (one BEGIN fewer,
            # the same durable states)
            alone = (not self.transactional_ddl
                     and self.driver.commits_implicitly(statement.sql))
            if not alone:
                self._begin()
            if journal.start_pending:
                journal.start()
        if journal.unwritten and (alone or not self.driver.keeps_transaction(statement.sql)):
            journal.flush()  # this statement may commit: the record of the ones before first
        self._execute(migration.script, statement, cancellable=self.transactional_ddl)
        self._ran_in_transaction(migration, position_after(), alone)

    def _ran_in_transaction(self, migration: "PlannedMigration", after: "Position",
                            alone: bool = False) -> None:
        """Journal what ran (one statement, or a batch) inside the migration's
        transaction -- or alone in autocommit (``alone``) -- up to ``after``."""
        journal = self.journal
        assert journal is not None
        # a statement run alone in autocommit committed itself
        still_open = False if alone else self.driver.transaction_open(self.conn)
        if still_open is False:
            # the statement committed everything before it, and itself: carry its record
            # in the next transaction, opened by the next statement or the migration's end
            # (until that commits, the next run checks it)
            self.conn.in_transaction = False
            journal.statement_committed(after)
            # written before anything that can make that transaction durable (a statement
            # that may commit, a commit): never alone, except just before a statement that
            # commits implicitly anyway
            journal.advance_later(after)
        elif self.transactional_ddl:
            journal.position = after  # written just before the transaction commits
        elif still_open is None:  # the database cannot tell: commit each statement
            journal.advance(after)
            self._commit(migration)
        else:  # written before the next implicit or explicit commit (see Journal.flush)
            journal.advance_later(after)

    def batch_limits(self, migration: "PlannedMigration") -> tuple[int, int] | None:
        """The driver's batch size. A migration that runs in one transaction with its
        history row (atomic, or all-in-one) batches any plain statements: a kill or a
        failure loses the batch with everything else of the migration, so nothing is
        journaled per statement. A journaled one batches only statements that keep its
        transaction open (:meth:`batch_accepts`), and journals the position after each
        batch as after one such statement: in memory, written in that transaction
        before anything can commit it."""
        driver = self.driver
        if driver.batch_statements <= 1:
            return None
        return driver.batch_statements, driver.batch_chars

    def batchable(self, migration: "PlannedMigration", index: int, step: "Step") -> bool:
        """A step that runs inside the transaction and renders without the database."""
        return self.wrapped[index] and not step.live and not step.data

    def batch_accepts(self, migration: "PlannedMigration",
                      statements: list["Statement"]) -> bool:
        """Any plain statements of an atomic migration; in a journaled one, statements
        that certainly do not commit the transaction (the driver's
        :meth:`~npa_migrations.provider.driver.Driver.keeps_transaction`: plain DML where
        DDL commits implicitly), so a batch never commits part of itself."""
        if self.atomic:
            return True
        keeps = self.driver.keeps_transaction
        return all(keeps(statement.sql) for statement in statements)

    def run_batch(self, migration: "PlannedMigration",
                  entries: list[tuple[int, "Step", list["Statement"]]]) -> None:
        """Send the statements together (the driver's
        :meth:`~npa_migrations.provider.driver.Driver.execute_batch`). The checkpoints
        ``statement`` and ``executed`` bracket the batch. Once it returned, the events
        come as if the statements had run one by one: each statement's
        ``npa_statement_start`` and ``npa_statement_executed`` (an equal share of the
        batch's time), then its step's operation events (:meth:`finish_step`), step
        after step. When one fails, the steps before it get all their events, the
        statements before it in its step both statement events, and it gets
        ``npa_statement_start`` and becomes the statement the failure names."""
        self.end_batch(migration, entries, self.start_batch(migration, entries))

    def start_batch(self, migration: "PlannedMigration",
                    entries: list[tuple[int, "Step", list["Statement"]]]) -> Any:
        """The first half of :meth:`run_batch`: the checkpoint ``statement`` and the
        batch sent (the driver's
        :meth:`~npa_migrations.provider.driver.Driver.start_batch`), returning while the
        server may still be running it."""
        statements = [s for _, _, batch in entries for s in batch]
        if not statements:  # steps that do nothing here (SQL for other databases)
            return None
        journal = self.journal
        if journal is not None and not self.conn.in_transaction:  # journaled: its
            # statements keep the transaction, which holds the row or position due first
            self._begin()
            if journal.start_pending:
                journal.start()
        self.session.checkpoint("statement", migration.script)
        self.cancellable = self.atomic or self.transactional_ddl
        started = time.perf_counter()
        try:
            handle = self.driver.start_batch(self.conn, [s.sql for s in statements],
                                             locate=self._locate_failure)
        except StatementBatchError as exc:
            self._batch_failed(migration, entries, statements, exc.index)
            raise exc.error from None
        finally:
            self.cancellable = False
        return statements, handle, started

    def end_batch(self, migration: "PlannedMigration",
                  entries: list[tuple[int, "Step", list["Statement"]]], pending: Any) -> None:
        """The second half of :meth:`run_batch`: wait for the batch, the checkpoint
        ``executed``, the position journaled (a journaled migration), and the steps'
        statements kept for :meth:`finish_step`'s events."""
        if pending is None:
            self.batched = {index: batch for index, _, batch in entries}
            return
        statements, handle, started = pending
        if handle is not None:
            self.cancellable = self.atomic or self.transactional_ddl
            try:
                self.driver.end_batch(self.conn, handle)
            except StatementBatchError as exc:
                self._batch_failed(migration, entries, statements, exc.index)
                raise exc.error from None
            finally:
                self.cancellable = False
        self.session.checkpoint("executed", migration.script)
        if self.journal is not None:  # every step of the batch ran
            self._ran_in_transaction(migration, Position(entries[-1][0] + 1))
        self.batch_share = (time.perf_counter() - started) / len(statements)
        self.batched = {index: batch for index, _, batch in entries}

    def _batch_failed(self, migration: "PlannedMigration",
                      entries: list[tuple[int, "Step", list["Statement"]]],
                      statements: list["Statement"], failed: int | None) -> None:
        """The events of a failed batch (see :meth:`run_batch`), and the statement the
        failure names: the one that failed, or, when the batch was cancelled by a stop
        request, its first (with the number sent with it)."""
        script = migration.script
        if failed is None:
            self.statement = replace(statements[0], label=(
                f"{statements[0].describe()} (or one of the {len(statements) - 1} "
                "statement(s) sent with it)"))
            return
        self.batch_share = 0.0
        before = failed
        for index, step, batch in entries:
            if len(batch) <= before:  # the whole step ran
                self.batched = {index: batch}
                self.finish_step(migration, index, step, 0.0)
                before -= len(batch)
                continue
            self._statement_events(script, batch[:before], 0.0)
            break
        self.statement = statements[failed]
        self.hooks.npa_statement_start(migration=script, statement=self.statement)

    def _statement_events(self, script: "MigrationScript", statements: list["Statement"],
                          duration: float) -> None:
        start, executed = self.hooks.npa_statement_start, self.hooks.npa_statement_executed
        for statement in statements:
            start(migration=script, statement=statement)
            executed(migration=script, statement=statement, duration=duration)

    def _locate_failure(self, error: BaseException) -> bool:
        """Whether to find the statement of a failed batch: not when a stop request
        cancelled it (the run stops; running the batch again would only wait)."""
        return self.interruption is None or not self.interruption.requested

    def _rows_done(self, migration: "PlannedMigration", step: "Step", rows: int) -> None:
        """A chunk of a data step ran: report the rows it has changed so far."""
        operation = step.operations[0]
        self.hooks.npa_operation_progress(migration=migration.script, operation=operation,
                                          rows_done=rows)
        self._progress(migration.script, ProgressStep(
            "progress", f"{operation.describe()}: {rows} row(s) done"))

    def finish_step(self, migration: "PlannedMigration", index: int, step: "Step",
                    duration: float) -> None:
        if self.batched:  # a step of a batch: its statements' events first
            self._statement_events(migration.script, self.batched.pop(index, []),
                                   self.batch_share)
        if self.journal is not None:
            self.journal.step_done(index)
        names = self.names
        for operation in step.operations:
            skipped = operation.skipped_on(names)
            if skipped is not None:
                self.hooks.npa_operation_skipped(migration=migration.script,
                                                 operation=operation, reason=skipped)
                if self.options.on_progress is not None:
                    self._progress(migration.script, ProgressStep(
                        "skipped", f"{operation.describe()} (skipped: {skipped})"))
                continue
            self.hooks.npa_operation_done(migration=migration.script, operation=operation,
                                          duration=duration)
            if self.options.on_progress is not None:
                self._progress(migration.script, ProgressStep(
                    "operation", operation.describe(), duration))

    def finish_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                         following: "PlannedMigration | None" = None) -> None:
        script = migration.script
        if self.verifier is not None and migration.direction in ("up", "down"):
            operations = migration.operations  # a stream is read again, not copied
            self.verifier.verify(script, operations if isinstance(operations, OperationStream)
                                 else list(operations), migration.direction)
        elapsed_ms = int((time.perf_counter() - self.started) * 1000)
        history, conn = self.session.history, self.conn
        with self.driver.batched(conn):
            if not conn.in_transaction:
                self._begin()
            if migration.direction == "up":  # a repeatable one may run again: its new row
                history.record(conn, script.id, script.checksum, elapsed_ms, True,
                               replace=self.journal is not None or script.repeatable,
                               state="applied", direction="up")
            else:  # a squash takes the rows of the migrations it replaces with it
                for migration_id in (script.id, *script.replaces):
                    history.delete(conn, migration_id)
            self.session.eventlog.record(
                conn, "apply" if migration.direction == "up" else "revert",
                migration_id=script.id, checksum=script.checksum, duration_ms=elapsed_ms,
                detail=f"continued from {migration.start}" if migration.continues else None)
            started = self._start_next(following)
            if not self.outer:  # the row written whole above supersedes a position
                self.session.commit(script, held=True)  # kept in memory
        if not self.outer:  # committed once the block ended (the driver may have held
            self.session.committed(script)  # the COMMIT until then): not before
            if self.journal is not None:
                self.journal.committed()
        if started is not None:
            started.committed()
            self.started_next = started
        self.journal = None
        duration = time.perf_counter() - self.started
        self.hooks.npa_migration_end(migration=script, direction=_event_direction(migration),
                                     duration=duration, error=None)
        if self.options.on_progress is not None:
            self._progress(script, ProgressStep("end", f"{script.id} done", duration))

    def _start_next(self, following: "PlannedMigration | None") -> Journal | None:
        """Where DDL commits implicitly, the ``running`` row of the migration that runs
        next would be a commit of its own, alone before its first statement: it is
        written here instead, in the transaction that records this migration's end (one
        commit and round trip fewer per migration). The durable states are those of a
        run that stops just before the next migration's first statement -- its row says
        ``running`` where nothing of it ran yet, which the next run checks against the
        live schema as after any interruption there; a stop requested before it starts
        puts the row back (:meth:`stop`)."""
        if following is None or self.outer or self.transactional_ddl:
            return None
        journal = Journal(self.session, following)
        journal.start()
        return journal

    # failure, retry, stop --------------------------------------------------------------
    def fail_migration(self, migration: "PlannedMigration", exc: BaseException, *,
                       may_retry: bool = False) -> BaseException:
        script = migration.script
        statement, self.statement = self.statement, None
        self._roll_back()
        self._clear_remnants()
        retryable = self._retryable(migration, exc)
        if retryable and may_retry:
            return self._retry(migration, exc)
        reason = (str(exc) if isinstance(exc, NpaError) and not isinstance(exc, MigrationException)
                  else f"{type(exc).__name__}: {exc}".strip())
        where = (f" at statement: {first_line(statement.describe())}" if statement is not None
                 else "")
        elapsed_ms = int((time.perf_counter() - self.started) * 1000)
        journal = self.journal
        recording_failed = None
        if journal is not None and not self.outer:
            try:
                journal.fail(f"{reason}{where}", elapsed_ms)
            except Exception as exc_:  # the next run reads what the row says
                recording_failed = exc_
        advice = self._failure_advice(migration)
        if recording_failed is not None:
            advice += (f" (Recording the failure also failed: {recording_failed}; the next "
                       "run checks the database.)")
        timeout = self.options.timeout_seconds
        if timeout and self.driver.is_statement_timeout(exc):
            advice = (f"The statement ran longer than the statement timeout ({timeout:g}s: "
                      "--statement-timeout, setting statement_timeout, option "
                      "timeout_seconds). Raise it, or set 0 for no limit (the default). "
                      + advice)
        if retryable:
            advice = (f"It waited too long for a table lock {self.options.ddl_lock_retries + 1} "
                      "time(s). Find what holds the lock (a long transaction, an open "
                      "session), or raise the DDL lock timeout / ddl_lock_retries. " + advice)
        self._log_failure(script.id, migration.direction, f"{reason}{where}",
                          statement.describe() if statement else None, elapsed_ms)
        message = (f"Migration {script.id} ({script.source}) failed{where}\n"
                   f"  {getattr(exc, 'label', 'Database said')}: {reason}\n  {advice}")
        error = MigrationException(message, migration_id=script.id,
                                   statement=statement.describe() if statement else None,
                                   original=exc)
        self.journal = None
        self.hooks.npa_migration_end(migration=script, direction=_event_direction(migration),
                                     duration=time.perf_counter() - self.started, error=error)
        self._progress(script, ProgressStep("error", str(error)))
        return error

    def _retryable(self, migration: "PlannedMigration", exc: BaseException) -> bool:
        """A lock timeout: the statement took no effect, so the migration can run again
        from what did -- unless streamed ``bulk_insert`` rows were consumed by this try."""
        return (self.driver.is_lock_timeout(exc)
                and all(isinstance(getattr(op, "rows", ()), (list, tuple))
                        for op in migration.operations))

    def _retry(self, migration: "PlannedMigration", exc: BaseException) -> BaseException:
        """Run again: the whole run (all-in-one), the migration (atomic), or from what
        took effect (journaled)."""
        if self.outer:
            return RetryRun(migration, exc)
        position = self.journal.settled if self.journal is not None else migration.start
        if self.journal is not None:
            self.journal.stop()
        return RetryMigration(position, exc)

    def retrying(self, migration: "PlannedMigration", attempt: int,
                 error: BaseException) -> None:
        delay = min(0.25 * 2 ** (attempt - 1), 5.0) * random.uniform(0.8, 1.2)
        self.hooks.npa_migration_retry(migration=migration.script, attempt=attempt,
                                       retries=self.options.ddl_lock_retries, delay=delay,
                                       error=error)
        self._progress(migration.script, ProgressStep(
            "retry", f"{migration.id}: lock timeout ({first_line(str(error))}); retry "
                     f"{attempt}/{self.options.ddl_lock_retries} in {delay:.2f}s"))
        time.sleep(delay)

    def stop(self, migration: "PlannedMigration | None") -> BaseException:
        self._roll_back()
        journal = self.journal
        if self.outer:
            state = "the whole all-in-one transaction was rolled back: nothing was applied"
        elif migration is None:
            state = "between two migrations"
            started, self.started_next = self.started_next, None
            if started is not None:  # the next one's row, written with the last end
                started.stop()
        elif journal is None or not journal.took_effect:
            if journal is not None:
                journal.stop()
            state = f"{migration.id} was rolled back: nothing of it was applied"
        else:
            journal.stop()
            state = (f"{migration.id} stopped where "
                     f"{describe_progress(self.steps, journal.settled)}; the next "
                     f"'npa migrate {'up' if migration.direction == 'up' else 'down'}' "
                     "continues it from there")
        if migration is not None:
            self.session.eventlog.ensure(self.conn)
            self.session.eventlog.record(self.conn, "interrupt", migration_id=migration.id,
                                         checksum=migration.script.checksum, success=False,
                                         detail=state)
        code = self.interruption.exit_code() if self.interruption is not None else 130
        return RunInterrupted(f"Interrupted: {state}. The migration lock was released.",
                              exit_code=code)

    # helpers ---------------------------------------------------------------------------
    def _clear_remnants(self) -> None:
        """A statement that failed outside any transaction may leave something half done
        (PostgreSQL: the invalid index of a failed ``CREATE INDEX CONCURRENTLY``): clear
        it, so a failure that took no effect truly leaves no trace. Best effort."""
        statement, self.unguarded = self.unguarded, None
        if statement is None:
            return
        try:
            for cleanup in self.provider.sql.interrupted_statement_cleanup(statement.sql,
                                                                           self.context):
                self.conn.run(cleanup)
        except Exception:  # the failure itself is what the user must see
            pass

    def _roll_back(self) -> None:
        """Roll back the open transaction, if any, and bring the journal back to what took
        effect -- including what a DDL statement committed implicitly before failing."""
        in_transaction = self.conn.in_transaction
        if self.journal is not None and in_transaction \
                and self.driver.transaction_open(self.conn) is False:
            self.conn.in_transaction = False
            self.journal.committed()
        self.session.rollback()
        if self.journal is not None and in_transaction:
            self.journal.rolled_back()
            if not self.transactional_ddl:
                try:
                    self.journal.reconcile()
                except Exception:  # the connection is gone: the next run reads the row
                    pass

    def _begin(self) -> None:
        self.session.begin()
        self._apply_lock_timeout()

    def _apply_lock_timeout(self) -> None:
        script = self.migration.script if self.migration is not None else None
        seconds = self.options.ddl_lock_timeout_seconds
        if script is not None and script.lock_timeout_seconds is not None:
            seconds = script.lock_timeout_seconds
        self.driver.apply_ddl_lock_timeout(self.conn, seconds)

    def _commit(self, migration: "PlannedMigration") -> None:
        if self.journal is not None:
            self.journal.flush()
        self.session.commit(migration.script)
        if self.journal is not None:
            self.journal.committed()

    def _end_transaction(self, migration: "PlannedMigration") -> None:
        """Commit the open transaction with the record of what ran in it (before a step
        that must run outside a transaction)."""
        if not self.conn.in_transaction:
            return
        if self.transactional_ddl and self.journal is not None:
            self.journal.advance(self.journal.position)
        self._commit(migration)
        self._apply_lock_timeout()

    def _execute(self, script: "MigrationScript", statement: "Statement", *,
                 cancellable: bool) -> None:
        """Run one statement between its events; a stop request cancels it on the server
        when it rolls back with its transaction anyway."""
        hooks = self.hooks
        self.statement = statement
        hooks.npa_statement_start(migration=script, statement=statement)
        self.session.checkpoint("statement", script)
        self.cancellable = cancellable
        started = time.perf_counter()
        try:
            self.conn.run(statement)
        finally:
            self.cancellable = False
        self.session.checkpoint("executed", script)
        hooks.npa_statement_executed(migration=script, statement=statement,
                                     duration=time.perf_counter() - started)
        self.statement = None

    def cancel_running(self) -> None:
        """Called when a stop is requested: cancel the running statement if it rolls back
        with its transaction anyway (the driver's ``cancel``)."""
        if self.cancellable:
            self.driver.cancel(self.conn)

    def _failure_advice(self, migration: "PlannedMigration") -> str:
        direction = migration.direction
        command = "up" if direction == "up" else "down"
        if self.outer:
            return ("The whole all-in-one transaction was rolled back; nothing was applied. "
                    "Fix the migration and run 'npa migrate up' again.")
        journal = self.journal
        if journal is None or not journal.took_effect:
            return ("It was rolled back and left no trace. Fix the migration and run "
                    f"'npa migrate {command}' again.")
        why = self._why_outside_transaction(migration)
        took = describe_progress(self.steps, journal.settled)
        if direction == "up":
            return (f"It ran outside a single transaction ({why}): {took}, and the "
                    "migration is recorded as failed at that point. Fix the cause, then run "
                    "'npa migrate repair' (--resume continues from there; --undo-partial, "
                    "--mark-applied or --mark-rolled-back).")
        return (f"It ran outside a single transaction ({why}): {took}, and the migration is "
                "recorded as failed while being rolled back. Fix the cause, then run 'npa "
                "migrate repair' (--resume continues the rollback; --mark-applied or "
                "--mark-rolled-back if you settled it by hand).")

    def _why_outside_transaction(self, migration: "PlannedMigration") -> str:
        script = migration.script
        if not script.transactional:
            return "the migration is marked to run outside a transaction"
        if self.options.transaction_mode is TransactionMode.NONE:
            return "transaction mode none"
        outside = [n for n, wrapped in enumerate(self.wrapped) if not wrapped]
        if outside:
            return (f"step {outside[0] + 1} must run outside a transaction, as a plugin "
                    "renders it (e.g. CREATE INDEX CONCURRENTLY)")
        return f"{self.provider.name} commits DDL implicitly"

    def _log_failure(self, migration_id: str | None, direction: str, error: str,
                     statement: str | None = None, duration_ms: int | None = None) -> None:
        """Append a ``failure`` row outside any transaction; never raises, so the original
        error is what the user sees."""
        try:
            if self.conn.in_transaction:
                return
            checksum = (self.migration.script.checksum
                        if self.migration is not None and self.migration.id == migration_id
                        else None)
            self.session.eventlog.ensure(self.conn)
            self.session.eventlog.record(self.conn, "failure", migration_id=migration_id,
                                         checksum=checksum, success=False,
                                         duration_ms=duration_ms, statement=statement,
                                         error=error, detail=direction)
        except Exception:  # a lost connection: the failure itself is still reported
            pass

    def _progress(self, script: "MigrationScript", step: ProgressStep) -> None:
        if self.options.on_progress is not None:
            self.options.on_progress(script, step)


#: how many operations that took effect a progress line names, at most (and the last)
LISTED_OPERATIONS = 5


def describe_progress(steps: Sequence["Step"], position: "Position") -> str:
    """``2 of 4 operation(s) took effect (Creating table 'a'; Adding column ...)``, and the
    statements of a step that took effect only in part. Of many operations (a large
    ``.sql`` file's statements) the first :data:`LISTED_OPERATIONS` and the last are
    named: ``(...; and 140 more, the last: Inserting rows into 't')``."""
    named: list[str] = []
    done = 0
    last = None
    for index, step in enumerate(steps):
        if index >= position.step:
            break
        for operation in step.operations:
            done += 1
            last = operation
            if len(named) < LISTED_OPERATIONS:
                named.append(operation.describe())
    total = sum(len(step.operations) for step in steps)
    text = f"{done} of {total} operation(s) took effect"
    if done > len(named) + 1 and last is not None:
        named.append(f"and {done - len(named) - 1} more, the last: {last.describe()}")
    elif done > len(named) and last is not None:
        named.append(last.describe())
    if named:
        text += f" ({'; '.join(named)})"
    if position.statement and position.step < len(steps):
        text += (f", and {position.statement} statement(s) of the next "
                 f"({steps[position.step].describe()})")
    return text


def _event_direction(migration: "PlannedMigration") -> str:
    """The direction events report: ``up`` for an undo is a ``down``."""
    return "down" if migration.direction in ("down", "undo") else "up"
