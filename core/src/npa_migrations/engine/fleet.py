"""FleetExecutor: one migration history run against many targets (tenants) at once.

A SaaS with a database or a schema per tenant runs the same migrations against hundreds
or thousands of targets. The fleet does not have a step loop of its own: each target is
an ordinary :class:`~npa_migrations.engine.executor.MigrationExecutor` (its session, its
lock, its plan, its runner), so a fleet run and a single-target run of one target take
the same lock and never migrate it twice. What the fleet adds:

* the migrations are discovered once for the whole fleet (per kind of database), not
  once per target (:meth:`MigrationExecutor.use_discovered`);
* a bounded pool of worker threads (``concurrency``): each works on one target at a time
  with that target's one connection (plus the lock's, where the lock needs its own);
  the work is waiting on databases, which threads do well under the GIL;
* a failure policy: ``canary`` targets first, the fleet stops when one of them fails;
  after ``max_failures`` failures no new target starts; every failed target is named
  with its error; a re-run resumes, since up-to-date targets take the no-op path (one
  connection, one read of the history, no lock);
* events per target (``on_event``) and :func:`current_tenant` in the worker threads, so
  the CLI's progress line and ``--json`` events say which tenant they are about.

Targets come from :mod:`npa_migrations.engine.tenants` (tenants file, schema query,
shards).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..errors import ConfigurationError, NpaError, RunInterrupted
from ..options import MigrationExecutorOptions
from .executor import MigrationExecutor
from .interrupt import Interruption
from .tenants import Tenant, tenants_from_urls

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from ..results import MigrationStatus

_local = threading.local()

#: outcome states of one target
DONE, FAILED, NOT_STARTED, INTERRUPTED = "done", "failed", "not_started", "interrupted"


def current_tenant() -> str | None:
    """The tenant the calling thread is working on in a fleet run, else ``None``
    (event listeners tag what they report with it)."""
    return getattr(_local, "tenant", None)


def default_concurrency() -> int:
    """Workers when none is asked for: twice the CPUs (the work is mostly waiting on the
    databases), at least 2 and at most 16."""
    return max(2, min(16, 2 * (os.cpu_count() or 1)))


@dataclass
class TargetOutcome:
    """What happened on one target.

    :ivar tenant: the target's name.
    :ivar state: ``done``, ``failed``, ``not_started`` (the fleet stopped first) or
        ``interrupted``.
    :ivar value: what the call returned (a
        :class:`~npa_migrations.results.MigrationResult`, a :class:`TargetStatus`, the
        validation problems, a drift report).
    :ivar error: the error message of a failed target.
    :ivar exit_code: the documented exit code of that error (0 when done).
    :ivar duration: seconds spent on the target.
    """

    tenant: str
    state: str = NOT_STARTED
    value: Any = None
    error: str | None = None
    exit_code: int = 0
    duration: float = 0.0

    @property
    def failed(self) -> bool:
        """Whether the target failed."""
        return self.state == FAILED

    def to_json(self) -> dict[str, Any]:
        """The target's line of a fleet's JSON result."""
        data: dict[str, Any] = {"tenant": self.tenant, "state": self.state,
                                "duration_ms": round(self.duration * 1000, 3)}
        if self.error is not None:
            data.update(error=self.error, exit_code=self.exit_code)
        return data


@dataclass
class TargetStatus:
    """One target's status in a fleet: the single-target status and who holds its lock.

    :ivar status: :class:`~npa_migrations.results.MigrationStatus`.
    :ivar locked_by: the lock's holder while a run migrates the target, else ``None``.
    """

    status: "MigrationStatus"
    locked_by: str | None = None


@dataclass
class FleetResult:
    """The outcome of a fleet command: one :class:`TargetOutcome` per target, in the
    listed order.

    :ivar action: ``up``, ``down``, ``status``, ``validate`` or ``drift``.
    :ivar stopped: why targets were left unstarted (canary failed, ``--max-failures``
        reached, interrupted), else ``None``.
    :ivar interruption: the exit code of the signal that stopped the fleet, if one did.
    """

    action: str
    outcomes: list[TargetOutcome]
    duration: float = 0.0
    stopped: str | None = None
    interruption: int | None = None

    def _in(self, state: str) -> list[TargetOutcome]:
        return [o for o in self.outcomes if o.state == state]

    @property
    def done(self) -> list[TargetOutcome]:
        """Targets that finished without error."""
        return self._in(DONE)

    @property
    def failed(self) -> list[TargetOutcome]:
        """Targets that failed, each with its error."""
        return self._in(FAILED)

    @property
    def not_started(self) -> list[TargetOutcome]:
        """Targets not finished: not started (the fleet stopped first), or stopped at a
        safe point by an interruption (their next run continues them)."""
        return self._in(NOT_STARTED) + self._in(INTERRUPTED)

    @property
    def success(self) -> bool:
        """Every target finished without error."""
        return len(self.done) == len(self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 on success; the signal's code when interrupted; the failed targets' exit
        code when they share one (3 validation, 4 lock, 2 configuration), else 1."""
        if self.interruption is not None:
            return self.interruption
        if self.success:
            return 0
        codes = {o.exit_code for o in self.failed}
        return codes.pop() if len(codes) == 1 else 1


#: an event listener: ``(event, tenant or None, data)``
Listener = Callable[[str, "str | None", dict], None]


class FleetExecutor:
    """Runs one migration history against many targets with bounded concurrency.

    :param tenants: :class:`~npa_migrations.engine.tenants.Tenant` objects or database
        URLs (named by the URL, password hidden).
    :param migrations: the sources, as for :class:`MigrationExecutor`.
    :param options: :class:`~npa_migrations.options.MigrationExecutorOptions` for every
        target.
    :param concurrency: targets worked on at once (default :func:`default_concurrency`).
    :param max_failures: after this many failed targets no new target starts.
    :param canary: run this many targets first (one batch); if any fails, stop.
    :param on_event: called (from worker threads) with ``target_start`` / ``target_end``
        events: ``(event, tenant, {"outcome": TargetOutcome})``.
    """

    def __init__(self, tenants: Iterable[Any], migrations: Any = "migrations",
                 options: MigrationExecutorOptions | None = None, *,
                 concurrency: int | None = None, max_failures: int | None = None,
                 canary: int = 0, on_event: Listener | None = None):
        listed = list(tenants)
        given = [t for t in listed if isinstance(t, Tenant)]
        self.tenants: list[Tenant] = (given if len(given) == len(listed)
                                      else tenants_from_urls(listed))
        self.migrations = migrations
        self.options = options or MigrationExecutorOptions()
        self.concurrency = default_concurrency() if concurrency is None else concurrency
        if self.concurrency < 1:
            raise ConfigurationError(f"--concurrency must be at least 1 (got {concurrency}).")
        if max_failures is not None and max_failures < 1:
            raise ConfigurationError(
                f"--max-failures must be at least 1 (got {max_failures}).")
        if canary < 0:
            raise ConfigurationError(f"--canary must be 0 or more (got {canary}).")
        self.max_failures = max_failures
        self.canary = canary
        self.on_event = on_event
        #: a request to stop: no new target starts, the running ones stop at a safe point
        self.interruption = Interruption()
        self._scripts: dict[type, list["MigrationScript"]] = {}
        self._discovering = threading.Lock()

    # targets -----------------------------------------------------------------------------
    def executor(self, tenant: Tenant) -> MigrationExecutor:
        """The :class:`MigrationExecutor` of one target, with the fleet's migrations
        (discovered once per kind of database)."""
        executor = MigrationExecutor(tenant.database, self.migrations, self.options)
        kind = type(executor.provider)
        with self._discovering:
            scripts = self._scripts.get(kind)
            if scripts is None:
                scripts = self._scripts[kind] = executor.discover()
        executor.use_discovered(scripts)
        return executor

    def _first(self) -> MigrationExecutor | None:
        """The first target's executor: discovery errors and unknown targets end the
        fleet before any target starts."""
        return self.executor(self.tenants[0]) if self.tenants else None

    def interrupt(self) -> None:
        """Stop the fleet: no new target starts; running ones stop at a safe point."""
        self.interruption.request()

    # commands ----------------------------------------------------------------------------
    def execute(self, target: str | None = None) -> FleetResult:
        """Apply the pending migrations (up to ``target``) on every target."""
        first = self._first()
        target = first.resolve_target(target) if first else target
        return self.run("up", lambda e: e.execute(target), failed_run)

    def rollback(self, steps: int = 1, *, include_repeatables: bool = False) -> FleetResult:
        """Revert the last ``steps`` migrations on every target."""
        return self.run("down", lambda e: e.rollback(
            steps, include_repeatables=include_repeatables), failed_run)

    def rollback_to(self, target: str, *, include_repeatables: bool = False) -> FleetResult:
        """Revert every migration after ``target`` on every target."""
        first = self._first()
        resolved = (first.resolve_target(target) if first else target) or target
        return self.run("down", lambda e: e.rollback_to(
            resolved, include_repeatables=include_repeatables), failed_run)

    def status(self) -> FleetResult:
        """Each target's :class:`TargetStatus` (one connection per target: the history
        is read once, and the lock is probed without being taken where the database can
        tell who holds it)."""
        self._first()
        return self.run("status", target_status, lambda value: None)

    def validate(self) -> FleetResult:
        """Each target's validation problems; a target with problems fails (exit 3)."""
        self._first()
        return self.run("validate", lambda e: e.validate(), invalid)

    def drift(self, model: Any = None) -> FleetResult:
        """Each target's drift report; a target that drifted fails (exit 3)."""
        self._first()
        return self.run("drift", lambda e: e.drift(model), drifted)

    # the pool ----------------------------------------------------------------------------
    def run(self, action: str, call: Callable[[MigrationExecutor], Any],
            judge: Callable[[Any], "tuple[int, str] | None"]) -> FleetResult:
        """Call ``call(executor)`` on every target (canaries first), with the failure
        policy; ``judge(value)`` says whether a returned value is a failure
        (``(exit code, message)``) or not (``None``)."""
        started = time.perf_counter()
        outcomes = {t.name: TargetOutcome(t.name) for t in self.tenants}
        canaries, rest = self.tenants[:self.canary], self.tenants[self.canary:]
        stopped = None
        if canaries:
            self._pool(canaries, call, judge, outcomes, None)
            failed = [t for t in canaries if outcomes[t.name].failed]
            if failed:
                stopped = (f"canary: {len(failed)} of the first {len(canaries)} target(s) "
                           f"failed ({', '.join(t.name for t in failed[:3])}"
                           f"{', ...' if len(failed) > 3 else ''}); the others were not "
                           "started")
        if stopped is None and rest and not self.interruption.requested:
            stopped = self._pool(rest, call, judge, outcomes, self.max_failures)
        interruption = None
        if self.interruption.requested:
            interruption = self.interruption.exit_code()
            stopped = "interrupted: the running targets stopped at a safe point"
        return FleetResult(action, [outcomes[t.name] for t in self.tenants],
                           time.perf_counter() - started, stopped, interruption)

    def _pool(self, tenants: list[Tenant], call: Callable[[MigrationExecutor], Any],
              judge: Callable[[Any], "tuple[int, str] | None"],
              outcomes: dict[str, TargetOutcome], limit: int | None) -> str | None:
        queue = iter(tenants)
        guard = threading.Lock()
        state: dict[str, Any] = {"failures": 0, "stop": None}

        def next_tenant() -> Tenant | None:
            with guard:
                if state["stop"] or self.interruption.requested:
                    return None
                return next(queue, None)

        def work() -> None:
            try:
                work_on()
            except BaseException as exc:  # a listener's bug: stop the fleet, report it
                with guard:
                    state["stop"] = state["stop"] or "a worker failed"
                    state.setdefault("error", exc)

        def work_on() -> None:
            while (tenant := next_tenant()) is not None:
                outcome = self._one(tenant, call, judge)
                outcomes[tenant.name] = outcome
                if outcome.failed:
                    with guard:
                        state["failures"] += 1
                        if limit is not None and state["failures"] >= limit \
                                and not state["stop"]:
                            state["stop"] = (f"--max-failures {limit} reached; the "
                                             "remaining targets were not started")

        workers = [threading.Thread(target=work, name=f"npa-fleet-{n}", daemon=True)
                   for n in range(min(self.concurrency, len(tenants)))]
        for worker in workers:
            worker.start()
        for worker in workers:
            while worker.is_alive():  # a short wait keeps the main thread's signals live
                worker.join(0.2)
        if "error" in state:
            raise state["error"]
        return state["stop"]

    def _one(self, tenant: Tenant, call: Callable[[MigrationExecutor], Any],
             judge: Callable[[Any], "tuple[int, str] | None"]) -> TargetOutcome:
        _local.tenant = tenant.name
        outcome = TargetOutcome(tenant.name)
        started = time.perf_counter()
        self._emit("target_start", tenant.name, {})
        try:
            executor = self.executor(tenant)
            with self.interruption.listening(executor.interrupt):
                if self.interruption.requested:
                    executor.interrupt()
                outcome.value = call(executor)
            verdict = judge(outcome.value)
            outcome.state = FAILED if verdict else DONE
            if verdict:
                outcome.exit_code, outcome.error = verdict
        except RunInterrupted as exc:
            outcome.state, outcome.error, outcome.exit_code = INTERRUPTED, str(exc), \
                exc.exit_code
        except NpaError as exc:
            outcome.state, outcome.error, outcome.exit_code = FAILED, str(exc), exc.exit_code
        except Exception as exc:  # any driver error: this target failed, the fleet goes on
            outcome.state, outcome.exit_code = FAILED, 1
            outcome.error = f"Unexpected error: {type(exc).__name__}: {exc}"
        finally:
            _local.tenant = None
        outcome.duration = time.perf_counter() - started
        self._emit("target_end", tenant.name, {"outcome": outcome})
        return outcome

    def _emit(self, event: str, tenant: str | None, data: dict) -> None:
        if self.on_event is not None:
            self.on_event(event, tenant, data)


# what a target's call returned, judged ---------------------------------------------------
def failed_run(result: Any) -> "tuple[int, str] | None":
    """A :class:`~npa_migrations.results.MigrationResult` with errors fails (exit 1)."""
    if result.success:
        return None
    error = result.errors[0]
    where = f"{error.migration_id}: " if error.migration_id else ""
    return 1, f"{where}{error.message}"


def invalid(problems: Any) -> "tuple[int, str] | None":
    """Validation problems fail the target (exit 3)."""
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return 3, f"{problems[0]}{more}"


def drifted(report: Any) -> "tuple[int, str] | None":
    """A drift report with differences fails the target (exit 3)."""
    if not report.has_drift:
        return None
    lines = [line for line in report.lines() if line.strip()]
    return 3, lines[0].strip() if lines else "the schema drifted"


def target_status(executor: MigrationExecutor) -> TargetStatus:
    """A target's status and lock holder over one connection."""
    with executor.session(read_only=True) as session:
        status = executor.status_of(session.read_history())
        holder = None
        if session.connected:
            lock = executor.hook.npa_create_lock(provider=executor.provider,
                                                 table_name=executor.options.lock_table)
            holder = lock.probe(session.connection)
    return TargetStatus(status, holder)

