"""MigrationExecutor: discover → read history → validate → lock → apply / roll back.

The public embedding API (SPEC §6). One connection per run; in per-migration mode each
migration's statements and its history row commit together in exactly one commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import (ConfigurationError, IrreversibleMigrationError, MigrationException,
                     MigrationSourceError, NpaError, UnknownTargetError, ValidationError)
from ..options import MigrationExecutorOptions, OutOfOrder, TransactionMode
from .ordering import ValidationProblem, order_migrations
from ..results import (AppliedMigration, MigrationError, MigrationResult, MigrationStatus,
                      ProgressStep)
from ..sqltext import first_line
from ..statements import steps_transactional
from .validation import pending_migrations, validate_history

from ..provider.sql import RenderContext
from .planner import plan_steps

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.connection import DbConnection
    from .history import HistoryRow, HistoryStore
    from ..migration import MigrationScript
    from ..statements import Statement


class MigrationExecutor:
    """Runs migrations against one database.

    :param database: a URL string, SQLAlchemy ``URL``, ``Engine`` or ``Connection``.
    :param migrations: one source or a list of sources: directories, or dotted package
        names, holding Python migration modules and ``.sql`` files.
    :param options: :class:`~npa_migrations.options.MigrationExecutorOptions`.
    """

    def __init__(self, database: Any, migrations: Any = "migrations",
                 options: MigrationExecutorOptions | None = None):
        from .target import DatabaseTarget

        self.options = options or MigrationExecutorOptions()
        if isinstance(migrations, (str, Path)):
            migrations = [migrations]
        self.sources = [str(m) for m in migrations]
        self.target = DatabaseTarget(database)
        self.provider = self.target.provider
        self._scripts: list["MigrationScript"] | None = None
        self._history: "HistoryStore | None" = None

    # plumbing ----------------------------------------------------------------------------
    @property
    def hook(self):
        """The plugin manager's hook caller (``pm.hook``), loading plugins on first use."""
        from ..plugins import get_plugin_manager

        return get_plugin_manager().hook

    @property
    def history(self) -> "HistoryStore":
        """The history store of this database (hook ``npa_history_store``)."""
        if self._history is None:
            self._history = self.hook.npa_history_store(
                provider=self.provider, table_name=self.options.history_table)
        return self._history

    @property
    def eventlog(self):
        """The append-only event log (:mod:`npa_migrations.engine.eventlog`)."""
        if getattr(self, "_eventlog", None) is None:
            from .eventlog import event_log

            self._eventlog = event_log(self.provider, self.options.log_table)
        return self._eventlog

    def discover(self) -> list["MigrationScript"]:
        """All migrations from the sources, in run order (validated ids and dependencies)."""
        if self._scripts is None:
            found: dict[str, "MigrationScript"] = {}

            def register(script: "MigrationScript") -> None:
                other = found.get(script.id)
                if other is not None:
                    raise MigrationSourceError(
                        f"Duplicate migration id {script.id}: {other.source} and "
                        f"{script.source}. Give one of them a new timestamp.")
                script.bind(self.provider)
                found[script.id] = script

            for source in self.sources:
                self.hook.npa_discover_migrations(source=source, register=register)
            self._scripts = order_migrations(found.values())
        return self._scripts

    def _connect(self) -> "DbConnection":
        if self.options.ensure_created:
            self.provider.driver.ensure_database()
        conn = self.target.connect()
        self.provider.driver.set_statement_timeout(conn, self.options.timeout_seconds)
        return conn

    def _progress(self, script: "MigrationScript", step: ProgressStep) -> None:
        if self.options.on_progress is not None:
            self.options.on_progress(script, step)

    def resolve_target(self, target: str | None) -> str | None:
        """Full id or 14-digit timestamp -> full id; unknown targets are errors."""
        if target is None:
            return None
        scripts = self.discover()
        ids = [s.id for s in scripts]
        if target in ids:
            return target
        matches = [i for i in ids if i[:14] == target]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnknownTargetError(
                f"Target '{target}' matches several migrations ({', '.join(matches)}); "
                "give the full id.")
        raise UnknownTargetError(
            f"Unknown target '{target}': no migration has that id or timestamp. "
            "Run 'npa migrate status' to list the ids.")

    # reading -----------------------------------------------------------------------------
    def _read_history(self, conn: "DbConnection") -> dict[str, "HistoryRow"]:
        if not self.history.exists(conn):
            return {}
        return self.history.read(conn)

    def _problems(self, rows: dict[str, "HistoryRow"]) -> list[ValidationProblem]:
        return validate_history(self.discover(), rows,
                                validate_checksums=self.options.validate_checksums,
                                out_of_order=self.options.out_of_order)

    def _pending(self, rows: dict[str, "HistoryRow"], target: str | None
                 ) -> list["MigrationScript"]:
        pending = pending_migrations(self.discover(), rows, self.options.out_of_order)
        if target is None:
            return pending
        order = [s.id for s in self.discover()]
        limit = order.index(target)
        return [s for s in pending if order.index(s.id) <= limit]

    def _ignored(self, rows: dict[str, "HistoryRow"]) -> list[str]:
        """Ids ``out_of_order=ignore`` leaves unapplied (older than the newest applied)."""
        if self.options.out_of_order is not OutOfOrder.IGNORE:
            return []
        kept = {s.id for s in pending_migrations(self.discover(), rows, OutOfOrder.IGNORE)}
        return [s.id for s in self.discover() if s.id not in rows and s.id not in kept]

    def status(self) -> MigrationStatus:
        """Applied, pending, failed and missing migrations (reads only; no lock)."""
        conn = self._connect()
        try:
            rows = self._read_history(conn)
        finally:
            conn.close()
        scripts = self.discover()
        known = {s.id for s in scripts}
        applied = [AppliedMigration(r.migration_id, r.applied_at, r.checksum, r.success,
                                    r.execution_ms) for r in rows.values()]
        succeeded = [s.id for s in scripts if s.id in rows and rows[s.id].success]
        return MigrationStatus(
            database=self.provider.database_name(),
            current=succeeded[-1] if succeeded else None,
            applied=applied,
            pending=[s.id for s in scripts if s.id not in rows],
            failed=[r.migration_id for r in rows.values() if not r.success],
            missing=[i for i in rows if i not in known],
            problems=self._problems(rows))

    def validate(self) -> list[ValidationProblem]:
        """Every validation problem, without applying anything (``npa migrate validate``)."""
        conn = self._connect()
        try:
            rows = self._read_history(conn)
        finally:
            conn.close()
        return self._problems(rows)

    def plan(self, target: str | None = None) -> list["MigrationScript"]:
        """The migrations ``execute(target)`` would apply, after validation (dry run)."""
        target = self.resolve_target(target)
        conn = self._connect()
        try:
            rows = self._read_history(conn)
        finally:
            conn.close()
        problems = self._problems(rows)
        if problems:
            raise ValidationError(problems)
        return self._pending(rows, target)

    # applying ----------------------------------------------------------------------------
    def execute(self, target: str | None = None) -> MigrationResult:
        """Apply every pending migration (up to ``target``, inclusive)."""
        started = time.perf_counter()
        target = self.resolve_target(target)
        self._check_mode()
        result = MigrationResult(direction="up")
        conn = self._connect()
        try:
            self.history.ensure(conn)
            rows = self.history.read(conn)
            problems = self._problems(rows)
            pending = self._pending(rows, target)
            result.migrations_ignored = self._ignored(rows)
            if not pending and not problems:
                return self._finish(result, started)  # idle instances never queue on the lock
            with self._locked():
                rows = self.history.read(conn)
                problems = self._problems(rows)
                if self.options.check_drift:  # reported with the other problems
                    from ..schema.drift import drift_problems

                    problems += drift_problems(self, conn, rows)
                if problems:
                    raise ValidationError(problems)
                self._rehash(conn, rows)
                pending = self._pending(rows, target)
                self._preflight(pending, "up")
                self._run(conn, pending, "up", result)
        finally:
            conn.close()
        return self._finish(result, started)

    def rollback(self, steps: int = 1) -> MigrationResult:
        """Revert the last ``steps`` applied migrations, newest first."""
        if steps < 1:
            raise ConfigurationError(f"--steps must be at least 1 (got {steps}).")
        return self._rollback(lambda applied: applied[-steps:])

    def rollback_to(self, target: str) -> MigrationResult:
        """Revert every migration applied after ``target``; ``target`` stays applied."""
        target_id = self.resolve_target(target)

        def choose(applied: list["MigrationScript"]) -> list["MigrationScript"]:
            ids = [s.id for s in applied]
            if target_id not in ids:
                raise UnknownTargetError(
                    f"Target {target_id} is not applied, so there is nothing to roll back "
                    "to. Run 'npa migrate status' to see what is applied.")
            return applied[ids.index(target_id) + 1:]
        return self._rollback(choose)

    def _rollback(self, choose) -> MigrationResult:
        started = time.perf_counter()
        self._check_mode()
        result = MigrationResult(direction="down")
        conn = self._connect()
        try:
            self.history.ensure(conn)
            with self._locked():
                rows = self.history.read(conn)
                problems = [p for p in self._problems(rows) if p.code != "out_of_order"]
                if problems:
                    raise ValidationError(problems)
                applied = [s for s in self.discover() if s.id in rows]
                chosen = list(reversed(choose(applied)))
                irreversible = [s for s in chosen if s.down_operations() is None]
                if irreversible:
                    raise IrreversibleMigrationError(
                        "Cannot roll back: " + ", ".join(
                            f"{s.id} ({s.source})" for s in irreversible) +
                        " has no down steps. Add a down() method / '-- npa:down' section, "
                        "or roll back to a later target. Nothing was rolled back.")
                self._preflight(chosen, "down")
                self._run(conn, chosen, "down", result)
        finally:
            conn.close()
        return self._finish(result, started)

    def _finish(self, result: MigrationResult, started: float) -> MigrationResult:
        result.duration = dt.timedelta(seconds=time.perf_counter() - started)
        return result

    def _check_mode(self) -> None:
        mode = self.options.transaction_mode
        if mode is TransactionMode.ALL_IN_ONE and not self.provider.capabilities.transactional_ddl:
            raise ConfigurationError(
                f"Transaction mode all-in-one is not possible on {self.provider.name}: it "
                "commits every DDL statement implicitly, so a failure could not be rolled "
                "back. Use --transaction-mode per-migration (the default).")

    def _preflight(self, scripts: list["MigrationScript"], direction: str) -> None:
        """Refuse, before anything runs, what would fail half way for a reason known in
        advance: identifiers the database cannot hold, a no-transaction migration in
        all-in-one mode, a migration whose up()/down() raises."""
        for script in scripts:
            operations = (script.up_operations() if direction == "up"
                          else script.down_operations()) or []
            for operation in operations:
                for what, name in operation.identifiers():
                    try:
                        self.provider.sql.check_identifier(name, what)
                    except ConfigurationError as exc:
                        raise ConfigurationError(
                            f"Migration {script.id} ({script.source}): {exc} "
                            "Nothing was applied.") from None
        self._check_transactional(scripts, direction)

    def _check_transactional(self, scripts: list["MigrationScript"], direction: str) -> None:
        if self.options.transaction_mode is TransactionMode.ALL_IN_ONE:
            outside = [s.id for s in scripts if not s.transactional or not steps_transactional(
                plan_steps(self.provider, list((s.up_operations() if direction == "up"
                                         else s.down_operations()) or [])))]
            if outside:
                raise ConfigurationError(
                    f"Migration(s) {', '.join(outside)} must run outside a transaction, which "
                    "all-in-one mode cannot do. Use --transaction-mode per-migration.")

    def _rehash(self, conn: "DbConnection", rows: dict[str, "HistoryRow"]) -> None:
        """Checksums stored with an older algorithm tag are replaced silently."""
        by_id = {s.id: s for s in self.discover()}
        for row in rows.values():
            script = by_id.get(row.migration_id)
            if script and row.checksum.split(":", 1)[0] != script.checksum.split(":", 1)[0]:
                self.history.set_checksum(conn, row.migration_id, script.checksum)

    class _Lock:
        def __init__(self, executor: "MigrationExecutor"):
            self.executor = executor
            self.lock = None

        def __enter__(self):
            ex = self.executor
            if ex.options.acquire_lock:
                self.lock = ex.hook.npa_create_lock(provider=ex.provider,
                                                    table_name=ex.options.lock_table)
                ex.hook.npa_lock_requested(description=self.lock.description,
                                           timeout=ex.options.lock_timeout_seconds)
                self.lock.acquire(ex.options.lock_timeout_seconds)
                ex.hook.npa_lock_acquired(description=self.lock.description)
            return self.lock

        def __exit__(self, *exc):
            if self.lock is not None:
                self.lock.release()

    def _locked(self) -> "_Lock":
        return self._Lock(self)

    def _run(self, conn: "DbConnection", scripts: list["MigrationScript"], direction: str,
             result: MigrationResult) -> None:
        self.hook.npa_run_planned(migrations=list(scripts), direction=direction)
        self._live_hooks = _LiveHooks(self.hook)
        self.eventlog.ensure(conn)
        self._verifier = None
        if self.options.verify and scripts:
            from ..schema.verify import Verifier

            self._verifier = Verifier(self, conn, self.history.read(conn))
        mode = self.options.transaction_mode
        if mode is TransactionMode.ALL_IN_ONE and scripts:
            attempt = 0
            while True:
                conn.begin()
                try:
                    for index, script in enumerate(scripts, 1):
                        self._run_one(conn, script, direction, index, len(scripts), in_outer=True,
                                      retry_outer=attempt < self.options.ddl_lock_retries)
                    conn.commit()
                    result.migrations_applied.extend(s.id for s in scripts)
                except _LockRetry as retry:  # DDL lock timeout: the whole run again
                    conn.rollback()
                    attempt += 1
                    self._retry_pause(retry.script, attempt, retry.__cause__)
                    continue
                except MigrationException as exc:
                    conn.rollback()
                    from .eventlog import log_failure

                    log_failure(self, conn, exc.migration_id, direction, statement=exc.statement,
                                error=str(exc))
                    result.errors.append(MigrationError(exc.migration_id, str(exc), exc))
                return
        failed: set[str] = set()
        for index, script in enumerate(scripts, 1):
            if failed and set(script.depends_on) & failed:
                failed.add(script.id)
                continue
            try:
                self._run_one(conn, script, direction, index, len(scripts), in_outer=False)
                result.migrations_applied.append(script.id)
            except MigrationException as exc:
                result.errors.append(MigrationError(exc.migration_id, str(exc), exc))
                failed.add(script.id)
                if self.options.stop_on_error:
                    return

    def _run_one(self, conn: "DbConnection", script: "MigrationScript", direction: str,
                 index: int, total: int, *, in_outer: bool, retry_outer: bool = False) -> None:
        hook = getattr(self, "_live_hooks", None) or self.hook
        progress = self.options.on_progress is not None
        hook.npa_migration_start(migration=script, index=index, total=total, direction=direction)
        if progress:
            self._progress(script, ProgressStep("start", f"Executing migration {index}/{total}: "
                                                         f"{script.name}"))
        operations = script.up_operations() if direction == "up" else script.down_operations()
        started = time.perf_counter()
        own_tx = (not in_outer and script.transactional
                  and self.options.transaction_mode is not TransactionMode.NONE)
        attempt = 0
        while True:
            done = 0
            durable = 0  # operations known committed, where DDL commits implicitly
            statement: "Statement | None" = None
            try:
                steps = plan_steps(self.provider, list(operations))
                if own_tx and not steps_transactional(steps):
                    own_tx = False  # a step may not run in a transaction: none for it all
                if own_tx:
                    conn.begin()
                self.provider.driver.apply_ddl_lock_timeout(conn, self._ddl_lock_timeout(script))
                for step in steps:
                    step_started = time.perf_counter()
                    for statement in step.render(RenderContext(conn)):
                        run_statement(hook, conn, script, statement)
                    statement = None
                    duration = time.perf_counter() - step_started
                    for operation in step.operations:
                        done += 1
                        hook.npa_operation_done(migration=script, operation=operation,
                                                duration=duration)
                        if progress:
                            self._progress(script, ProgressStep("operation",
                                                                operation.describe(), duration))
                    if own_tx and self.provider.driver.transaction_open(conn) is False:
                        durable = done  # a DDL statement committed the transaction
                if getattr(self, "_verifier", None) is not None:
                    self._verifier.verify(script, list(operations), direction)
                elapsed_ms = int((time.perf_counter() - started) * 1000)
                if own_tx and self.provider.driver.transaction_open(conn) is False:
                    conn.begin()  # DDL committed: history and log rows still commit once
                with self.provider.driver.batched(conn):
                    if direction == "up":
                        self.history.record(conn, script.id, script.checksum, elapsed_ms,
                                            True, replace=False)
                    else:
                        self.history.delete(conn, script.id)
                    self.eventlog.record(conn, "apply" if direction == "up" else "revert",
                                         migration_id=script.id, checksum=script.checksum,
                                         duration_ms=elapsed_ms)
                    if own_tx:
                        conn.commit()
                break
            except Exception as exc:
                if own_tx and self.provider.driver.transaction_open(conn):
                    done = durable  # the rollback undoes what ran since the last commit
                if self._retryable(exc, operations, taken_effect=done):
                    if in_outer and retry_outer:
                        raise _LockRetry(script) from exc
                    if own_tx and attempt < self.options.ddl_lock_retries:
                        if conn.in_transaction:
                            conn.rollback()
                        attempt += 1
                        self._retry_pause(script, attempt, exc)
                        continue
                error = self._failure(conn, script, direction, exc, statement, done, own_tx,
                                      in_outer, started)
                hook.npa_migration_end(migration=script, direction=direction,
                                       duration=time.perf_counter() - started, error=error)
                self._progress(script, ProgressStep("error", str(error)))
                raise error from exc
        duration = time.perf_counter() - started
        hook.npa_migration_end(migration=script, direction=direction, duration=duration,
                               error=None)
        self._progress(script, ProgressStep("end", f"{script.id} done", duration))

    # DDL lock timeout ----------------------------------------------------------------------
    def _ddl_lock_timeout(self, script: "MigrationScript") -> float | None:
        """The migration's own ``lock_timeout_seconds``, else the run's option."""
        if script.lock_timeout_seconds is not None:
            return script.lock_timeout_seconds
        return self.options.ddl_lock_timeout_seconds

    def _retryable(self, exc: Exception, operations: Iterable[Any], *,
                   taken_effect: int) -> bool:
        """A DDL lock timeout in a migration that can run again from the start: the
        database rolled everything back (transactional DDL), or -- where DDL commits
        implicitly -- no operation had taken effect yet; and no streamed ``bulk_insert``
        rows, which the first try consumed."""
        return ((self.provider.capabilities.transactional_ddl or taken_effect == 0)
                and self.provider.driver.is_lock_timeout(exc)
                and all(isinstance(getattr(op, "rows", ()), (list, tuple)) for op in operations))

    def _retry_pause(self, script: "MigrationScript", attempt: int,
                     exc: BaseException | None) -> None:
        """Report a DDL lock timeout and wait a short, jittered, growing back-off."""
        import random

        delay = min(0.25 * 2 ** (attempt - 1), 5.0) * random.uniform(0.8, 1.2)
        reason = first_line(str(exc)) if exc is not None else "lock timeout"
        self._progress(script, ProgressStep(
            "retry", f"{script.id}: lock timeout ({reason}); rolled back, retry "
                     f"{attempt}/{self.options.ddl_lock_retries} in {delay:.2f}s"))
        time.sleep(delay)

    def _failure(self, conn: "DbConnection", script: "MigrationScript", direction: str,
                 exc: Exception, statement: "Statement | None", done: int, own_tx: bool,
                 in_outer: bool, started: float) -> MigrationException:
        """Roll back what can be, record what cannot, and build the error message."""
        if isinstance(exc, NpaError) and not isinstance(exc, MigrationException):
            reason = str(exc)
        else:
            reason = f"{type(exc).__name__}: {exc}".strip()
        where = (f" at statement: {first_line(statement.describe())}" if statement is not None
                 else "")
        if own_tx and conn.in_transaction:
            try:
                conn.rollback()
            except Exception:  # the connection may be gone; the message still stands
                pass
        rolled_back = (in_outer or own_tx) and self.provider.capabilities.transactional_ddl
        if in_outer:
            advice = ("The whole all-in-one transaction was rolled back; nothing was applied. "
                      "Fix the migration and run 'npa migrate up' again.")
        elif rolled_back:
            advice = ("It was rolled back and left no trace. Fix the migration and run "
                      f"'npa migrate {direction}' again.")
        elif direction == "up":
            total = len(script.up_operations())
            took = "; ".join(op.describe() for op in script.up_operations()[:done])
            advice = (f"{self.provider.name} cannot roll back DDL: {done} of {total} "
                      f"operation(s) took effect{f' ({took})' if took else ''}, and the "
                      "migration is recorded as failed. Fix "
                      "the cause, then run 'npa migrate repair' (--resume, --undo-partial, "
                      "--mark-applied or --mark-rolled-back).")
            try:
                self.history.record(conn, script.id, script.checksum,
                                    int((time.perf_counter() - started) * 1000), False,
                                    steps_done=done, replace=True,
                                    error=f"{reason}{where}")
            except Exception as record_exc:  # report both failures
                advice += f" (Recording the failure also failed: {record_exc})"
        else:
            advice = (f"{self.provider.name} cannot roll back DDL: {done} down operation(s) "
                      "took effect and the migration is still recorded as applied. Fix the "
                      "database by hand, then run 'npa migrate repair --mark-rolled-back' "
                      f"or 'npa migrate down' again.")
        from .eventlog import log_failure

        log_failure(self, conn, script.id, direction,
                    statement=statement.describe() if statement else None,
                    error=f"{reason}{where}",
                    duration_ms=int((time.perf_counter() - started) * 1000))
        message = (f"Migration {script.id} ({script.source}) failed{where}\n"
                   f"  {getattr(exc, 'label', 'Database said')}: {reason}\n  {advice}")
        return MigrationException(message, migration_id=script.id,
                                  statement=statement.describe() if statement else None,
                                  original=exc)

    # scripts -------------------------------------------------------------------------------
    def script(self, target: str | None = None, *, offline: bool = False,
               direction: str = "up", steps: int | None = None) -> str:
        """The SQL script a run would execute, without changing the database.

        ``offline`` renders it without connecting: every migration is pending and the
        history table is created first. Online, only what is pending (or, for ``down``,
        what would be reverted) is rendered.
        """
        target = self.resolve_target(target)
        self._check_mode()  # a script of a run that would be refused is refused alike
        conn = None if offline else self._connect()
        try:
            return self._script(conn, target, direction, steps)
        finally:
            if conn is not None:
                conn.close()

    def _script(self, conn: "DbConnection | None", target: str | None, direction: str,
                steps: int | None) -> str:
        """:meth:`script` with its connection (``None`` offline); steps that read the live
        schema (SQLite rebuilds) render against ``conn``."""
        from .script import render_script

        if conn is None:
            rows: dict = {}
            create = True
        else:
            create = not self.history.exists(conn)
            rows = {} if create else self.history.read(conn)
            problems = self._problems(rows)
            if problems:
                raise ValidationError(problems)
        if direction == "up":
            scripts = self._pending(rows, target)
        else:
            applied = [s for s in self.discover() if s.id in rows]
            if target is not None:
                ids = [s.id for s in applied]
                applied = applied[ids.index(target) + 1:] if target in ids else []
            elif steps:
                applied = applied[-steps:]
            else:
                applied = applied[-1:]
            scripts = list(reversed(applied))
        return render_script(self, scripts, direction, create_history=create, conn=conn)

    # maintenance ---------------------------------------------------------------------------
    def unlock(self) -> str | None:
        """Force-release a table lock; returns the former holder, or ``None`` if none."""
        lock = self.hook.npa_create_lock(provider=self.provider, table_name=self.options.lock_table)
        holder = lock.holder if lock.force_release() else None
        from .eventlog import log_standalone

        log_standalone(self, "unlock", detail=f"released the lock held by {holder}" if holder
                       else "no lock was held")
        return holder

    def drift(self, model: Any = None):
        """Compare the live schema with the applied migrations (or a SQLAlchemy
        ``MetaData`` / ``"module:attr"``): a :class:`~npa_migrations.schema.drift.DriftReport`."""
        from ..schema.drift import detect_drift

        return detect_drift(self, model)

    def baseline(self, target: str):
        """Record every migration up to ``target`` as applied without running it
        (:mod:`npa_migrations.engine.baseline`)."""
        from .baseline import baseline

        return baseline(self, target)

    def events(self, limit: int | None = None):
        """The event log, oldest first (:mod:`npa_migrations.engine.eventlog`)."""
        from .eventlog import read_events

        return read_events(self, limit)

    # async twins ---------------------------------------------------------------------------
    async def execute_async(self, target: str | None = None) -> MigrationResult:
        """:meth:`execute` in a worker thread (the drivers are blocking)."""
        return await asyncio.to_thread(self.execute, target)

    async def rollback_async(self, steps: int = 1) -> MigrationResult:
        """:meth:`rollback` in a worker thread."""
        return await asyncio.to_thread(self.rollback, steps)

    async def rollback_to_async(self, target: str) -> MigrationResult:
        """:meth:`rollback_to` in a worker thread."""
        return await asyncio.to_thread(self.rollback_to, target)

    async def status_async(self) -> MigrationStatus:
        """:meth:`status` in a worker thread."""
        return await asyncio.to_thread(self.status)

    async def validate_async(self) -> list[ValidationProblem]:
        """:meth:`validate` in a worker thread."""
        return await asyncio.to_thread(self.validate)


def run_statement(hook: Any, conn: "DbConnection", script: "MigrationScript",
                  statement: "Statement") -> None:
    """Run one statement of ``script`` between the ``npa_statement_start`` and
    ``npa_statement_executed`` events (which plugins use for timing and logs)."""
    hook.npa_statement_start(migration=script, statement=statement)
    started = time.perf_counter()
    conn.run(statement)
    hook.npa_statement_executed(migration=script, statement=statement,
                                duration=time.perf_counter() - started)


class _LiveHooks:
    """The run's hook callers, where a hook no plugin implements is a no-op
    (:func:`~npa_migrations.plugins.live`). Built when a run starts (after the CLI
    registers its reporter)."""

    def __init__(self, hook: Any):
        self._hook = hook

    def __getattr__(self, name: str) -> Any:
        from ..plugins import live

        value = live(getattr(self._hook, name))
        setattr(self, name, value)
        return value


class _LockRetry(Exception):
    """Internal: an all-in-one run hit a DDL lock timeout and is retried as a whole."""

    def __init__(self, script: "MigrationScript"):
        super().__init__(script.id)
        self.script = script
