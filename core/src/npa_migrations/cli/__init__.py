"""The ``npa`` command line (SPEC §7).

Only click is imported at start-up; the engine, SQLAlchemy and providers are imported
inside the commands, so ``npa --help`` stays fast.
"""

from __future__ import annotations

import functools
import gc
import re
import sys
from typing import Any, Callable

import click

from .. import __version__


def echo_json(payload: dict) -> None:
    """Print one JSON document on stdout, the real one under ``--json`` (see
    :mod:`npa_migrations.cli.output`, imported only when a command prints)."""
    from .output import echo_json as emit

    emit(payload)


def echo(text: str = "", err: bool = False) -> None:
    """Print a line (stdout, or stderr with ``err``); survives a closed stdout pipe."""
    from .output import write

    write(text, err=err)


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_VALIDATION, EXIT_LOCK = 0, 1, 2, 3, 4
#: ``npa migrate status --exit-code``: migrations are pending (and nothing is wrong)
EXIT_PENDING = 5
#: the longest file name most file systems hold (ext4, APFS, NTFS: 255 bytes or units)
MAX_FILE_NAME_BYTES = 255


class Context:
    """Global options, resolved lazily into config and an executor."""

    def __init__(self, database_url, migrations, config_file, verbose):
        self.database_url = database_url
        self.migrations = migrations
        self.config_file = config_file
        self.verbose = verbose
        self._config = None

    @property
    def config(self):
        if self._config is None:
            from ..config import resolve

            self._config = resolve(self.database_url, self.migrations, self.config_file)
        return self._config

    def options(self, **overrides: Any):
        from ..options import MigrationExecutorOptions

        s = self.config.settings
        values = {
            "transaction_mode": s.get("transaction_mode", "per-migration"),
            "lock_timeout_seconds": float(s.get("lock_timeout", 30)),
            "timeout_seconds": s.get("statement_timeout", s.get("timeout")),
            "out_of_order": s.get("out_of_order", "error"),
            "validate_checksums": bool(s.get("validate_checksums", True)),
            "ensure_created": bool(s.get("ensure_created", False)),
            "ddl_lock_timeout_seconds": s.get("ddl_lock_timeout"),
            "ddl_lock_retries": int(s.get("ddl_lock_retries", 3)),
        }
        if s.get("history_table"):
            values["history_table"] = s["history_table"]
        if s.get("lock_table"):
            values["lock_table"] = s["lock_table"]
        if "log_table" in s:
            values["log_table"] = s["log_table"] or None
        from ..builtin.placeholders import Placeholders

        values["placeholders"] = Placeholders.configured(s.get("placeholders")).values
        values.update({k: v for k, v in overrides.items() if v is not None})
        return MigrationExecutorOptions(**values)

    def executor(self, **overrides: Any):
        from ..engine.executor import MigrationExecutor

        return MigrationExecutor(self.config.database(), self.config.migrations,
                                 self.options(**overrides))


def handle_errors(func: Callable) -> Callable:
    """Expected errors become one clear message and their exit code; no traceback unless
    --verbose."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .output import exit_if_pipe_closed, stdout_gone

        ctx = click.get_current_context()
        context = ctx.find_object(Context)
        verbose = context.verbose if context is not None else False
        try:
            result = func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except BrokenPipeError:  # stdout's reader went away: end quietly
            stdout_gone()
        except Exception as exc:
            from ..errors import NpaError, ValidationError

            if verbose:
                import traceback

                traceback.print_exc()
            as_json = kwargs.get("as_json")
            if isinstance(exc, NpaError):
                code = exc.exit_code
                message = str(exc)
            else:
                code = EXIT_FAILED
                message = f"Unexpected error: {type(exc).__name__}: {exc}"
                if not verbose:
                    message += " (run with --verbose for the traceback)"
            if as_json:
                payload = {"event": "error", "error": type(exc).__name__, "message": message,
                           "exit_code": code}
                if isinstance(exc, ValidationError):
                    payload["problems"] = [p.to_json() for p in exc.problems]
                echo_json(payload)
            else:
                echo(f"Error: {message}", err=True)
            sys.exit(code)
        exit_if_pipe_closed()
        return result
    return wrapper


class PluginGroup(click.Group):
    """A click group that also holds the commands plugins contribute (hook
    :func:`~npa_migrations.hookspecs.npa_register_commands`).

    Plugins are loaded only when a command name is neither built in nor remembered, when a
    remembered plugin command is run, or when the group lists its commands for help
    (:attr:`list_plugin_commands`) and they are not remembered
    (:mod:`npa_migrations.cli.plugin_commands`); so ``npa --help``, ``npa migrate --help``
    and every built-in command start without importing pluggy or entry points.
    """

    #: whether ``--help`` of this group lists the plugins' commands
    list_plugin_commands = True
    #: the group's name among the remembered plugin commands
    remembered_as = "migrate"

    def get_command(self, ctx: click.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is None:
            from .plugin_commands import stand_ins

            command = (stand_ins(self.remembered_as) or {}).get(cmd_name)
        if command is None and load_plugin_commands():
            command = super().get_command(ctx, cmd_name)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, command, rest = super().resolve_command(ctx, args)
        from .plugin_commands import RememberedCommand

        if isinstance(command, RememberedCommand):  # listed from memory: run the real one
            load_plugin_commands()
            return super().resolve_command(ctx, args)
        return name, command, rest

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        if not self.list_plugin_commands:
            return names
        from .plugin_commands import stand_ins

        remembered = stand_ins(self.remembered_as)
        if remembered is None:
            load_plugin_commands()
            return super().list_commands(ctx)
        return sorted(set(names) | set(remembered))


class RootGroup(PluginGroup):
    """The ``npa`` group: its help lists only built-in commands (a fast cold start)."""

    list_plugin_commands = False
    remembered_as = "npa"


_loaded_for: list[Any] = []  # the plugin manager whose commands are registered


def load_plugin_commands() -> bool:
    """Ask the plugins for their commands (once per plugin manager); ``True`` when this
    call registered them. A plugin replacing a built-in command is a usage error naming
    the plugin's module. The first commands of the process are remembered for the next
    listings (:func:`npa_migrations.cli.plugin_commands.remember`)."""
    from ..plugins import get_plugin_manager

    manager = get_plugin_manager()
    if _loaded_for and _loaded_for[0] is manager:
        return False
    first = not _loaded_for
    _loaded_for[:] = [manager]
    before = {group: dict(group.commands) for group in (cli, migrate)}
    manager.hook.npa_register_commands(cli=cli, migrate=migrate)
    for group, commands in before.items():
        for name, command in commands.items():
            replaced = group.commands.get(name)
            if replaced is not command:
                group.commands[name] = command
                module = getattr(getattr(replaced, "callback", None), "__module__", "?")
                where = "npa" if group is cli else "npa migrate"
                raise click.UsageError(
                    f"The plugin module '{module}' registers a command '{name}', which would "
                    f"replace the built-in '{where} {name}'. Rename the plugin's command or "
                    "uninstall the plugin.")
    if first:
        from .plugin_commands import remember

        remember(manager, {remembered_as: {name: command
                                           for name, command in group.commands.items()
                                           if name not in before[group]}
                           for remembered_as, group in (("npa", cli), ("migrate", migrate))})
    return True


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-d", "--database-url", metavar="URL", help="Database URL (env NPA_DATABASE_URL; "
              "default sqlite:///npa.db).")
@click.option("-m", "--migrations", metavar="PATH", multiple=True,
              help="Migrations folder or dotted package; repeat for several (env "
                   "NPA_MIGRATIONS; default ./migrations).")
@click.option("--config", "config_file", metavar="FILE",
              help="Config file (default ./npa.toml or [tool.npa] in ./pyproject.toml).")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of errors.")
# the version is the package's own, not read from its metadata: importlib.metadata alone
# costs ≈ 25 ms of the start (a test checks that the two agree)
@click.version_option(__version__, package_name="npa-migrations", prog_name="npa")
@click.pass_context
def cli(ctx, database_url, migrations, config_file, verbose):
    """npa: database migrations that are applied exactly once.

    Exit codes: 0 success, 1 a migration failed, 2 usage or configuration error,
    3 validation failed (also: a plan check found an error), 4 lock not acquired,
    5 migrations pending ('status --exit-code' only), 130 / 143 interrupted by SIGINT /
    SIGTERM.

    Plugins may add commands ('npa providers' lists installed plugins).
    """
    ctx.obj = Context(database_url, migrations, config_file, verbose)


@cli.group(cls=PluginGroup)
def migrate():
    """Apply, roll back and inspect migrations."""


#: ``--statement-timeout S`` (parameter ``statement_timeout``) of the commands that run
#: migrations; option ``timeout_seconds``, config key ``statement_timeout``
statement_timeout_flag = click.option(
    "--statement-timeout", type=click.FloatRange(min=0), metavar="S",
    help="Stop any one statement after S seconds (0: no limit). Default: none, as long "
         "index builds and backfills are normal; config key statement_timeout.")


def json_flag(func: Callable) -> Callable:
    """The ``--json`` option (parameter ``as_json``) of a command: with it, the command
    runs inside :func:`~npa_migrations.cli.output.json_stream`, so stdout carries only
    what :func:`~npa_migrations.cli.output.echo_json` prints. Plugins' commands use it too."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not kwargs.get("as_json"):
            return func(*args, **kwargs)
        from .output import json_stream

        with json_stream():
            return func(*args, **kwargs)

    return click.option("--json", "as_json", is_flag=True,
                        help="Machine-readable output.")(wrapper)


def fleet_command(command: str) -> Callable:
    """The fleet options (``--tenants``, ``--tenant-schemas``, ``--concurrency``,
    ``--shard``, ``--max-failures``, ``--canary``) of ``npa migrate <command>``
    (:mod:`npa_migrations.cli.fleet`); put it between ``json_flag`` and ``pass_obj``."""
    from .fleet import fleet_options

    return fleet_options(command, handle_errors)


def _run_with_reporter(reporter, action: Callable[[], Any]):
    """Run ``action`` with ``reporter`` printing its events.

    What start-up built (imported modules, the provider, the discovered migrations) lives
    until the run ends, so it is moved out of the cyclic collector's way for the run
    (``gc.freeze``): the collections a run of many migrations triggers then scan only what
    the run itself allocates (1,000 migrations: 46 ms of collection -> 22 ms). It is handed back
    afterwards (``gc.unfreeze``), as the CLI may run inside another process (tests,
    ``CliRunner``); a host that froze objects itself is left as it was."""
    from ..plugins import get_plugin_manager

    manager = get_plugin_manager()
    manager.register(reporter, name="npa-cli-reporter")
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        return action()
    finally:
        if freeze:
            gc.unfreeze()
        manager.unregister(reporter)


def _exit_for(result) -> None:
    if not result.success:
        sys.exit(EXIT_FAILED)


@migrate.command()
@click.option("--target", metavar="ID", help="Stop after this migration (full id or timestamp).")
@click.option("--transaction-mode", type=click.Choice(["per-migration", "all-in-one", "none"]),
              help="Transaction boundaries (default per-migration).")
@click.option("--lock-timeout", type=float, metavar="S", help="Seconds to wait for the lock.")
@click.option("--no-lock", is_flag=True, help="Do not take the migration lock.")
@click.option("--out-of-order", type=click.Choice(["error", "apply", "ignore"]),
              help="Pending migrations older than the newest applied one.")
@click.option("--dry-run", is_flag=True, help="Validate and print the plan; change nothing.")
@click.option("--sql", "as_sql", is_flag=True, help="Print the SQL script instead of running it.")
@click.option("--offline", is_flag=True, help="With --sql: render without connecting "
              "(every migration pending).")
@click.option("--from", "start", metavar="ID",
              help="With --sql --offline: the script starts after this migration, the "
                   "newest the database has applied.")
@click.option("--idempotent", is_flag=True,
              help="With --sql --offline: guard each migration with the history table, so "
                   "the script runs on a database at any point and applies what is missing.")
@click.option("--verify/--no-verify", default=None,
              help="Check after each migration that its operations did what they declare "
                   "(default on; config key verify).")
@click.option("--check-drift", is_flag=True, default=None,
              help="Refuse to apply when the schema drifted from the applied migrations.")
@statement_timeout_flag
@json_flag
@fleet_command("up")
@click.pass_obj
@handle_errors
def up(obj: Context, target, transaction_mode, lock_timeout, no_lock, out_of_order, dry_run,
       as_sql, offline, start, idempotent, verify, check_drift, statement_timeout, as_json):
    """Apply pending migrations (then the repeatable ones that are new or changed)."""
    if offline and not as_sql:
        raise click.UsageError("--offline needs --sql.")
    if (start or idempotent) and not (as_sql and offline):
        raise click.UsageError("--from and --idempotent write offline scripts: use them with "
                               "--sql --offline.")
    if verify is None:
        verify = bool(obj.config.settings.get("verify", True))
    if not check_drift:
        check_drift = bool(obj.config.settings.get("check_drift", False))
    executor = obj.executor(transaction_mode=transaction_mode, lock_timeout_seconds=lock_timeout,
                            acquire_lock=False if no_lock else None, out_of_order=out_of_order,
                            verify=verify, check_drift=check_drift,
                            timeout_seconds=statement_timeout)
    if as_sql:
        _print_script(executor.script(target, offline=offline, direction="up", start=start,
                                      idempotent=idempotent))
        return
    if dry_run:
        _dry_run(obj, executor, executor.plan("up", target), as_json)
        return
    result = _apply(executor, lambda: executor.execute(target), "up", as_json)
    if result.success and not result.migration_ids and not result.migrations_ignored:
        _record_up_to_date(obj, executor, as_json)


def _record_up_to_date(obj: Context, executor, as_json: bool) -> None:
    """Record the answer of an ``up`` that found nothing to do
    (:mod:`npa_migrations.cli.records`): its output for a run of no time, whose time
    line the recorded answer fills in."""
    from ..results import MigrationResult
    from .output import TIME_LINE, HumanReporter, JsonReporter
    from .records import captured, record_answer

    idle = MigrationResult()
    if as_json:
        record_answer(obj.config, executor, "up", "", {"json": JsonReporter.result_payload(idle)})
        return
    with captured(echo=False) as capture:
        HumanReporter("up").result(idle)
    *lines, last = capture.getvalue().splitlines(keepends=True)
    if last.rstrip("\n") == TIME_LINE.format(seconds=0):
        record_answer(obj.config, executor, "up", "".join(lines), {"human": TIME_LINE})


def _print_script(text: str) -> None:
    """Print a ``--sql`` script; say on stderr when it leaves out Python steps."""
    from ..provider.data import PYTHON_STEP_MARK

    echo(text)
    left_out = sum(PYTHON_STEP_MARK in line for line in text.splitlines())
    if left_out:
        echo(f"Note: the script leaves out {left_out} Python step(s) (b.run_python), which "
             f"only 'npa migrate' can run; each place is marked '{PYTHON_STEP_MARK}'.",
             err=True)


def _apply(executor, action, direction: str, as_json: bool):
    """Run ``action`` with the reporter listening; SIGINT / SIGTERM stop it at a safe
    point (the run records where, and exits 130 / 143). Returns the result of a run that
    succeeded (a failed one exits)."""
    from ..engine.interrupt import stop_on_signals
    from ..errors import RunInterrupted
    from .output import HumanReporter, JsonReporter

    reporter = JsonReporter() if as_json else HumanReporter(direction)
    try:
        with stop_on_signals(executor.interruption):
            result = _run_with_reporter(reporter, action)
    except RunInterrupted as exc:
        reporter.interrupted(exc)
        sys.exit(exc.exit_code)
    reporter.result(result)
    _exit_for(result)
    return result


def _dry_run(obj: Context, executor, plan, as_json: bool) -> None:
    """Print the plan -- each migration's steps as the runner would take them, without
    SQL -- and what the plan checks of plugins (``npa_check_plan``) found; exit 3 when a
    finding has severity ``error``."""
    from ..engine.checks import check_plan
    from ..engine.runner import Runner
    from ..engine.script import DescribeTarget

    described = DescribeTarget()
    Runner(executor.provider, described, executor.options).run(plan)
    findings = check_plan(executor, plan.scripts, plan.direction, obj.config.settings)
    _print_plan(executor, described.migrations, plan.direction, as_json, findings)
    if any(f.is_error for f in findings):
        sys.exit(EXIT_VALIDATION)


def print_findings(findings, err: bool = False) -> None:
    """Print plan findings (:class:`~npa_migrations.engine.checks.PlanFinding`) grouped by
    migration, as ``--dry-run`` and plugin commands such as ``npa migrate lint`` do."""
    from .output import Style

    style = Style()
    marks = {"error": style.bad(style.fail), "warning": "!", "info": "i"}
    current = None
    for finding in findings:
        if finding.migration_id != current:
            current = finding.migration_id
            where = f"  ({finding.source})" if finding.source else ""
            echo(f"{finding.migration_id}{where}", err=err)
        for n, line in enumerate(finding.lines(marks)):
            echo(("  " if n == 0 else "    ") + line, err=err)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    echo(f"{len(findings)} finding(s): {summary}" if findings else "No findings.", err=err)


def _print_plan(executor, described, direction: str, as_json: bool, findings=()) -> None:
    if as_json:
        echo_json({
            "direction": direction, "database": executor.provider.display_url(),
            "migrations": [{"id": d.migration.id, "source": d.migration.script.source,
                            "continues_at": (str(d.migration.start)
                                             if d.migration.continues else None),
                            "steps": d.steps} for d in described],
            "findings": [f.to_json() for f in findings]})
        return
    _print_steps(executor, described, direction)
    if findings:
        echo()
        echo("Plan checks:")
        print_findings(findings)


def _print_steps(executor, described, direction: str) -> None:
    verb = "apply" if direction == "up" else "roll back"
    if not described:
        echo(f"Nothing to {verb}. (dry run)")
        return
    echo(f"Would {verb} {len(described)} migration(s) on {executor.provider.display_url()} "
         "(dry run):")
    for n, item in enumerate(described, 1):
        migration = item.migration
        continues = (f"  (interrupted earlier: continues at {migration.start})"
                     if migration.continues else "")
        echo(f"  {n}. {migration.id}{continues}")
        for number, step in enumerate(item.steps):
            if number >= migration.start.step:
                echo(f"       - {step}")


@migrate.command()
@click.option("--target", metavar="ID", help="Roll back everything after this migration.")
@click.option("--steps", type=click.IntRange(min=1), help="Roll back this many migrations.")
@click.option("--transaction-mode", type=click.Choice(["per-migration", "all-in-one", "none"]))
@click.option("--lock-timeout", type=float, metavar="S")
@click.option("--no-lock", is_flag=True)
@click.option("--dry-run", is_flag=True, help="Print what would be rolled back; change nothing.")
@click.option("--sql", "as_sql", is_flag=True, help="Print the SQL script instead.")
@click.option("--offline", is_flag=True, help="With --sql: render without connecting "
              "(every migration applied).")
@click.option("--include-repeatables", is_flag=True,
              help="Also roll back the applied repeatable migrations (first, newest first); "
                   "without it down leaves them alone.")
@statement_timeout_flag
@json_flag
@fleet_command("down")
@click.pass_obj
@handle_errors
def down(obj: Context, target, steps, transaction_mode, lock_timeout, no_lock, dry_run, as_sql,
         offline, include_repeatables, statement_timeout, as_json):
    """Roll back the last migration, N steps, or down to a target (which stays applied);
    repeatable migrations only with --include-repeatables."""
    if target and steps:
        raise click.UsageError("Give either --target or --steps, not both.")
    if offline and not as_sql:
        raise click.UsageError("--offline needs --sql.")
    executor = obj.executor(transaction_mode=transaction_mode, lock_timeout_seconds=lock_timeout,
                            acquire_lock=False if no_lock else None,
                            timeout_seconds=statement_timeout)
    repeatables = {"include_repeatables": include_repeatables}
    if as_sql:
        _print_script(executor.script(target, offline=offline, direction="down", steps=steps,
                                      **repeatables))
        return
    if dry_run:
        _dry_run(obj, executor, executor.plan("down", target, steps, **repeatables), as_json)
        return
    if target:
        _apply(executor, lambda: executor.rollback_to(target, **repeatables), "down", as_json)
    else:
        _apply(executor, lambda: executor.rollback(steps or 1, **repeatables), "down",
               as_json)


@migrate.command()
@click.option("--exit-code", is_flag=True,
              help="Exit 5 when migrations are pending, 3 when validation finds problems, "
                   "0 when up to date (a deploy gate).")
@json_flag
@fleet_command("status")
@click.pass_obj
@handle_errors
def status(obj: Context, exit_code, as_json):
    """Show applied and pending migrations (repeatable ones too)."""
    from .output import json_line
    from .records import captured, record_answer

    executor = obj.executor()
    state = executor.status()
    if as_json:
        payload = state.to_json()
        output = json_line(payload) + "\n"
        echo_json(payload)
    else:
        with captured() as capture:
            _print_status(executor, state)
        output = capture.getvalue()
    if state.up_to_date and not state.problems:
        record_answer(obj.config, executor, "status", output)
    if exit_code and state.problems:
        sys.exit(EXIT_VALIDATION)
    if exit_code and not state.up_to_date:
        sys.exit(EXIT_PENDING)


def _print_status(executor, state) -> None:
    """The seed's layout (SPEC §7): database name, ``Current Version``, ``Applied
    Migrations:`` with their applied time, ``Pending Migrations:``; npa's extras (notes on
    a row, the counts, the URL) after it."""
    from .output import Style

    style = Style()
    provider = executor.provider
    echo(f"Database: {provider.database_name()}")
    echo(f"Current Version: {state.current or '(none)'}")
    echo()
    flagged = {(p.code, p.migration_id) for p in state.problems}
    if state.applied:
        echo("Applied Migrations:")
        for row in state.applied:
            mark = style.good(style.ok) if row.success else style.bad(style.fail)
            when = f" ({row.applied_at:%Y-%m-%d %H:%M:%S})" if row.applied_at else ""
            note = {"applied": "", "failed": "  FAILED - run 'npa migrate repair'",
                    "running": "  INTERRUPTED - the next run continues it",
                    "stopped": "  INTERRUPTED - the next run continues it"}.get(row.status, "")
            if row.id in state.missing:
                note += "  (file missing)"
            if ("checksum", row.id) in flagged:
                note += "  (edited after it was applied)"
            if row.id in state.repeatables:
                note += "  (repeatable)"
            echo(f"  {mark} {row.id}{style.dim(when)}{note}")
        echo()
    applied = {row.id for row in state.applied}
    if state.pending:
        echo("Pending Migrations:")
        for migration_id in state.pending:
            note = ("  (older than the newest applied)"
                    if ("out_of_order", migration_id) in flagged else "")
            if migration_id in state.repeatables:
                note += ("  (repeatable, changed: runs again)" if migration_id in applied
                         else "  (repeatable)")
            echo(f"  {style.box} {migration_id}{note}")
        echo()
    if not state.applied and not state.pending:
        echo("No migrations found.")
        echo()
    echo(f"{len([a for a in state.applied if a.success])} applied, {len(state.pending)} pending"
         + (f", {len(state.failed)} failed" if state.failed else "")
         + (f", {len(state.interrupted)} interrupted" if state.interrupted else ""))
    echo(f"URL: {provider.display_url()} (applied times in UTC)")
    if state.problems:
        count = len(state.problems)
        echo(style.bad(f"{count} validation problem{'s' if count != 1 else ''}: 'npa migrate "
                       "up' will refuse to run; 'npa migrate validate' says what to do."))


@migrate.command()
@json_flag
@fleet_command("validate")
@click.pass_obj
@handle_errors
def validate(obj: Context, as_json):
    """Check the history against the migration files; change nothing. Lists the
    repeatable migrations the next 'up' runs (new or changed: no problem)."""
    state = obj.executor().status()
    problems = state.problems
    due = [i for i in state.pending if i in state.repeatables]
    if as_json:
        echo_json({"valid": not problems, "problems": [p.to_json() for p in problems],
                   "repeatables_due": due})
    elif problems:
        for problem in problems:
            echo(f"✗ {problem}" if _unicode() else f"FAIL {problem}", err=True)
    else:
        echo("Validation passed: history and migration files agree.")
        if due:
            echo("Repeatable migration(s) the next 'npa migrate up' runs (new or changed): "
                 + ", ".join(due))
    if problems:
        sys.exit(EXIT_VALIDATION)


def _unicode() -> bool:
    from .output import Style

    return Style().ok == "✓"


def migration_names(name: str) -> tuple[str, str]:
    """The class name (CamelCase) and file name part (snake_case) of a new migration's
    NAME; a usage error unless it is letters, digits and underscores."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise click.BadParameter("use letters, digits and underscores, starting with a letter "
                                 "(e.g. AddUserRoles).", param_hint="NAME")
    class_name = "".join(p[:1].upper() + p[1:] for p in name.split("_") if p)
    return class_name, re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", class_name).lower()


@migrate.command()
@click.argument("name")
@click.option("--sql", "as_sql", is_flag=True, help="Create a .sql migration instead of Python.")
@click.option("--autogenerate", is_flag=True,
              help="Write the operations that bring the schema the migrations build to the "
                   "models (see --model).")
@click.option("--model", metavar="MODULE:ATTR",
              help="With --autogenerate: the SQLAlchemy MetaData or declarative Base, e.g. "
                   "myapp.models:Base (config key model).")
@click.option("--database", "from_database", is_flag=True,
              help="With --autogenerate: compare the models with the live database instead.")
@click.pass_obj
@handle_errors
def new(obj: Context, name, as_sql, autogenerate, model, from_database):
    """Create a new migration file named <UTC timestamp>_<name>."""
    import datetime as dt

    from .templates import PYTHON, SQL

    class_name, snake = migration_names(name)
    if (model or from_database) and not autogenerate or autogenerate and as_sql:
        raise click.UsageError("--model and --database go with --autogenerate, which writes "
                               "a Python migration (not --sql).")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    file_name = f"{stamp}_{snake}.{'sql' if as_sql else 'py'}"
    if len(file_name.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        room = MAX_FILE_NAME_BYTES - (len(file_name.encode("utf-8")) - len(snake))
        raise click.BadParameter(
            f"'{name[:30]}...' is {len(name)} characters long: the file name "
            f"({stamp}_<name in snake_case>.{'sql' if as_sql else 'py'}) would be "
            f"{len(file_name.encode('utf-8'))} bytes, and file systems allow at most "
            f"{MAX_FILE_NAME_BYTES}. Use a shorter NAME (at most {room} characters in "
            "snake_case).", param_hint="NAME")
    from pathlib import Path

    folder = Path(obj.config.migrations[0])
    if folder.exists() and not folder.is_dir():
        raise click.UsageError(f"'{folder}' is not a folder.")
    path = folder / file_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.UsageError(f"Cannot create {folder}: {exc.strerror or exc}.") from exc
    generated = None
    if autogenerate:  # the first migration of a project: compared with an empty folder
        from .autogen import autogenerated

        generated = autogenerated(obj, class_name, model, from_database)
        if generated is None:
            return
    text = generated[0] if generated else SQL if as_sql else PYTHON.format(name=class_name)
    try:
        if path.exists():
            raise click.UsageError(f"{path} already exists; wait a second and try again.")
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"Cannot create {path}: {exc.strerror or exc}.") from exc
    echo(f"Created {path}")
    for line in generated[1] if generated else ():
        echo(line)


@migrate.command()
@click.option("--model", metavar="MODULE:ATTR",
              help="The SQLAlchemy MetaData or declarative Base, e.g. myapp.models:Base "
                   "(config key model).")
@json_flag
@click.pass_obj
@handle_errors
def check(obj: Context, model, as_json):
    """Compare the models with what the migrations build, without a database; exit 3 when
    they differ (a CI gate, a pre-commit hook)."""
    from .autogen import check as run_check

    run_check(obj, model, as_json)


@migrate.command()
@click.option("--resume", "action", flag_value="resume",
              help="Run the rest of a failed or interrupted migration, in the direction it "
                   "was going.")
@click.option("--undo-partial", "action", flag_value="undo_partial",
              help="Undo the operations of the failed migration that took effect.")
@click.option("--mark-applied", "action", flag_value="mark_applied",
              help="Record the failed migration as applied (you finished it by hand).")
@click.option("--mark-rolled-back", "action", flag_value="mark_rolled_back",
              help="Forget the failed migration (you undid it by hand).")
@click.option("--accept-checksum", metavar="ID",
              help="Store the current checksum of an applied migration whose file changed.")
@click.option("--skip-in-doubt", is_flag=True,
              help="With --resume: the statement under way when a run died took effect; "
                   "continue after it.")
@click.option("--lock-timeout", type=float, metavar="S")
@statement_timeout_flag
@click.pass_obj
@handle_errors
def repair(obj: Context, action, accept_checksum, skip_in_doubt, lock_timeout,
           statement_timeout):
    """Settle failed or interrupted migrations and accept intended checksum changes."""
    if skip_in_doubt and action != "resume":
        raise click.UsageError("--skip-in-doubt goes with --resume.")
    executor = obj.executor(lock_timeout_seconds=lock_timeout, timeout_seconds=statement_timeout)
    if action is None and accept_checksum is None:
        _list_unsettled(executor)
        return
    report = executor.repair(action, accept_checksum, skip_in_doubt=skip_in_doubt)
    if not report.done and not report.failed:
        echo("Nothing to repair: no failed migrations.")
    for line in report.done:
        echo(line)
    for line in report.failed:
        echo(f"Error: {line}", err=True)
    if not report.success:
        sys.exit(EXIT_FAILED)


def _list_unsettled(executor) -> None:
    """Print every failed or interrupted migration with the operations that took effect and
    those that did not run, then the choices (exit 2: a choice is needed)."""
    from ..engine.planner import plan_steps
    from ..engine.repair import unsettled_entries

    with executor.session(read_only=True) as session:
        rows = unsettled_entries(session.read_history())
    if not rows:
        echo("Nothing to repair: no failed migrations.")
        return
    echo("Failed or interrupted migrations:")
    scripts = {s.id: s for s in executor.discover()}
    for row in rows:
        script = scripts.get(row.migration_id)
        direction = row.direction or "up"
        operations = None
        if script is not None and direction != "undo":
            operations = (script.up_operations() if direction == "up"
                          else script.down_operations()) or []
        steps = plan_steps(executor.provider, operations) if operations is not None else []
        position = row.position
        done = [op for step in steps[:position.step] for op in step.operations]
        of = f" of {sum(len(step.operations) for step in steps)}" if operations is not None else ""
        echo(f"  {row.migration_id}: {len(done) if operations is not None else position.step}"
             f"{of} operation(s) took effect")
        if row.status != "failed" or direction != "up":
            going = {"up": "being applied", "down": "being rolled back",
                     "undo": "being undone"}.get(direction, direction)
            doubt = ("; the statement under way may or may not have run"
                     if row.status == "running" else "")
            echo(f"    {'interrupted' if row.status != 'failed' else 'failed'} while {going}"
                 f"{doubt}")
        if row.error:
            echo(f"    error: {row.error.splitlines()[0]}")
        if script is None:
            echo("    (its file was not found: only --mark-applied or --mark-rolled-back "
                 "can settle it)")
            continue
        partial = steps[position.step:position.step + 1] if position.statement else []
        for label, chosen in (("took effect", done),
                              ("in part", [op for step in partial for op in step.operations]),
                              ("not run", [op for step in steps[position.step + len(partial):]
                                           for op in step.operations])):
            if chosen:
                echo(f"    {label}: " + "; ".join(op.describe() for op in chosen))
    echo("\nChoose one: npa migrate repair --resume [--skip-in-doubt] | --undo-partial | "
         "--mark-applied | --mark-rolled-back")
    sys.exit(EXIT_USAGE)


@migrate.command()
@click.pass_obj
@handle_errors
def unlock(obj: Context):
    """Force-release the migration lock table (after a crashed run)."""
    executor = obj.executor()
    holder = executor.unlock()
    if holder:
        echo(f"Released the migration lock held by {holder}.")
    else:
        echo("No migration lock was held.")


@migrate.command()
@click.option("--model", metavar="MODULE:ATTR",
              help="Compare with an application's SQLAlchemy MetaData (or declarative Base) "
                   "instead of the applied migrations, e.g. myapp.models:Base.")
@json_flag
@fleet_command("drift")
@click.pass_obj
@handle_errors
def drift(obj: Context, model, as_json):
    """Compare the live schema with the applied migrations; exit 3 on drift."""
    executor = obj.executor()
    report = executor.drift(model)
    if as_json:
        echo_json(report.to_json())
    else:
        for line in report.lines():
            echo(line)
    if report.has_drift:
        sys.exit(EXIT_VALIDATION)


@migrate.command()
@click.option("--target", metavar="ID", required=True,
              help="The newest migration the existing database already contains.")
@click.option("--lock-timeout", type=float, metavar="S")
@json_flag
@click.pass_obj
@handle_errors
def baseline(obj: Context, target, lock_timeout, as_json):
    """Mark every migration up to --target as applied, without running it (adopt an
    existing database)."""
    executor = obj.executor(lock_timeout_seconds=lock_timeout)
    report = executor.baseline(target)
    if as_json:
        echo_json(report.to_json())
        return
    if report.recorded:
        echo(f"Baselined at {report.target}: recorded {len(report.recorded)} migration(s) as "
             "applied without running them:")
        for migration_id in report.recorded:
            echo(f"  {migration_id}")
        echo(f"To undo it, forget them newest first: 'npa migrate mark {report.recorded[-1]} "
             "--pending', and so on up the list (nothing runs; 'npa migrate history' keeps "
             "the record).")
    else:
        echo(f"Nothing to baseline: every migration up to {report.target} is already "
             "recorded.")


@migrate.command()
@click.argument("migration_id", metavar="ID")
@click.option("--applied", "state", flag_value="applied",
              help="Record it as applied without running it (you applied it by hand).")
@click.option("--pending", "state", flag_value="pending",
              help="Forget its history row without running its down (the next up runs it).")
@click.option("--force", is_flag=True,
              help="Mark it even though the history would then be inconsistent.")
@click.option("--lock-timeout", type=float, metavar="S")
@json_flag
@click.pass_obj
@handle_errors
def mark(obj: Context, migration_id, state, force, lock_timeout, as_json):
    """Record one migration as applied, or forget it (pending), without running it."""
    if state is None:
        raise click.UsageError("Give --applied or --pending.")
    executor = obj.executor(lock_timeout_seconds=lock_timeout)
    report = executor.mark(migration_id, applied=state == "applied", force=force)
    if as_json:
        echo_json(report.to_json())
        return
    if not report.changed:
        echo(f"Nothing to do: {report.migration_id} is already recorded as applied.")
        return
    echo(f"Marked {report.migration_id} {state} without running it"
         + (" (--force)" if report.forced else "") + ".")
    for problem in report.forced:
        echo(f"  warning: {problem}", err=True)


@migrate.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@click.argument("name")
@click.pass_obj
@handle_errors
def squash(obj: Context, start, end, name):
    """Write one migration NAME that replaces the migrations FROM to TO (builder
    operations only); databases that applied them all count it as applied."""
    from .squash import write_squash

    for line in write_squash(obj, start, end, name):
        echo(line)


@migrate.command()
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Only the newest N events.")
@json_flag
@click.pass_obj
@handle_errors
def history(obj: Context, limit, as_json):
    """Show the event log: every apply, revert, failure, repair, baseline and unlock."""
    executor = obj.executor()
    entries = executor.events(limit)
    if as_json:
        echo_json({"database": executor.provider.display_url(),
                               "events": [e.to_json() for e in entries]})
        return
    if not entries:
        echo("The event log is empty.")
        return
    for e in entries:
        when = e.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC") if e.occurred_at else "?"
        took = f"{e.duration_ms} ms" if e.duration_ms is not None else ""
        line = f"{when}  {e.event:<8}  {e.migration_id or '-':<40}  {took:>9}  " \
               f"{e.os_user}@{e.host}"
        echo(line.rstrip())
        for extra in (e.detail if e.event != "failure" else None, e.error, e.statement and
                      f"statement: {e.statement.strip().splitlines()[0]}"):
            if extra:
                echo(f"      {extra.strip().splitlines()[0]}")


@cli.command()
@json_flag
@handle_errors
def providers(as_json):
    """List installed providers and plugins, with versions."""
    from ..provider.registry import installed_plugins

    rows = installed_plugins()
    if as_json:
        echo_json({"npa-migrations": __version__, "plugins": rows})
        return
    echo(f"npa-migrations {__version__}")
    if not rows:
        echo("No providers installed. Install one: pip install 'npa-migrations[sqlite]'")
        return
    for row in rows:
        backends = f"  databases: {', '.join(row['backends'])}" if row["backends"] else ""
        echo(f"  {row['name']:<12} {row['distribution']} {row['version']}{backends}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="npa")
