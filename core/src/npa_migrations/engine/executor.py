"""MigrationExecutor: the public embedding API (SPEC §6).

A facade over the engine's parts: it discovers the migrations, opens a
:class:`~npa_migrations.engine.session.Session` per call, validates the history, takes
the :mod:`plan <npa_migrations.engine.plan>` and hands it to the
:class:`~npa_migrations.engine.runner.Runner` with the target the call needs (the live
database, a script, a description). Repair, baseline, drift and the event log are small
functions over a session; this class passes them what they need.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from ..errors import (ConfigurationError, MigrationSourceError, UnknownTargetError,
                      ValidationError)
from ..operations import OperationStream
from ..options import MigrationExecutorOptions, TransactionMode
from ..results import AppliedMigration, MigrationResult, MigrationStatus
from .interrupt import Interruption
from .ordering import ValidationProblem, order_migrations
from .plan import DOWN, UP, Plan, assumed_history, check_range, select_down, select_up
from .planner import plan_steps
from .session import Session
from .squash import SquashedView, resolve_squashes
from .target import DatabaseTarget
from .validation import repeatables_due, validate_history

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from ..schema.drift import DriftReport
    from .baseline import BaselineReport
    from .eventlog import LogEntry
    from .history import HistoryRow
    from .mark import MarkReport
    from .repair import RepairReport

T = TypeVar("T")


class MigrationExecutor:
    """Runs migrations against one database.

    :param database: a URL string, SQLAlchemy ``URL``, ``Engine`` or ``Connection``.
    :param migrations: one source or a list of sources: directories, or dotted package
        names, holding Python migration modules and ``.sql`` files.
    :param options: :class:`~npa_migrations.options.MigrationExecutorOptions`.
    """

    def __init__(self, database: Any, migrations: Any = "migrations",
                 options: MigrationExecutorOptions | None = None):
        self.options = options or MigrationExecutorOptions()
        if isinstance(migrations, (str, Path)):
            migrations = [migrations]
        self.sources = [str(m) for m in migrations]
        self.target = DatabaseTarget(database)
        self.provider = self.target.provider
        #: a request to stop the run under way at its next safe point
        #: (:meth:`interrupt`; the CLI turns SIGINT/SIGTERM into it)
        self.interruption = Interruption()
        self._scripts: list["MigrationScript"] | None = None

    # plumbing ----------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """The plugin manager's hook caller (``pm.hook``), loading plugins on first use."""
        from ..plugins import get_plugin_manager

        return get_plugin_manager().hook

    def session(self, *, read_only: bool = False) -> Session:
        """A new :class:`~npa_migrations.engine.session.Session` on this database (open it
        with ``with``); ``read_only`` never creates the database."""
        return Session(self.target, self.options, read_only=read_only)

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
                script.use_placeholders(self.options.placeholders or {})
                script.bind(self.provider)
                found[script.id] = script

            for source in self.sources:
                self.hook.npa_discover_migrations(source=source, register=register)
            self._scripts = order_migrations(found.values())
        return self._scripts

    def use_discovered(self, scripts: list["MigrationScript"]) -> None:
        """Take the migrations another executor on the same kind of database discovered
        (:meth:`discover` of it), instead of reading the sources again: a fleet reads
        them once for all its targets."""
        self._scripts = scripts

    def resolve_target(self, target: str | None) -> str | None:
        """Full id or 14-digit timestamp -> full id; unknown targets are errors."""
        if target is None:
            return None
        ids = [s.id for s in self.discover()]
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

    def interrupt(self) -> None:
        """Ask the run under way (in another thread) to stop at its next safe point; it
        records where it stopped and raises
        :class:`~npa_migrations.errors.RunInterrupted`."""
        self.interruption.request()

    # reading -----------------------------------------------------------------------------
    def _read(self) -> dict[str, "HistoryRow"]:
        with self.session(read_only=True) as session:
            return session.read_history()

    def view(self, rows: dict[str, "HistoryRow"]) -> SquashedView:
        """The migrations and the history ``rows`` with squashed migrations resolved
        (:mod:`npa_migrations.engine.squash`): what validation and the plan work with."""
        return resolve_squashes(self.discover(), rows)

    def problems(self, rows: dict[str, "HistoryRow"], direction: str = UP
                 ) -> list[ValidationProblem]:
        """Every validation problem between the migrations and the history ``rows`` for a
        run in ``direction``."""
        view = self.view(rows)
        problems = view.problems + validate_history(
            view.scripts, view.rows, validate_checksums=self.options.validate_checksums,
            out_of_order=self.options.out_of_order, direction=direction)
        if direction == DOWN:
            problems = [p for p in problems if p.code != "out_of_order"]
        late = {p.migration_id for p in problems
                if p.code == "out_of_order" and p.migration_id is not None}
        if late:
            retried = self._failed_last(late)
            problems = [p for p in problems
                        if not (p.code == "out_of_order" and p.migration_id in retried)]
        return problems

    def _failed_last(self, ids: set[str]) -> set[str]:
        """Those of ``ids`` whose last attempt, per the event log, failed on the way up: a
        run with ``stop_on_error=False`` went on past them, so they are older than what
        it applied next -- the next ``up`` retries them, which is no out-of-order apply.
        Only read when an out-of-order migration is found."""
        last: dict[str, str] = {}
        with self.session(read_only=True) as session:
            for entry in session.eventlog.read(session.connection):
                if entry.migration_id is not None and entry.migration_id in ids:
                    last[entry.migration_id] = (
                        "failed-up" if entry.event == "failure" and entry.detail == UP
                        else entry.event)
        return {i for i, event in last.items() if event == "failed-up"}

    def status(self) -> MigrationStatus:
        """Applied, pending, interrupted, failed and missing migrations, and the
        repeatable ones (reads only; no lock; a database that does not exist yet is not
        created). ``pending`` lists what ``up`` would run: the versioned migrations not
        applied, then the repeatable ones never applied or changed since."""
        return self.status_of(self._read())

    def status_of(self, recorded: dict[str, "HistoryRow"]) -> MigrationStatus:
        """:meth:`status` for history rows already read (``session.read_history()``), so
        a caller holding a session -- a fleet's status check -- reads once."""
        view = self.view(recorded)
        scripts, rows = view.scripts, view.rows
        known = {s.id for s in scripts}
        applied = [AppliedMigration(r.migration_id, r.applied_at, r.checksum, r.success,
                                    r.execution_ms, r.status) for r in rows.values()]
        succeeded = [s.id for s in scripts
                     if not s.repeatable and s.id in rows and rows[s.id].success]
        return MigrationStatus(
            database=self.provider.database_name(),
            current=succeeded[-1] if succeeded else None,
            applied=applied,
            pending=[s.id for s in scripts if not s.repeatable and s.id not in rows]
            + [s.id for s in repeatables_due(scripts, rows)],
            failed=[r.migration_id for r in rows.values() if r.status == "failed"],
            missing=[i for i in rows if i not in known],
            problems=self.problems(recorded),
            interrupted=[r.migration_id for r in rows.values() if r.under_way],
            repeatables=[s.id for s in scripts if s.repeatable])

    def validate(self) -> list[ValidationProblem]:
        """Every validation problem, without applying anything (``npa migrate validate``)."""
        return self.problems(self._read())

    def plan(self, direction: str = UP, target: str | None = None,
             steps: int | None = None, *, include_repeatables: bool = False) -> Plan:
        """What a run would carry out, after validation, without taking the lock or
        changing anything: :class:`~npa_migrations.engine.plan.Plan` -- for ``up``, the
        interrupted and pending migrations up to ``target`` (then the repeatable ones due);
        for ``down``, the last ``steps`` applied migrations or those after ``target``
        (first the applied repeatable ones with ``include_repeatables``). ``--dry-run``,
        the script writer and :meth:`execute` / :meth:`rollback` all take their plan from
        here."""
        target = self.resolve_target(target)
        rows = self._read()
        problems = self.problems(rows, direction)
        if problems:
            raise ValidationError(problems)
        return self._select(direction, rows, target, steps, include_repeatables)

    def _select(self, direction: str, rows: dict[str, "HistoryRow"], target: str | None,
                steps: int | None, include_repeatables: bool = False) -> Plan:
        view = self.view(rows)
        if direction == UP:
            return select_up(view.scripts, view.rows, out_of_order=self.options.out_of_order,
                             target=target)
        if direction == DOWN:
            return select_down(view.scripts, view.rows, target=target, steps=steps,
                               include_repeatables=include_repeatables)
        raise ConfigurationError(f"Unknown direction '{direction}'; use 'up' or 'down'.")

    # applying ----------------------------------------------------------------------------
    def execute(self, target: str | None = None) -> MigrationResult:
        """Apply every pending migration (up to ``target``, inclusive); an interrupted one
        is continued first."""
        return self._apply(UP, self.resolve_target(target), None)

    def rollback(self, steps: int = 1, *, include_repeatables: bool = False
                 ) -> MigrationResult:
        """Revert the last ``steps`` applied migrations, newest first (with
        ``include_repeatables``, every applied repeatable migration before them)."""
        if steps < 1:
            raise ConfigurationError(f"--steps must be at least 1 (got {steps}).")
        return self._apply(DOWN, None, steps, include_repeatables)

    def rollback_to(self, target: str, *, include_repeatables: bool = False
                    ) -> MigrationResult:
        """Revert every migration applied after ``target``; ``target`` stays applied (with
        ``include_repeatables``, every applied repeatable migration is reverted first)."""
        return self._apply(DOWN, self.resolve_target(target), None, include_repeatables)

    def _apply(self, direction: str, target: str | None, steps: int | None,
               include_repeatables: bool = False) -> MigrationResult:
        started = time.perf_counter()
        self._check_mode()
        with self.session() as session:
            if direction == UP:  # idle instances answer from a read, never queue on the lock
                rows = session.read_history()
                plan = self._select(UP, rows, target, steps)
                if not plan and not self.problems(rows) and not self.view(rows).unrecorded:
                    return _finished(MigrationResult(migrations_ignored=plan.ignored), started)
            with session.locked():
                session.ensure_tables()
                rows = session.read_history()
                problems = self.problems(rows, direction)
                if direction == UP and self.options.check_drift:
                    problems += self._drift_problems(session, self.view(rows).rows)
                if problems:
                    raise ValidationError(problems)
                self._rehash(session, rows)
                rows = self._record_squashes(session, rows)
                plan = self._select(direction, rows, target, steps, include_repeatables)
                self._preflight(plan)
                result = self.run(session, plan, self.view(rows).rows)
        return _finished(result, started)

    def run(self, session: Session, plan: Plan, rows: dict[str, "HistoryRow"]
            ) -> MigrationResult:
        """Carry out ``plan`` on ``session`` (open, under the lock): interrupted
        migrations are settled first (:mod:`npa_migrations.engine.recovery`), then the
        :class:`~npa_migrations.engine.runner.Runner` executes."""
        from .live import LiveTarget
        from .runner import Runner

        self._settle_interrupted(session, plan, rows)
        verifier = self._verifier(session, plan, rows)
        target = LiveTarget(session, self.options, verifier=verifier,
                            interruption=self.interruption)
        try:
            with self.interruption.listening(target.cancel_running):
                return Runner(self.provider, target, self.options, self.interruption).run(plan)
        finally:
            if verifier is not None:
                verifier.close()

    def _verifier(self, session: Session, plan: Plan, rows: dict[str, "HistoryRow"]) -> Any:
        if not (self.options.verify and len(plan)):
            return None
        from ..schema.verify import declares_nothing

        if all(declares_nothing(migration.operations) for migration in plan):
            return None  # raw SQL only: replaying the applied migrations would buy nothing
        from ..schema.drift import engine_tables
        from ..schema.verify import Verifier

        return Verifier(self.provider, session.connection, self._expected(rows),
                        engine_tables(self.options),
                        continue_after_failure=not self.options.stop_on_error)

    def _settle_interrupted(self, session: Session, plan: Plan,
                            rows: dict[str, "HistoryRow"]) -> None:
        """Each migration a dead run left under way: settle its in-doubt statement against
        the live schema (or stop, exit 3, when it cannot be told), and announce where it
        continues."""
        interrupted = [m for m in plan
                       if m.continues and m.resume is not None and m.resume.under_way]
        if not interrupted:  # the usual case: recovery (and its probes) is not imported
            return
        from .live import steps_in_transaction
        from .recovery import settle_in_doubt

        for migration in interrupted:
            steps = plan_steps(self.provider, migration.operations)
            wrapped = steps_in_transaction(migration.script, steps, self.options)
            model = None
            if migration.direction == UP:
                model = self._expected(rows)
                for step in steps[:migration.start.step]:
                    for operation in step.operations:
                        model.apply(operation, migration.id)
            note = settle_in_doubt(session, migration, steps, model, wrapped=wrapped)
            self.hook.npa_migration_resumed(migration=migration.script,
                                            direction=migration.direction,
                                            position=str(migration.start), note=note)

    def _drift_problems(self, session: Session, rows: dict[str, "HistoryRow"]
                        ) -> list[ValidationProblem]:
        from ..schema.drift import detect_drift, drift_messages, engine_tables

        report = detect_drift(self.provider, session.connection, self._expected(rows),
                              "the applied migrations", engine_tables(self.options))
        return [ValidationProblem("drift", None, message) for message in drift_messages(report)]

    def _check_mode(self) -> None:
        mode = self.options.transaction_mode
        if mode is TransactionMode.ALL_IN_ONE and not self.provider.capabilities.transactional_ddl:
            raise ConfigurationError(
                f"Transaction mode all-in-one is not possible on {self.provider.name}: it "
                "commits every DDL statement implicitly, so a failure could not be rolled "
                "back. Use --transaction-mode per-migration (the default).")

    def _preflight(self, plan: Plan) -> None:
        """Refuse, before anything runs, what would fail half way for a reason known in
        advance: identifiers the database cannot hold, a migration that must run outside
        a transaction in all-in-one mode."""
        from .live import step_in_transaction

        outside = []
        for migration in plan:
            operations = migration.operations
            # a stream is custom SQL, whose identifiers are not read (a pass over a file)
            for operation in () if isinstance(operations, OperationStream) else operations:
                for what, name in operation.identifiers():
                    try:
                        self.provider.sql.check_identifier(name, what)
                    except ConfigurationError as exc:
                        raise ConfigurationError(
                            f"Migration {migration.id} ({migration.script.source}): {exc} "
                            "Nothing was applied.") from None
            if self.options.transaction_mode is TransactionMode.ALL_IN_ONE and not all(
                    step_in_transaction(migration.script, step, self.options)
                    for step in plan_steps(self.provider, migration.operations)):
                outside.append(migration.id)
        if outside:
            raise ConfigurationError(
                f"Migration(s) {', '.join(outside)} must run outside a transaction, which "
                "all-in-one mode cannot do. Use --transaction-mode per-migration.")

    def _record_squashes(self, session: Session, rows: dict[str, "HistoryRow"]
                         ) -> dict[str, "HistoryRow"]:
        """Record, under the lock, each squashed migration that counts as applied because
        every migration it replaces is (so a rollback has its row to journal and delete);
        returns the history read again."""
        unrecorded = self.view(rows).unrecorded
        if not unrecorded:
            return rows
        from .squash import record_squashes

        record_squashes(session, [s for s in self.discover() if s.id in unrecorded])
        return session.read_history()

    def _rehash(self, session: Session, rows: dict[str, "HistoryRow"]) -> None:
        """Checksums stored with an older algorithm tag are replaced silently."""
        by_id = {s.id: s for s in self.discover()}
        for row in rows.values():
            script = by_id.get(row.migration_id)
            if script and row.checksum.split(":", 1)[0] != script.checksum.split(":", 1)[0]:
                session.history.set_checksum(session.connection, row.migration_id,
                                             script.checksum)

    # scripts and descriptions ------------------------------------------------------------
    def script(self, target: str | None = None, *, offline: bool = False,
               direction: str = UP, steps: int | None = None, start: str | None = None,
               idempotent: bool = False, include_repeatables: bool = False) -> str:
        """The SQL script a run would execute, without changing the database.

        ``offline`` renders it without connecting, for the history of the database it is
        written for (:func:`~npa_migrations.engine.plan.assumed_history`): for ``up`` none
        (the history table is created first) -- or, with ``start``, every migration up to
        and including ``start`` (``--from``: the script holds those after it); for
        ``down`` every migration, so ``steps`` / ``target`` choose what the script rolls
        back. ``idempotent`` (offline ``up``) guards each migration with the history table,
        so the script can run on a database at any point of the history and applies only
        what is missing (:meth:`~npa_migrations.provider.SqlGenerator.guard_migration`).
        Online, the plan of the database's history is rendered.
        """
        from .runner import Runner
        from .script import ScriptTarget

        target = self.resolve_target(target)
        self._check_mode()
        if (start is not None or idempotent) and not (offline and direction == UP):
            raise ConfigurationError(
                "--from and --idempotent write offline scripts of 'up': use them with "
                "'npa migrate up --sql --offline'.")
        if offline:
            scripts = self.discover()
            start = self.resolve_target(start)
            if start is not None:
                check_range(scripts, start, target)
            rows: dict[str, "HistoryRow"] = {}
            if direction == DOWN:
                rows = assumed_history(scripts)
            elif start is not None:
                rows = assumed_history(scripts, through=start)
            plan = self._select(direction, rows, target, steps, include_repeatables)
            writer = ScriptTarget(self.provider, self.options, direction,
                                  create_history=direction == UP and (
                                      start is None or idempotent),
                                  idempotent=idempotent,
                                  schema=lambda: self._expected(self.view(rows).rows))
            Runner(self.provider, writer, self.options).run(plan)
            return writer.text()
        with self.session(read_only=True) as session:
            rows = session.read_history()
            problems = self.problems(rows, direction)
            if problems:
                raise ValidationError(problems)
            plan = self._select(direction, rows, target, steps, include_repeatables)
            create = not session.connected or not session.history.exists(session.connection)
            writer = ScriptTarget(self.provider, self.options, direction,
                                  create_history=create,
                                  connection=session.connection if session.connected else None)
            try:
                Runner(self.provider, writer, self.options).run(plan)
            finally:
                writer.close()
        return writer.text()

    def _expected(self, rows: dict[str, "HistoryRow"]) -> Any:
        """The schema the applied ones of ``rows`` build (replayed, no database)."""
        from ..schema.drift import expected_model

        return expected_model(self.provider, self.discover(),
                              {i: r for i, r in rows.items() if r.success})

    # maintenance ---------------------------------------------------------------------------
    def repair(self, action: str | None = None, accept_checksum: str | None = None, *,
               skip_in_doubt: bool = False) -> "RepairReport":
        """Settle failed or interrupted migrations and accept intended checksum changes
        (:mod:`npa_migrations.engine.repair`)."""
        from .repair import repair

        with self.session() as session:
            return repair(self, session, action,
                          self.resolve_target(accept_checksum) if accept_checksum else None,
                          skip_in_doubt=skip_in_doubt)

    def unlock(self) -> str | None:
        """Force-release a table lock; returns the former holder, or ``None`` if none."""
        lock = self.hook.npa_create_lock(provider=self.provider, table_name=self.options.lock_table)
        holder = lock.holder if lock.force_release() else None
        try:  # best effort: the unlock happened, whether or not the log can say so
            with self.session() as session:
                session.eventlog.ensure(session.connection)
                session.eventlog.record(session.connection, "unlock",
                                        detail=f"released the lock held by {holder}" if holder
                                        else "no lock was held")
        except Exception:
            pass
        return holder

    def drift(self, model: Any = None) -> "DriftReport":
        """Compare the live schema with the applied migrations (or a SQLAlchemy
        ``MetaData`` / ``"module:attr"``): a :class:`~npa_migrations.schema.drift.DriftReport`."""
        from ..schema.drift import detect_drift, engine_tables, load_model
        from ..schema.model import SchemaModel

        with self.session(read_only=True) as session:
            if model is not None:
                metadata = load_model(model) if isinstance(model, str) else model
                expected = SchemaModel.from_metadata(metadata, self.provider.dialect.name)
                source = (f"model {model}" if isinstance(model, str)
                          else f"the given MetaData ({len(expected.tables)} tables)")
            else:
                rows = self.view(session.read_history()).rows
                applied = [r for r in rows.values() if r.success]
                expected = self._expected(rows)
                source = f"{len(applied)} applied migration{'s' if len(applied) != 1 else ''}"
            if not session.connected:
                raise ConfigurationError(
                    f"The database {self.provider.display_url()} does not exist yet: there "
                    "is no schema to compare. Run 'npa migrate up' first.")
            return detect_drift(self.provider, session.connection, expected, source,
                                engine_tables(self.options))

    def baseline(self, target: str) -> "BaselineReport":
        """Record every migration up to ``target`` as applied without running it
        (:mod:`npa_migrations.engine.baseline`)."""
        from .baseline import baseline

        with self.session() as session:
            return baseline(session, self.discover(), self.resolve_target(target) or target)

    def mark(self, migration_id: str, *, applied: bool, force: bool = False) -> "MarkReport":
        """Record one migration as applied without running it (``applied=True``) or forget
        its history row (``applied=False``), under the lock
        (:mod:`npa_migrations.engine.mark`); ``force`` lets an inconsistent history
        through."""
        from .mark import mark

        try:  # a row whose file is gone can still be marked pending, by its full id
            migration_id = self.resolve_target(migration_id) or migration_id
        except UnknownTargetError:
            if applied:
                raise
        with self.session() as session, session.locked():
            session.ensure_tables()
            rows = self._record_squashes(session, session.read_history())
            return mark(session, self.view(rows), migration_id, applied=applied, force=force)

    def events(self, limit: int | None = None) -> list["LogEntry"]:
        """The event log, oldest first (:mod:`npa_migrations.engine.eventlog`)."""
        with self.session(read_only=True) as session:
            entries = session.eventlog.read(session.connection) if session.connected else []
        return entries[-limit:] if limit else entries

    # async twins ---------------------------------------------------------------------------
    async def _in_thread(self, func: Callable[..., T], *args: Any) -> T:
        """Run ``func`` in a worker thread (the drivers are blocking). Cancelling the
        awaiting task asks the run to stop at its next safe point and waits for it, so the
        history says what happened before the cancellation propagates."""
        task = asyncio.ensure_future(asyncio.to_thread(func, *args))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            self.interruption.request()
            try:
                await task
            except Exception:  # the interruption itself (RunInterrupted) or a failure
                pass
            finally:
                self.interruption = Interruption()
            raise

    async def execute_async(self, target: str | None = None) -> MigrationResult:
        """:meth:`execute` in a worker thread; cancellation stops it at a safe point."""
        return await self._in_thread(self.execute, target)

    async def rollback_async(self, steps: int = 1, *, include_repeatables: bool = False
                             ) -> MigrationResult:
        """:meth:`rollback` in a worker thread."""
        return await self._in_thread(lambda: self.rollback(
            steps, include_repeatables=include_repeatables))

    async def rollback_to_async(self, target: str, *, include_repeatables: bool = False
                                ) -> MigrationResult:
        """:meth:`rollback_to` in a worker thread."""
        return await self._in_thread(lambda: self.rollback_to(
            target, include_repeatables=include_repeatables))

    async def status_async(self) -> MigrationStatus:
        """:meth:`status` in a worker thread."""
        return await self._in_thread(self.status)

    async def validate_async(self) -> list[ValidationProblem]:
        """:meth:`validate` in a worker thread."""
        return await self._in_thread(self.validate)

    async def plan_async(self, direction: str = UP, target: str | None = None,
                         steps: int | None = None) -> Plan:
        """:meth:`plan` in a worker thread."""
        return await self._in_thread(self.plan, direction, target, steps)

    async def script_async(self, target: str | None = None, **options: Any) -> str:
        """:meth:`script` in a worker thread (the same keyword options)."""
        return await self._in_thread(lambda: self.script(target, **options))

    async def drift_async(self, model: Any = None) -> "DriftReport":
        """:meth:`drift` in a worker thread."""
        return await self._in_thread(self.drift, model)

    async def repair_async(self, action: str | None = None,
                           accept_checksum: str | None = None) -> "RepairReport":
        """:meth:`repair` in a worker thread."""
        return await self._in_thread(self.repair, action, accept_checksum)

    async def baseline_async(self, target: str) -> "BaselineReport":
        """:meth:`baseline` in a worker thread."""
        return await self._in_thread(self.baseline, target)

    async def mark_async(self, migration_id: str, *, applied: bool, force: bool = False
                         ) -> "MarkReport":
        """:meth:`mark` in a worker thread."""
        return await self._in_thread(lambda: self.mark(migration_id, applied=applied,
                                                       force=force))

    async def events_async(self, limit: int | None = None) -> list["LogEntry"]:
        """:meth:`events` in a worker thread."""
        return await self._in_thread(self.events, limit)

    async def unlock_async(self) -> str | None:
        """:meth:`unlock` in a worker thread."""
        return await self._in_thread(self.unlock)


def _finished(result: MigrationResult, started: float) -> MigrationResult:
    result.duration = dt.timedelta(seconds=time.perf_counter() - started)
    return result
