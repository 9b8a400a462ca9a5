"""CLI output: the human layout of SPEC §7 and the JSON-lines event stream, and where
output goes.

Both layouts are event listeners registered in the plugin manager for the length of a
command, so the CLI sees exactly the events any plugin sees.

Two rules about the streams: under ``--json`` stdout carries the JSON only -- whatever
else is printed while the command runs (a migration's ``print()``) goes to stderr
(:func:`json_stream`, :func:`echo_json`); and when the reader of stdout goes away
(``npa migrate status | head``), what is left to print is dropped, the command finishes
what it started (a closed pipe never interrupts a migration), and npa exits with 141,
as the shell reports a filter killed by SIGPIPE, unless the command failed
(:func:`write`, :func:`exit_if_pipe_closed`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any, Iterator

import click

from ..hookspecs import hookimpl

#: exit status after stdout's reader went away (128 + SIGPIPE)
EXIT_PIPE_CLOSED = 141
#: seconds between two progress lines of a long data step in the human output
PROGRESS_INTERVAL = 1.0
#: operation lines printed per migration; the rest are counted (a 100,000-statement
#: ``.sql`` file shows progress and a total, not 100,000 lines)
OPERATION_LINES = 20
#: runs of more migrations than this print one line per migration, no operation lines,
#: and only the first :data:`PLAN_LINES` of the plan
MANY_MIGRATIONS = 50
PLAN_LINES = 10
#: the last line of a run's human output
TIME_LINE = "Time: {seconds:.3f}s"

#: the real stdout while a ``--json`` command runs (see :func:`json_stream`)
_json_stdout: list[Any] = []
#: whether stdout's reader went away
_pipe_closed: list[bool] = []


def write(text: str = "", err: bool = False, file: Any = None) -> None:
    """``click.echo`` that survives a closed stdout: from the first broken pipe on,
    stdout output is dropped (see the module docstring)."""
    if _pipe_closed and not err:
        return
    try:
        click.echo(text, err=err, file=file)
    except BrokenPipeError:
        if err:
            raise
        _drop_stdout()


def _drop_stdout() -> None:
    _pipe_closed.append(True)
    try:  # the interpreter's last flush of stdout must not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test runner)
        sys.stdout = open(os.devnull, "w")


def exit_if_pipe_closed() -> None:
    """End with :data:`EXIT_PIPE_CLOSED` when stdout's reader went away."""
    if _pipe_closed:
        sys.exit(EXIT_PIPE_CLOSED)


def stdout_gone() -> None:
    """A write to stdout failed because its reader went away: drop the rest, and end
    with :data:`EXIT_PIPE_CLOSED`."""
    if not _pipe_closed:
        _drop_stdout()
    exit_if_pipe_closed()


@contextlib.contextmanager
def json_stream() -> Iterator[None]:
    """Run a ``--json`` command: stdout carries its JSON only (:func:`echo_json`);
    anything else printed meanwhile, such as a migration's ``print()``, goes to stderr."""
    _json_stdout.append(sys.stdout)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _json_stdout.pop()


def json_line(payload: dict) -> str:
    """One JSON document as :func:`echo_json` prints it (without the newline)."""
    return json.dumps(payload, default=str)


def echo_json(payload: dict) -> None:
    """Print one JSON document (one line) on the command's stdout, also inside
    :func:`json_stream`."""
    write(json_line(payload), file=_json_stdout[-1] if _json_stdout else None)


class Style:
    """✓/✗ where the terminal can print them, colour only on a terminal without NO_COLOR."""

    def __init__(self, stream=None):
        stream = stream or sys.stdout
        self.color = (hasattr(stream, "isatty") and stream.isatty()
                      and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb")
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "✓✗□".encode(encoding)
            self.ok, self.fail, self.box = "✓", "✗", "□"
        except (UnicodeEncodeError, LookupError):
            self.ok, self.fail, self.box = "OK", "FAIL", "[ ]"

    def good(self, text: str) -> str:
        return click.style(text, fg="green") if self.color else text

    def bad(self, text: str) -> str:
        return click.style(text, fg="red") if self.color else text

    def dim(self, text: str) -> str:
        return click.style(text, dim=True) if self.color else text


echo = write  # the reporters print through the pipe-safe writer


class HumanReporter:
    """Prints the SPEC §7 layout for ``up``/``down`` as events arrive.

    Printing is not free (a line costs a terminal far more than the engine's work on a
    small statement), so large runs are summarised: a migration shows its first
    :data:`OPERATION_LINES` operations, then a progress line a second at most and the
    count of the rest; a run of more than :data:`MANY_MIGRATIONS` migrations shows one
    line per migration (and its failure, in full)."""

    def __init__(self, direction: str):
        self.style = Style()
        self.direction = direction
        self.current: Any = None
        self.last_progress = float("-inf")
        #: rows the data operation under way has changed so far
        self.rows_done: int | None = None
        #: operations of the migration under way, printed or not
        self.operations = 0
        #: one line per migration (a run of more than MANY_MIGRATIONS)
        self.compact = False
        #: ``index`` and ``total`` of the migration under way
        self.position = (0, 0)

    @hookimpl
    def npa_lock_requested(self, description: str, timeout: float) -> None:
        echo("Acquiring migration lock...")

    @hookimpl
    def npa_lock_acquired(self, description: str) -> None:
        echo(f"{self.style.good(self.style.ok)} Lock acquired ({description})")
        echo()

    @hookimpl
    def npa_run_planned(self, migrations, direction: str) -> None:
        if not migrations:
            return
        echo("Pending migrations:" if direction == "up" else "Migrations to roll back:")
        self.compact = len(migrations) > MANY_MIGRATIONS
        shown = migrations[:PLAN_LINES] if self.compact else migrations
        for n, migration in enumerate(shown, 1):
            echo(f"  {n}. {migration.id}")
        if len(shown) < len(migrations):
            echo(f"  ... and {len(migrations) - len(shown):,} more")
        echo()

    @hookimpl
    def npa_migration_start(self, migration, index: int, total: int, direction: str) -> None:
        verb = "Executing" if direction == "up" else "Rolling back"
        echo(f"{verb} migration {index}/{total}: {migration.name}")
        self.operations = 0
        self.position = (index, total)
        self.last_progress = time.monotonic()

    @hookimpl
    def npa_operation_done(self, migration, operation, duration: float) -> None:
        rows, self.rows_done = self.rows_done, None
        self.operations += 1
        if self.compact:
            return
        if self.operations > OPERATION_LINES:
            now = time.monotonic()
            if now - self.last_progress >= PROGRESS_INTERVAL:
                self.last_progress = now
                echo(f"    ... {self.operations:,} operations done")
            return
        total = f" ({rows:,} row(s))" if rows is not None else ""
        echo(f"  {self.style.good(self.style.ok)} {operation.describe()}{total}")

    @hookimpl
    def npa_operation_skipped(self, migration, operation, reason: str) -> None:
        echo(f"  - {operation.describe()} (skipped: {reason})")

    @hookimpl
    def npa_operation_progress(self, migration, operation, rows_done: int) -> None:
        self.rows_done = rows_done
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_INTERVAL:  # a line a second at most
            self.last_progress = now
            echo(f"    ... {rows_done:,} row(s) done")

    @hookimpl
    def npa_migration_end(self, migration, direction: str, duration: float, error) -> None:
        hidden = self.operations - OPERATION_LINES
        if not self.compact and hidden > 0:
            echo(f"  {self.style.good(self.style.ok)} {hidden:,} more operations "
                 f"({self.operations:,} in all)")
        if error is not None:
            echo(f"  {self.style.bad(self.style.fail)} {migration.name} failed")
        index, total = self.position
        if not self.compact or error is not None or index == total:
            echo()

    @hookimpl
    def npa_migration_retry(self, migration, attempt: int, retries: int, delay: float,
                            error) -> None:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "lock timeout"
        echo(f"  ! Lock timeout ({reason}); retry {attempt}/{retries} in {delay:.2f}s")

    @hookimpl
    def npa_migration_resumed(self, migration, direction: str, position: str, note) -> None:
        echo(f"↻ {migration.id} was interrupted earlier; it continues at {position}."
             if self.style.ok == "✓" else
             f"{migration.id} was interrupted earlier; it continues at {position}.")
        if note:
            echo(f"  {note}")

    def interrupted(self, error) -> None:
        """The run stopped at a safe point (a signal): say where."""
        echo()
        echo(self.style.bad(f"{self.style.fail} {error}"), err=True)

    def result(self, result) -> None:
        seconds = result.duration.total_seconds()
        count = result.migrations_applied
        noun = "migration" if count == 1 else "migrations"
        verb = "applied" if self.direction == "up" else "rolled back"
        if result.success:
            if count == 0:
                echo(f"{self.style.good(self.style.ok)} Database is up to date; nothing to "
                     f"{'apply' if self.direction == 'up' else 'roll back'}")
            else:
                echo(f"{self.style.good(self.style.ok)} {count} {noun} {verb} successfully")
        else:
            for error in result.errors:
                echo(self.style.bad(f"{self.style.fail} {error.message}"), err=True)
            echo(f"{self.style.bad(self.style.fail)} {count} {noun} {verb} before the failure")
        ignored = result.migrations_ignored
        if ignored:
            echo(f"{len(ignored)} older pending migration(s) not applied (--out-of-order "
                 f"ignore): {', '.join(ignored)}")
        echo(TIME_LINE.format(seconds=seconds))


class JsonReporter:
    """One JSON object per line per event, then a ``result`` line."""

    @staticmethod
    def emit(event: str, **data: Any) -> None:
        echo_json({"event": event, **data})

    @hookimpl
    def npa_lock_acquired(self, description: str) -> None:
        self.emit("lock_acquired", lock=description)

    @hookimpl
    def npa_run_planned(self, migrations, direction: str) -> None:
        self.emit("plan", direction=direction, migrations=[m.id for m in migrations])

    @hookimpl
    def npa_migration_start(self, migration, index: int, total: int, direction: str) -> None:
        self.emit("migration_start", id=migration.id, index=index, total=total,
                  direction=direction)

    @hookimpl
    def npa_operation_done(self, migration, operation, duration: float) -> None:
        self.emit("operation", id=migration.id, operation=operation.kind,
                  description=operation.describe(), duration_ms=round(duration * 1000, 3))

    @hookimpl
    def npa_operation_skipped(self, migration, operation, reason: str) -> None:
        self.emit("operation_skipped", id=migration.id, operation=operation.kind,
                  description=operation.describe(), reason=reason)

    @hookimpl
    def npa_operation_progress(self, migration, operation, rows_done: int) -> None:
        self.emit("progress", id=migration.id, operation=operation.kind,
                  description=operation.describe(), rows_done=rows_done)

    @hookimpl
    def npa_migration_end(self, migration, direction: str, duration: float, error) -> None:
        if error is not None:
            self.emit("error", id=migration.id, message=str(error),
                      statement=getattr(error, "statement", None))
        self.emit("migration_end", id=migration.id, direction=direction,
                  duration_ms=round(duration * 1000, 3), success=error is None)

    @hookimpl
    def npa_migration_retry(self, migration, attempt: int, retries: int, delay: float,
                            error) -> None:
        self.emit("retry", id=migration.id, attempt=attempt, retries=retries,
                  delay_ms=round(delay * 1000, 3), reason=str(error))

    @hookimpl
    def npa_migration_resumed(self, migration, direction: str, position: str, note) -> None:
        self.emit("resume", id=migration.id, direction=direction, position=position,
                  note=note)

    def interrupted(self, error) -> None:
        """The run stopped at a safe point (a signal): the last line says so."""
        self.emit("interrupted", message=str(error), exit_code=error.exit_code)

    def result(self, result) -> None:
        echo_json(self.result_payload(result))

    @staticmethod
    def result_payload(result) -> dict[str, Any]:
        """The ``result`` line of a run."""
        return {"event": "result", "success": result.success, "direction": result.direction,
                "migrations": result.migration_ids, "ignored": result.migrations_ignored,
                "duration_ms": round(result.duration.total_seconds() * 1000, 3),
                "errors": [{"id": e.migration_id, "message": e.message}
                           for e in result.errors]}
