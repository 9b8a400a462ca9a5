"""Fleet options of the ``npa migrate`` commands and their output.

``up``, ``down``, ``status``, ``validate`` and ``drift`` take ``--tenants FILE`` or
``--tenant-schemas QUERY`` (or ``[tool.npa.fleet]`` in the configuration) and then run
over every target with a :class:`~npa_migrations.engine.fleet.FleetExecutor`, instead of
on the one database of ``-d``. :func:`fleet_options` adds the options to a command and
takes over when a fleet is asked for; the command itself stays the single-target one.

Output: on a terminal a progress line (targets done / failed / remaining, rate, ETA);
elsewhere one line per target that changed or failed; then a summary naming every
failed target. Under ``--json`` one JSON object per line per event, each with a
``tenant`` field (``null`` for the fleet's own events), ending with ``fleet_result``.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import click

#: the keys of ``[tool.npa.fleet]``
FLEET_KEYS = {"tenants", "tenant_schemas", "concurrency", "max_failures", "canary"}
#: the options :func:`fleet_options` adds (parameter names)
OPTION_NAMES = ("tenants", "tenant_schemas", "concurrency", "shard", "max_failures", "canary")
#: single-target flags a fleet refuses, per command: (parameter, flag)
REFUSED = {
    "up": (("dry_run", "--dry-run"), ("as_sql", "--sql"), ("offline", "--offline"),
           ("start", "--from"), ("idempotent", "--idempotent"), ("no_lock", "--no-lock")),
    "down": (("dry_run", "--dry-run"), ("as_sql", "--sql"), ("offline", "--offline"),
             ("no_lock", "--no-lock")),
}


@dataclass
class FleetRequest:
    """What the fleet options (or ``[tool.npa.fleet]``) asked for."""

    tenants: str | None = None
    tenant_schemas: str | None = None
    concurrency: int | None = None
    shard: str | None = None
    max_failures: int | None = None
    canary: int = 0


def fleet_options(command: str, guard: Callable) -> Callable:
    """Add the fleet options to the ``npa migrate <command>`` callback below it (which
    receives click's keyword arguments, before ``pass_obj``); when a fleet is asked for,
    run the fleet version of the command instead. ``guard`` is the CLI's error handler
    (``handle_errors``), so fleet errors get the same messages and exit codes."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            picked = {name: kwargs.pop(name) for name in OPTION_NAMES}
            ran: list[bool] = []

            @guard
            def maybe_fleet(as_json: bool = False) -> None:
                obj = click.get_current_context().obj
                request = fleet_request(obj, picked)
                if request is None:
                    return
                ran.append(True)
                run_fleet(command, obj, request, kwargs)

            maybe_fleet(as_json=kwargs.get("as_json", False))
            if not ran:
                return func(*args, **kwargs)
            return None

        options = [
            click.option("--tenants", metavar="FILE",
                         help="Run over every database in FILE (one URL per line, '#' "
                              "comments) instead of -d (config [tool.npa.fleet] tenants)."),
            click.option("--tenant-schemas", metavar="QUERY",
                         help="Run over every schema QUERY returns on the -d database "
                              "(PostgreSQL schemas, MySQL databases)."),
            click.option("--concurrency", type=click.IntRange(min=1), metavar="N",
                         help="Fleet: targets worked on at once (default 2 x CPUs, 2-16)."),
            click.option("--shard", metavar="I/N",
                         help="Fleet: only the targets of shard I of N (0-based; a stable "
                              "hash of each target), e.g. from a Kubernetes Indexed Job."),
            click.option("--max-failures", type=click.IntRange(min=1), metavar="K",
                         help="Fleet: start no new target after K failures."),
            click.option("--canary", type=click.IntRange(min=0), metavar="N",
                         help="Fleet: run N targets first; stop if any of them fails."),
        ]
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def fleet_request(obj: Any, picked: dict[str, Any]) -> FleetRequest | None:
    """The fleet asked for by the flags, else by ``[tool.npa.fleet]`` when ``-d`` was not
    given; ``None`` for a single-target command."""
    from pathlib import Path

    from ..errors import ConfigurationError

    settings = obj.config.settings.get("fleet") or {}
    if not isinstance(settings, dict):
        raise ConfigurationError("[tool.npa.fleet] must be a table (tenants = \"FILE\" or "
                                 "tenant_schemas = \"QUERY\", concurrency, max_failures, "
                                 "canary).")
    unknown = sorted(set(settings) - FLEET_KEYS)
    if unknown:
        raise ConfigurationError(f"[tool.npa.fleet]: unknown setting(s) {', '.join(unknown)}. "
                                 f"Known: {', '.join(sorted(FLEET_KEYS))}.")
    if picked["tenants"] and picked["tenant_schemas"]:
        raise click.UsageError("Give either --tenants or --tenant-schemas, not both.")
    request = FleetRequest(tenants=picked["tenants"], tenant_schemas=picked["tenant_schemas"])
    if not (request.tenants or request.tenant_schemas) and obj.database_url is None \
            and (settings.get("tenants") or settings.get("tenant_schemas")):
        tenants = settings.get("tenants")
        if tenants and obj.config.file is not None and not Path(tenants).is_absolute():
            tenants = str(obj.config.file.parent / tenants)
        request = FleetRequest(tenants=tenants, tenant_schemas=settings.get("tenant_schemas"))
    if not (request.tenants or request.tenant_schemas):
        given = [f"--{n.replace('_', '-')}" for n in OPTION_NAMES[2:] if picked[n] is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} go(es) with --tenants or "
                                   "--tenant-schemas (a fleet).")
        return None

    def setting(name: str) -> Any:
        value = picked[name] if picked[name] is not None else settings.get(name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ConfigurationError(f"[tool.npa.fleet] {name} must be a whole number "
                                     f"(got {value!r}).")
        return value

    request.concurrency = setting("concurrency")
    request.max_failures = setting("max_failures")
    request.canary = setting("canary") or 0
    request.shard = picked["shard"]
    return request


def resolve_tenants(obj: Any, request: FleetRequest) -> tuple[list, str]:
    """The targets of this machine (after ``--shard``) and a line saying where they come
    from."""
    from ..engine.tenants import parse_shard, read_tenants_file, schema_tenants, select_shard

    if request.tenants:
        tenants = read_tenants_file(request.tenants)
        origin = f"tenants file {request.tenants}"
    else:
        database = obj.config.database()
        tenants = schema_tenants(database, request.tenant_schemas or "")
        from ..urls import display_url, parse_url

        origin = f"schemas of {display_url(parse_url(database))}"
    if request.shard:
        index, count = parse_shard(request.shard)
        total = len(tenants)
        tenants = select_shard(tenants, index, count)
        origin += f", shard {index}/{count} ({len(tenants)} of {total})"
    return tenants, origin


def run_fleet(command: str, obj: Any, request: FleetRequest, kwargs: dict[str, Any]) -> None:
    """Run ``command`` over the fleet with the command's own options ``kwargs``; exits
    with the fleet's exit code."""
    from ..engine.fleet import FleetExecutor

    for name, flag in REFUSED.get(command, ()):
        if kwargs.get(name):
            raise click.UsageError(f"{flag} works on one database; run it with -d on one "
                                   "tenant, without --tenants / --tenant-schemas.")
    as_json = bool(kwargs.get("as_json"))
    tenants, origin = resolve_tenants(obj, request)
    options = obj.options(**executor_overrides(command, obj, kwargs))
    progress = FleetProgress(command, len(tenants), as_json)
    fleet = FleetExecutor(tenants, obj.config.migrations, options,
                          concurrency=request.concurrency, max_failures=request.max_failures,
                          canary=request.canary, on_event=progress.event)
    progress.start(origin, fleet.concurrency)
    result = progress.listening(fleet, lambda: _call(command, fleet, kwargs))
    progress.finish(result)
    code = result.exit_code
    if command == "status" and kwargs.get("exit_code") and code == 0:
        states = [o.value.status for o in result.done]
        if any(s.problems for s in states):
            code = 3
        elif any(not s.up_to_date for s in states):
            code = 5
    if code:
        sys.exit(code)


def executor_overrides(command: str, obj: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The options of each target's executor, from the command's flags (as the
    single-target command sets them)."""
    settings = obj.config.settings
    overrides: dict[str, Any] = {}
    if command in ("up", "down"):
        overrides.update(transaction_mode=kwargs.get("transaction_mode"),
                         lock_timeout_seconds=kwargs.get("lock_timeout"),
                         timeout_seconds=kwargs.get("statement_timeout"))
    if command == "up":
        verify = kwargs.get("verify")
        overrides.update(
            out_of_order=kwargs.get("out_of_order"),
            verify=bool(settings.get("verify", True)) if verify is None else verify,
            check_drift=bool(kwargs.get("check_drift")
                             or settings.get("check_drift", False)))
    return overrides


def _call(command: str, fleet: Any, kwargs: dict[str, Any]) -> Any:
    repeatables = {"include_repeatables": bool(kwargs.get("include_repeatables"))}
    if command == "up":
        return fleet.execute(kwargs.get("target"))
    if command == "down":
        if kwargs.get("target") and kwargs.get("steps"):
            raise click.UsageError("Give either --target or --steps, not both.")
        if kwargs.get("target"):
            return fleet.rollback_to(kwargs["target"], **repeatables)
        return fleet.rollback(kwargs.get("steps") or 1, **repeatables)
    if command == "status":
        return fleet.status()
    if command == "validate":
        return fleet.validate()
    return fleet.drift(kwargs.get("model"))


class FleetProgress:
    """The fleet's output: per-target events, the progress line, the summary."""

    def __init__(self, command: str, total: int, as_json: bool):
        from .output import Style

        self.command = command
        self.total = total
        self.as_json = as_json
        self.style = Style()
        self.tty = not as_json and sys.stdout.isatty()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.done = self.failed = 0
        self.line_shown = False

    # events ------------------------------------------------------------------------------
    def listening(self, fleet: Any, action: Callable[[], Any]) -> Any:
        """Run ``action`` with SIGINT / SIGTERM stopping the fleet at a safe point, and
        under ``--json`` the engine's events tagged with their tenant."""
        from ..engine.interrupt import stop_on_signals

        with stop_on_signals(fleet.interruption):
            if not self.as_json or self.command not in ("up", "down"):
                return action()
            from ..plugins import get_plugin_manager

            manager = get_plugin_manager()
            manager.register(tenant_json_reporter(self.lock), name="npa-cli-fleet-reporter")
            try:
                return action()
            finally:
                manager.unregister(name="npa-cli-fleet-reporter")

    def start(self, origin: str, concurrency: int) -> None:
        """The fleet's first line."""
        if self.as_json:
            self.emit("fleet_start", None, command=self.command, targets=self.total,
                      concurrency=concurrency, source=origin)
        elif self.command in ("up", "down"):
            from .output import write

            write(f"Fleet {self.command}: {self.total} target(s) from {origin}, "
                  f"concurrency {concurrency}")

    def event(self, event: str, tenant: str | None, data: dict) -> None:
        """A :class:`~npa_migrations.engine.fleet.FleetExecutor` event (worker threads)."""
        if event != "target_end":
            if self.as_json:
                self.emit(event, tenant)
            return
        outcome = data["outcome"]
        with self.lock:
            self.done += not outcome.failed
            self.failed += outcome.failed
            if self.as_json:
                detail = target_json(self.command, outcome)
                detail.pop("tenant")
                self.emit("target_end", tenant, **detail)
            else:
                self.show(outcome)

    def emit(self, event: str, tenant: str | None, **data: Any) -> None:
        """One JSON line; for ``status`` / ``validate`` / ``drift`` only the result (one
        document with the per-target detail)."""
        from .output import echo_json

        if self.command in ("up", "down") or event == "fleet_result":
            echo_json({"event": event, **data, "tenant": tenant})

    # human -------------------------------------------------------------------------------
    def show(self, outcome: Any) -> None:
        from .output import write

        line = None
        if outcome.failed:
            line = self.style.bad(f"{self.style.fail} {outcome.tenant}: {outcome.error}")
        elif self.command in ("up", "down") and outcome.value is not None \
                and outcome.value.migrations_applied:
            verb = "applied" if self.command == "up" else "rolled back"
            line = (f"{self.style.good(self.style.ok)} {outcome.tenant}: "
                    f"{outcome.value.migrations_applied} migration(s) {verb} "
                    f"({outcome.duration:.2f}s)")
        if self.tty:
            if line and self.command in ("up", "down") or outcome.failed:
                self.clear()
                write(line or "")
            self.progress_line()
        elif line and (self.command in ("up", "down") or outcome.failed):
            write(line)

    def progress_line(self) -> None:
        finished = self.done + self.failed
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = finished / elapsed
        remaining = self.total - finished
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        text = (f"{self.done} done, {self.failed} failed, {remaining} remaining  "
                f"{rate:.1f} targets/s  ETA {eta}")
        sys.stdout.write("\r" + text + "\x1b[K")
        sys.stdout.flush()
        self.line_shown = True

    def clear(self) -> None:
        if self.line_shown:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()
            self.line_shown = False

    # result ------------------------------------------------------------------------------
    def finish(self, result: Any) -> None:
        """The summary (human) or the ``fleet_result`` line (JSON)."""
        if self.tty:
            self.clear()
        if self.as_json:
            self.emit("fleet_result", None, **fleet_json(self.command, result))
            return
        if self.command in ("up", "down"):
            print_run_summary(self.command, result, self.style)
        elif self.command == "status":
            print_status_summary(result, self.style)
        else:
            print_check_summary(self.command, result, self.style)


def tenant_json_reporter(lock: threading.Lock) -> Any:
    """The single-target ``--json`` events (lock, plan, migration, operation, error) of a
    fleet's worker threads, each with a ``tenant`` field, one line at a time."""
    from ..engine.fleet import current_tenant
    from .output import JsonReporter, echo_json

    class TenantJsonReporter(JsonReporter):
        def emit(self, event: str, **data: Any) -> None:  # type: ignore[override]
            with lock:
                echo_json({"event": event, "tenant": current_tenant(), **data})

    return TenantJsonReporter()


def target_json(command: str, outcome: Any) -> dict[str, Any]:
    """A target's ``target_end`` / result detail."""
    data = outcome.to_json()
    value = outcome.value
    if value is None:
        return data
    if command in ("up", "down"):
        data["migrations"] = value.migration_ids
    elif command == "status":
        status = value.status
        data.update(current=status.current, pending=status.pending, failed=status.failed,
                    interrupted=status.interrupted,
                    problems=[p.to_json() for p in status.problems],
                    locked_by=value.locked_by)
    elif command == "validate":
        data["problems"] = [p.to_json() for p in value]
    else:
        data["drift"] = value.to_json()
    return data


def fleet_json(command: str, result: Any) -> dict[str, Any]:
    """The ``fleet_result`` line: totals, every failed target, and the per-target detail
    for ``status`` / ``validate`` / ``drift``."""
    data: dict[str, Any] = {
        "success": result.success, "exit_code": result.exit_code,
        "targets": len(result.outcomes), "done": len(result.done),
        "failed": [{"tenant": o.tenant, "error": o.error, "exit_code": o.exit_code}
                   for o in result.failed],
        "not_started": [o.tenant for o in result.not_started],
        "stopped": result.stopped, "duration_ms": round(result.duration * 1000, 3)}
    if command in ("up", "down"):
        data["migrated"] = sum(1 for o in result.done if o.value.migrations_applied)
        data["migrations"] = sum(o.value.migrations_applied for o in result.done)
    else:
        data["detail"] = [target_json(command, o) for o in result.outcomes]
    if command == "status":
        data["summary"] = status_summary(result)
    return data


def status_summary(result: Any) -> dict[str, Any]:
    """How many targets at each version, which have failed migrations, which are locked,
    which have pending migrations or could not be read."""
    versions: dict[str, int] = {}
    for outcome in result.done:
        key = outcome.value.status.current or "(none)"
        versions[key] = versions.get(key, 0) + 1
    done = result.done
    return {
        "versions": versions,
        "pending": [o.tenant for o in done if o.value.status.pending],
        "failed_migrations": {o.tenant: o.value.status.failed for o in done
                              if o.value.status.failed or o.value.status.interrupted},
        "locked": {o.tenant: o.value.locked_by for o in done if o.value.locked_by},
        "problems": [o.tenant for o in done if o.value.status.problems],
        "unreachable": {o.tenant: o.error for o in result.failed},
    }


def print_run_summary(command: str, result: Any, style: Any) -> None:
    """The end of a fleet ``up`` / ``down``."""
    from .output import write

    verb = "applied" if command == "up" else "rolled back"
    migrated = [o for o in result.done if o.value.migrations_applied]
    count = sum(o.value.migrations_applied for o in migrated)
    mark = style.good(style.ok) if result.success else style.bad(style.fail)
    unchanged = (f", {len(result.done) - len(migrated)} already up to date"
                 if command == "up" else "")
    write()
    write(f"{mark} {len(result.done)} of {len(result.outcomes)} target(s) done: "
          f"{len(migrated)} changed ({count} migration(s) {verb}){unchanged}")
    print_failures(result, style)
    write(f"Time: {result.duration:.3f}s")


def print_failures(result: Any, style: Any) -> None:
    """Every failed target with its error, what was not started and why."""
    from .output import write

    if result.failed:
        write(style.bad(f"{style.fail} {len(result.failed)} target(s) failed:"), err=True)
        for outcome in result.failed:
            write(f"  {outcome.tenant}: {outcome.error}", err=True)
    if result.not_started:
        stopped = sum(1 for o in result.not_started if o.state == "interrupted")
        midway = f", {stopped} of them stopped midway" if stopped else ""
        write(f"{len(result.not_started)} target(s) not finished{midway} ({result.stopped}); "
              "run the command again to continue: finished targets are no-ops.", err=True)


def print_status_summary(result: Any, style: Any) -> None:
    """``status --tenants``: targets per version, failed, locked, unreachable."""
    from .output import write

    summary = status_summary(result)
    write(f"Fleet: {len(result.outcomes)} target(s)")
    write("Current version:")
    for version, count in sorted(summary["versions"].items(), reverse=True):
        write(f"  {version:<50} {count:>6}")
    up_to_date = len(result.done) - len(summary["pending"])
    write(f"{up_to_date} up to date, {len(summary['pending'])} with pending migrations")
    for label, entries in (("Failed or interrupted migrations (run 'npa migrate repair' "
                            "on them)", summary["failed_migrations"]),
                           ("Locked (a run is migrating them)", summary["locked"])):
        if entries:
            write(f"{label}:")
            for tenant, detail in entries.items():
                shown = ", ".join(detail) if isinstance(detail, list) else detail
                write(f"  {tenant}: {shown}")
    if summary["problems"]:
        write(style.bad(f"Validation problems on {len(summary['problems'])} target(s): "
                        + ", ".join(summary["problems"][:10])
                        + (" ..." if len(summary["problems"]) > 10 else "")
                        + " ('npa migrate validate' says what to do)"))
    print_failures(result, style)


def print_check_summary(command: str, result: Any, style: Any) -> None:
    """``validate`` / ``drift`` over a fleet: the failed targets, then the totals."""
    from .output import write

    what = "valid" if command == "validate" else "without drift"
    print_failures(result, style)
    mark = style.good(style.ok) if result.success else style.bad(style.fail)
    write(f"{mark} {len(result.done)} of {len(result.outcomes)} target(s) {what}")
