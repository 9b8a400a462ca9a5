"""The crash-point injector: a plugin that kills its own process at the k-th boundary of a
run, so a test can crash a real ``npa`` process at every boundary, deterministically.

The engine calls the ``npa_checkpoint`` hook at each boundary of a run (taking and
releasing the lock, each transaction's begin and commit, before and after each statement,
each write of the write-ahead journal), always in the same order for the same history.
This module implements that hook; a child process loads it with
``NPA_PLUGINS=npa_migrations.testing.crash`` (see :mod:`npa_migrations.plugins`) and is
steered by the environment:

``NPA_CRASH_AT=k``
    at the k-th boundary (1-based), send the process a signal;
``NPA_CRASH_SIGNAL=KILL|TERM|INT``
    which one (default ``KILL``: nothing runs after it, as with ``kill -9``; ``TERM`` and
    ``INT`` go through the run's signal handling, as a ``kill`` or Ctrl-C would);
``NPA_CRASH_TRACE=path``
    append one line per boundary, ``k point migration-id``, so an uninterrupted run tells
    how many boundaries there are and which is which.

Without ``NPA_CRASH_AT`` it only counts (and traces). The campaign that uses it is
:mod:`npa_migrations.testing.campaign`; [docs/testing crash points] explains both.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, TextIO

from .. import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript

#: the signals ``NPA_CRASH_SIGNAL`` may name
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}


class CrashInjector:
    """Counts the run's boundaries and signals its own process at the chosen one.

    :param crash_at: the boundary (1-based) to signal at, or ``None`` to only count.
    :param signum: the signal to send.
    :param trace: where to write one line per boundary, or ``None``.
    """

    def __init__(self, crash_at: int | None, signum: int = signal.SIGKILL,
                 trace: TextIO | None = None):
        self.crash_at = crash_at
        self.signum = signum
        self.trace = trace
        self.count = 0

    @classmethod
    def from_environment(cls) -> "CrashInjector":
        """The injector the ``NPA_CRASH_*`` variables describe."""
        at = os.environ.get("NPA_CRASH_AT", "").strip()
        name = os.environ.get("NPA_CRASH_SIGNAL", "KILL").strip().upper() or "KILL"
        if name not in SIGNALS:
            raise ValueError(f"NPA_CRASH_SIGNAL={name!r}: use one of {', '.join(SIGNALS)}")
        path = os.environ.get("NPA_CRASH_TRACE", "").strip()
        trace = open(path, "a", buffering=1, encoding="utf-8") if path else None
        return cls(int(at) if at else None, SIGNALS[name], trace)

    @hookimpl
    def npa_checkpoint(self, point: str, migration: "MigrationScript | None") -> None:
        """Count the boundary; trace it; signal the process when it is the chosen one."""
        self.count += 1
        if self.trace is not None:
            self.trace.write(f"{self.count} {point} "
                             f"{migration.id if migration is not None else '-'}\n")
        if self.count == self.crash_at:
            os.kill(os.getpid(), self.signum)


#: the plugin object pluggy registers when ``NPA_PLUGINS`` names this module
injector = CrashInjector.from_environment()


@hookimpl
def npa_checkpoint(point: str, migration: "MigrationScript | None") -> None:
    """The module-level hook: delegates to :data:`injector`."""
    injector.npa_checkpoint(point, migration)
