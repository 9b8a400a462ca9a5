"""The CLI's side of the recorded up-to-date answers (:mod:`npa_migrations.uptodate`):
when ``npa migrate up`` or ``status`` finds the database up to date, what it printed is
recorded with what the answer depends on, so the next identical command can give it
without loading the engine.

A command's output is captured as it is printed (:func:`captured`, which keeps the
terminal's colours and encoding), then the history is read once more and the answer is
recorded only if that read, too, finds nothing to do.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any, Iterator


class Capture(io.StringIO):
    """A text buffer standing in for ``stream``: what is written looks as it would on
    ``stream`` (same terminal test, same encoding), so colours and ✓ marks are kept."""

    def __init__(self, stream: Any):
        super().__init__()
        self.stream = stream

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    @property
    def encoding(self) -> Any:  # type: ignore[override]
        return getattr(self.stream, "encoding", None)


@contextlib.contextmanager
def captured(echo: bool = True) -> Iterator[Capture]:
    """Capture stdout for the length of the block, then (with ``echo``) print what was
    captured."""
    capture = Capture(sys.stdout)
    try:
        with contextlib.redirect_stdout(capture):
            yield capture
    finally:
        if echo:
            sys.stdout.write(capture.getvalue())


def up_to_date(executor: Any, rows: dict) -> bool:
    """Whether ``up`` finds nothing to do and ``status`` nothing to report on the history
    ``rows``: no migration pending, failed, interrupted or missing, no validation
    problem, no squashed migration to record."""
    state = executor.status_of(rows)
    return not (state.pending or state.problems or state.failed or state.interrupted
                or state.missing or executor.view(rows).unrecorded)


def record_answer(config: Any, executor: Any, command: str, output: str,
                  timing: dict | None = None) -> bool:
    """Record ``output`` as the answer of this process's ``npa migrate <command>`` when
    the database is up to date; whether it was recorded."""
    from ..plugins import only_builtin
    from ..uptodate import launched, password_of, record

    invocation = launched()
    if invocation is None or invocation.command != command:
        return False
    if not only_builtin(executor.hook.npa_discover_migrations):
        return False  # a plugin finds migrations: the files it reads are not watched
    driver = executor.provider.driver
    arguments = driver.quick_connect_arguments()
    password = executor.provider.url.password
    if arguments is None or (password is not None
                             and password != password_of(config.database_url)):
        return False
    with executor.session(read_only=True) as session:
        sql = getattr(session.history, "select_sql", None)
        if not session.connected or sql is None:
            return False
        rows = session.read_history()
    if not up_to_date(executor, rows):
        return False
    reader = {"connect": driver.quick_connect, "args": arguments[0], "kwargs": arguments[1],
              "password": password is not None, "sql": sql}
    return record(invocation, folders=list(executor.sources), reader=reader,
                  database_url=config.database_url,
                  engine_rows=[(r.migration_id, r.checksum) for r in rows.values()],
                  output=output, timing=timing)
