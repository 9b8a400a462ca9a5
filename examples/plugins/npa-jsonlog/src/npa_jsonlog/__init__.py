"""npa-jsonlog: a structured JSON-lines log of migration runs (an example plugin).

Registered under the ``npa`` entry-point group, this module receives the engine's events
and writes one JSON object per line::

    {"time": "2025-11-19T14:30:22.114Z", "event": "migration_start", "migration": "...", ...}

Events: ``plan`` (once per run), ``migration_start``, ``statement_start``, ``statement``
(after it succeeded, with ``duration_ms``), ``migration_end`` (``success``,
``duration_ms``, and ``error`` / ``failed_statement`` when it failed).

Where the lines go: :func:`configure` (any text stream), else the ``NPA_JSONLOG``
environment variable (a file path, appended to; ``-`` for stderr), else nowhere.
Bound parameters are never logged (they can hold personal data); ``rows`` says how many
parameter sets a batched statement had, when it is a list.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any, TextIO

from npa_migrations import hookimpl

__all__ = ["configure"]

_stream: TextIO | None = None


def configure(stream: TextIO | None) -> None:
    """Write the log to ``stream`` (``None``: back to the ``NPA_JSONLOG`` variable)."""
    global _stream
    _stream = stream


def _output() -> TextIO | None:
    global _stream
    if _stream is None:
        target = os.environ.get("NPA_JSONLOG")
        if not target:
            return None
        _stream = sys.stderr if target == "-" else open(target, "a", encoding="utf-8")
    return _stream


def _emit(event: str, **fields: Any) -> None:
    stream = _output()
    if stream is None:
        return
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
    record = {"time": now.replace("+00:00", "Z"), "event": event, **fields}
    stream.write(json.dumps(record, default=str) + "\n")
    stream.flush()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _statement_fields(statement) -> dict:
    fields: dict[str, Any] = {"sql": statement.sql}
    if statement.many:
        fields["many"] = True
        if isinstance(statement.params, (list, tuple)):
            fields["rows"] = len(statement.params)
    return fields


@hookimpl
def npa_run_planned(migrations, direction: str) -> None:
    _emit("plan", direction=direction, migrations=[m.id for m in migrations])


@hookimpl
def npa_migration_start(migration, index: int, total: int, direction: str) -> None:
    _emit("migration_start", migration=migration.id, direction=direction, index=index,
          total=total, source=migration.source)


@hookimpl
def npa_statement_start(migration, statement) -> None:
    _emit("statement_start", migration=migration.id, **_statement_fields(statement))


@hookimpl
def npa_statement_executed(migration, statement, duration: float) -> None:
    _emit("statement", migration=migration.id, duration_ms=_ms(duration),
          **_statement_fields(statement))


@hookimpl
def npa_migration_end(migration, direction: str, duration: float, error) -> None:
    fields: dict[str, Any] = {}
    if error is not None:
        fields["error"] = str(error).splitlines()[0]
        fields["failed_statement"] = getattr(error, "statement", None)
    _emit("migration_end", migration=migration.id, direction=direction,
          duration_ms=_ms(duration), success=error is None, **fields)
