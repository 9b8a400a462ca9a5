"""The Runner: the one place that runs a plan's steps.

It walks a :class:`~npa_migrations.engine.plan.Plan` -- migrations in order, each one's
operations planned into steps (:func:`~npa_migrations.engine.planner.plan_steps`), each
step rendered into statements at the moment it runs -- and hands every boundary and
statement to a :class:`RunTarget`. The target decides what happens there:
:class:`~npa_migrations.engine.live.LiveTarget` executes against a
:class:`~npa_migrations.engine.session.Session` (transactions, the write-ahead journal,
events, verification), :class:`~npa_migrations.engine.script.ScriptTarget` writes the SQL
script of ``--sql`` and :class:`~npa_migrations.engine.script.DescribeTarget` lists the
steps of ``--dry-run``. ``up``, ``down``, ``repair --resume`` / ``--undo-partial``, dry runs
and scripts all go through :meth:`Runner.run` -- the way Alembic switches one code path
between executing and writing a script (``as_sql``).

Batches. Where the target allows it (:meth:`RunTarget.batch_limits`: a live run inside
a transaction the migration owns, or a journaled one's statements that cannot commit
that transaction, on a driver that can send several statements at once), consecutive
steps whose statements are plain SQL (:attr:`Statement.plain
<npa_migrations.statements.Statement.plain>`, and :meth:`RunTarget.batch_accepts`) and
that render without reading the database (not :attr:`Step.live
<npa_migrations.statements.Step.live>`, not a data step) are collected and handed to the
target together, up to the limits; any other step first sends what was collected. A
full batch goes out with :meth:`RunTarget.start_batch` and the runner renders the next
steps while the server runs it, waiting for it (:meth:`RunTarget.end_batch`, then the
steps' events) before it sends anything else. The statements and steps still run in
order; the run's safe point is before each batch.

The migration that runs next is planned before the one under way finishes, and the
target is told of it then (:meth:`RunTarget.finish_migration`'s ``following``): a live
run where DDL commits implicitly writes its ``running`` row with the end of the one
before. One that cannot be planned is not announced; it fails when its turn comes.

A migration whose run was interrupted starts at the position its history row records:
the steps and statements before it are skipped, not run again; a data step that recorded
a checkpoint there (a backfill's last key) renders from that checkpoint instead.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import MigrationException, RunInterrupted
from ..options import TransactionMode
from ..results import MigrationError, MigrationResult
from .history import Position
from .planner import PlanHooks, plan_hooks, plan_steps

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..options import MigrationExecutorOptions
    from ..provider import BaseProvider, RenderContext
    from ..statements import Statement, Step
    from .interrupt import Interruption
    from .plan import Plan, PlannedMigration


class RetryMigration(Exception):
    """Raised by a target: the migration hit a lock timeout in a statement that took no
    effect, and runs again from :attr:`position` (what took effect stays)."""

    def __init__(self, position: Position, error: BaseException):
        super().__init__(str(error))
        self.position = position
        self.error = error


class RetryRun(Exception):
    """Raised by a target: an all-in-one run hit a lock timeout and was rolled back as a
    whole; it runs again from the start."""

    def __init__(self, migration: "PlannedMigration", error: BaseException):
        super().__init__(str(error))
        self.migration = migration
        self.error = error


class RunTarget:
    """Where a run's statements go. Every method has a no-op default; a target overrides
    what it needs.

    :ivar context: how steps render (the live connection, or none offline).
    """

    context: "RenderContext"
    #: whether the runner renders the steps' statements (a description lists the steps
    #: only)
    renders = True

    def start_run(self, plan: "Plan") -> None:
        """Before the first migration."""

    def finish_run(self, plan: "Plan", result: MigrationResult) -> None:
        """After the last migration (or the one that stopped the run)."""

    def start_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                        index: int, total: int) -> None:
        """Before the first step of a migration (again after a retry)."""

    def start_step(self, migration: "PlannedMigration", index: int, step: "Step") -> None:
        """Before the first statement of a step."""

    def run_statement(self, migration: "PlannedMigration", position: Position,
                      step: "Step", statement: "Statement") -> None:
        """One statement, at ``position`` (its step and its place in the step)."""

    def finish_step(self, migration: "PlannedMigration", index: int, step: "Step",
                    duration: float) -> None:
        """After the last statement of a step."""

    def batch_limits(self, migration: "PlannedMigration") -> tuple[int, int] | None:
        """How many statements, and how many characters of SQL, one batch of
        ``migration`` may hold (:meth:`run_batch`); ``None`` (the default): statements
        run one at a time."""
        return None

    def batchable(self, migration: "PlannedMigration", index: int, step: "Step") -> bool:
        """Whether step ``index`` may join a batch (asked only when
        :meth:`batch_limits` gave limits, before the step renders)."""
        return False

    def batch_accepts(self, migration: "PlannedMigration",
                      statements: list["Statement"]) -> bool:
        """Whether a batchable step's rendered statements (all plain) may join the batch;
        ``True`` (the default). A target that batches only some statements (those that
        cannot commit the transaction, say) answers per step."""
        return True

    def run_batch(self, migration: "PlannedMigration",
                  entries: list[tuple[int, "Step", list["Statement"]]]) -> None:
        """The plain statements of consecutive steps, ``(step index, step, statements)``
        in order, sent together; raises like :meth:`run_statement` (naming the statement
        that failed)."""
        raise NotImplementedError

    def start_batch(self, migration: "PlannedMigration",
                    entries: list[tuple[int, "Step", list["Statement"]]]) -> Any:
        """Send a batch and return before the server has run all of it where the
        target can (the runner then renders the next steps meanwhile);
        :meth:`end_batch` follows before anything else runs. Returns what
        :meth:`end_batch` needs. The default runs it whole (:meth:`run_batch`)."""
        self.run_batch(migration, entries)
        return None

    def end_batch(self, migration: "PlannedMigration",
                  entries: list[tuple[int, "Step", list["Statement"]]], pending: Any) -> None:
        """Wait for the batch :meth:`start_batch` sent; raises like :meth:`run_batch`."""

    def finish_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                         following: "PlannedMigration | None" = None) -> None:
        """After the last step: the migration's bookkeeping. ``following`` is the
        migration the run starts next, if any (a target may write its start in the same
        transaction)."""

    def fail_migration(self, migration: "PlannedMigration", exc: BaseException, *,
                       may_retry: bool = False) -> BaseException:
        """A step failed (``exc``): settle what can be, and return what to raise -- a
        :class:`~npa_migrations.errors.MigrationException`, or, when ``may_retry`` and the
        failure allows it, :class:`RetryMigration` / :class:`RetryRun` to run again."""
        return exc

    def retrying(self, migration: "PlannedMigration", attempt: int,
                 error: BaseException) -> None:
        """Before a retry after a lock timeout (report it, pause)."""

    def stop(self, migration: "PlannedMigration | None") -> BaseException:
        """A stop was requested at a safe point (during ``migration``, or between
        migrations): settle, and return the
        :class:`~npa_migrations.errors.RunInterrupted` to raise."""
        raise NotImplementedError


class Runner:
    """Runs a plan against a :class:`RunTarget`.

    :param provider: the provider the steps are planned and rendered for.
    :param target: where the statements go.
    :param options: the run's options (``stop_on_error``, ``ddl_lock_retries``).
    :param interruption: a stop request the runner honours at its safe points.
    """

    def __init__(self, provider: "BaseProvider", target: RunTarget,
                 options: "MigrationExecutorOptions",
                 interruption: "Interruption | None" = None):
        self.provider = provider
        self.target = target
        self.options = options
        self.interruption = interruption
        self._run_attempt = 0
        #: the batch sent and not yet waited for: (entries, the target's handle, start)
        self._pending: tuple[list, Any, float] | None = None
        #: the migration that runs next and its steps, planned before the one before it
        #: finished (:meth:`_plan_following`)
        self._following: tuple[PlannedMigration, Sequence[Step]] | None = None
        #: the planner's hooks, looked up once a run (:meth:`run`)
        self._hooks: PlanHooks | None = None

    def run(self, plan: "Plan") -> MigrationResult:
        """Carry out ``plan``; the result lists what was applied (or reverted) and every
        failure."""
        self._run_attempt = 0
        self._hooks = plan_hooks()  # the plugins of the run, as the target's hooks are
        while True:
            result = MigrationResult(direction=plan.direction,
                                     migrations_ignored=list(plan.ignored))
            try:
                self._run_plan(plan, result)
                return result
            except RetryRun as retry:
                self._run_attempt += 1
                self.target.retrying(retry.migration, self._run_attempt, retry.error)

    def _run_plan(self, plan: "Plan", result: MigrationResult) -> None:
        self.target.start_run(plan)
        failed: set[str] = set()
        total = len(plan)
        migrations = list(plan)
        for index, migration in enumerate(migrations, 1):
            if failed and set(migration.script.depends_on) & failed:
                failed.add(migration.id)
                continue
            following = migrations[index] if index < total else None
            if following is not None and failed and set(following.script.depends_on) & failed:
                following = None  # skipped: the one after it is not known to run
            try:
                self._safe_point(None)
                self.run_migration(migration, index, total, following)
                result.migration_ids.append(migration.id)
            except MigrationException as exc:
                result.errors.append(MigrationError(exc.migration_id, str(exc), exc))
                failed.add(migration.id)
                if self.options.stop_on_error or \
                        self.options.transaction_mode is TransactionMode.ALL_IN_ONE:
                    break
        self.target.finish_run(plan, result)

    def run_migration(self, migration: "PlannedMigration", index: int, total: int,
                      following: "PlannedMigration | None" = None) -> None:
        """One migration, from its start position, retried after a lock timeout while
        retries are left; ``following`` runs next (see :meth:`RunTarget.finish_migration`)."""
        planned, self._following = self._following, None
        steps = (planned[1] if planned is not None and planned[0] is migration
                 else plan_steps(self.provider, migration.operations, self._hooks))
        retries = self.options.ddl_lock_retries
        attempt = 0
        while True:
            try:
                self.target.start_migration(migration, steps, index, total)
                try:
                    self._run_steps(migration, steps)
                    self.target.finish_migration(migration, steps,
                                                 self._plan_following(following))
                except RunInterrupted:
                    raise
                except Exception as exc:
                    may_retry = max(attempt, self._run_attempt) < retries
                    raise self.target.fail_migration(migration, exc,
                                                     may_retry=may_retry) from exc
                return
            except RetryMigration as retry:
                attempt += 1
                self.target.retrying(migration, attempt, retry.error)
                migration.start = retry.position

    def _plan_following(self, following: "PlannedMigration | None"
                        ) -> "PlannedMigration | None":
        """Plan the steps of the migration that runs next (kept for its run), so that the
        target is told of it only when it can start: one that cannot be planned (an
        operation the database rules out) fails when its turn comes, with nothing
        written for it."""
        if following is None:
            return None
        try:
            self._following = (following, plan_steps(self.provider, following.operations,
                                                     self._hooks))
        except Exception:
            return None
        return following

    def _run_steps(self, migration: "PlannedMigration", steps: Sequence["Step"]) -> None:
        self._pending = None
        try:
            self._walk_steps(migration, steps)
        except BaseException:
            if self._pending is not None:  # a batch still under way ran before what
                # failed: its own failure, if any, is the one to report
                self._finish_pending(migration)
            raise

    def _walk_steps(self, migration: "PlannedMigration", steps: Sequence["Step"]) -> None:
        start = migration.start
        target = self.target
        limits = target.batch_limits(migration) if target.renders else None
        batch = _Batch(*limits) if limits is not None else None
        for index, step in enumerate(steps):
            if index < start.step:
                continue
            # where the step resumes: the start's statement and checkpoint, else its top
            skip, checkpoint = ((start.statement, start.checkpoint) if index == start.step
                                else (0, None))
            started = time.perf_counter()
            joins = (batch is not None and skip == 0 and checkpoint is None
                     and target.batchable(migration, index, step))
            if batch is not None and not joins:  # it may read what the batch changes
                self._send(migration, batch)
            target.start_step(migration, index, step)
            context, first = target.context, 0
            if checkpoint is not None:  # a data step renders from its checkpoint
                context, first, skip = replace(context, checkpoint=checkpoint), skip, 0
            statements = step.render(context) if target.renders else ()
            if joins and batch is not None:
                if isinstance(statements, list) and all(s.plain for s in statements) \
                        and target.batch_accepts(migration, statements):
                    chars = sum(len(s.sql) for s in statements)
                    if not batch.fits(len(statements), chars):  # this batch goes out;
                        # the next is rendered while the server runs it
                        self._send(migration, batch, wait=False)
                    batch.add(index, step, statements, chars)
                    continue
                self._send(migration, batch)
            for number, statement in enumerate(statements, first):
                if number < skip:
                    continue
                self._safe_point(migration)
                self.target.run_statement(migration, Position(index, number), step,
                                          statement)
            target.finish_step(migration, index, step, time.perf_counter() - started)
        if batch is not None:
            self._send(migration, batch)

    def _send(self, migration: "PlannedMigration", batch: "_Batch", *,
              wait: bool = True) -> None:
        """Wait for the batch under way, if any, then send the collected steps as one
        batch (after the safe point) and, with ``wait``, wait for it too. Each step of a
        batch is finished (its events, its share of the batch's time) once the batch
        ran."""
        self._finish_pending(migration)
        entries = batch.take()
        if not entries:
            return
        self._safe_point(migration)
        started = time.perf_counter()
        handle = self.target.start_batch(migration, entries)
        self._pending = (entries, handle, started)
        if wait:
            self._finish_pending(migration)

    def _finish_pending(self, migration: "PlannedMigration") -> None:
        """Wait for the batch under way (:meth:`RunTarget.end_batch`), then finish its
        steps."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        entries, handle, started = pending
        self.target.end_batch(migration, entries, handle)
        share = (time.perf_counter() - started) / len(entries)
        for index, step, _ in entries:
            self.target.finish_step(migration, index, step, share)

    def _safe_point(self, migration: "PlannedMigration | None") -> None:
        if self.interruption is not None and self.interruption.requested:
            raise self.target.stop(migration)


class _Batch:
    """The steps collected for one batch, bounded by a number of statements and of
    characters of SQL."""

    __slots__ = ("max_statements", "max_chars", "entries", "statements", "chars")

    def __init__(self, max_statements: int, max_chars: int):
        self.max_statements = max_statements
        self.max_chars = max_chars
        self.entries: list[tuple[int, "Step", list["Statement"]]] = []
        self.statements = 0
        self.chars = 0

    def fits(self, count: int, chars: int) -> bool:
        """Whether ``count`` more statements of ``chars`` characters still fit (a first
        step always does)."""
        return not self.entries or (self.statements + count <= self.max_statements
                                    and self.chars + chars <= self.max_chars)

    def add(self, index: int, step: "Step", statements: list["Statement"],
            chars: int) -> None:
        """Collect one step's statements (``chars``: their length)."""
        self.entries.append((index, step, statements))
        self.statements += len(statements)
        self.chars += chars

    def take(self) -> list[tuple[int, "Step", list["Statement"]]]:
        """The collected steps, and start anew."""
        entries, self.entries = self.entries, []
        self.statements = self.chars = 0
        return entries
