"""CLI output: the human layout of SPEC §7 and the JSON-lines event stream.

Both are event listeners registered in the plugin manager for the length of a command,
so the CLI sees exactly the events any plugin sees.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ..hookspecs import hookimpl


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


from . import echo


class HumanReporter:
    """Prints the SPEC §7 layout for ``up``/``down`` as events arrive."""

    def __init__(self, direction: str):
        self.style = Style()
        self.direction = direction
        self.current: Any = None

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
        for n, migration in enumerate(migrations, 1):
            echo(f"  {n}. {migration.id}")
        echo()

    @hookimpl
    def npa_migration_start(self, migration, index: int, total: int, direction: str) -> None:
        verb = "Executing" if direction == "up" else "Rolling back"
        echo(f"{verb} migration {index}/{total}: {migration.name}")

    @hookimpl
    def npa_operation_done(self, migration, operation, duration: float) -> None:
        echo(f"  {self.style.good(self.style.ok)} {operation.describe()}")

    @hookimpl
    def npa_migration_end(self, migration, direction: str, duration: float, error) -> None:
        if error is not None:
            echo(f"  {self.style.bad(self.style.fail)} {migration.name} failed")
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
        echo(f"Time: {seconds:.3f}s")


class JsonReporter:
    """One JSON object per line per event, then a ``result`` line."""

    @staticmethod
    def emit(event: str, **data: Any) -> None:
        click.echo(json.dumps({"event": event, **data}, default=str))

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
        self.emit("result", success=result.success, direction=result.direction,
                  migrations=result.migration_ids,
                  ignored=result.migrations_ignored,
                  duration_ms=round(result.duration.total_seconds() * 1000, 3),
                  errors=[{"id": e.migration_id, "message": e.message} for e in result.errors])
