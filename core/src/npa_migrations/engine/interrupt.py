"""Stopping a run at a safe point: Ctrl-C, SIGTERM, an async task cancelled.

A request to stop (:meth:`Interruption.request`) never breaks into the middle of the
engine's bookkeeping. The runner looks at it at its safe points -- before each statement
and between migrations -- and there rolls back what is not committed, records the truth in
the history and the event log (a migration under way is ``stopped`` at the exact position
it reached) and raises :class:`~npa_migrations.errors.RunInterrupted`, which releases the
lock on its way out. A statement that may run long is cancelled on the server when it runs
inside a transaction that rolls back with it (the run's listener does that); any other
statement finishes first.

:func:`stop_on_signals` turns SIGINT and SIGTERM into such requests for the length of a
command (the CLI uses it). A second signal is not caught: it ends the process at once, as
a kill would, and the next run checks the statement that was under way.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

#: exit codes of a run stopped by a signal (128 + the signal number, as shells report it)
EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interruption:
    """A request to stop a run at its next safe point, shared between whoever asks (a
    signal handler, another thread, an async task) and the runner.

    :ivar signum: the signal that asked, if a signal did.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: int | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._event.is_set()

    def request(self, signum: int | None = None) -> None:
        """Ask the run to stop at its next safe point, and tell the listeners (which may
        cancel a statement that would roll back anyway)."""
        if signum is not None and self.signum is None:
            self.signum = signum
        self._event.set()
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a failed cancel: the run still stops at its safe point
                pass

    @contextlib.contextmanager
    def listening(self, listener: Callable[[], None]) -> Iterator[None]:
        """Call ``listener`` when a stop is requested during the block."""
        self._listeners.append(listener)
        try:
            yield
        finally:
            self._listeners.remove(listener)

    def exit_code(self) -> int:
        """The documented exit code for the signal that asked (130 for SIGINT, 143 for
        SIGTERM; 130 when no signal did)."""
        return EXIT_CODES.get(self.signum, 130) if self.signum is not None else 130


@contextlib.contextmanager
def stop_on_signals(interruption: Interruption) -> Iterator[None]:
    """Turn the first SIGINT or SIGTERM during the block into ``interruption.request()``;
    a second one gets the signal's default behaviour. Outside the main thread (where
    Python cannot install handlers) the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in EXIT_CODES}

    def handler(signum: int, frame: object) -> None:
        for sig in EXIT_CODES:  # the next signal acts at once
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT
                          else signal.SIG_DFL)
        interruption.request(signum)

    for sig in EXIT_CODES:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
