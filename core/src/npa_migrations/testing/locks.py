"""Holding the migration lock from another thread or another process, for lock tests."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.executor import MigrationExecutor


def create_lock(executor: "MigrationExecutor") -> Any:
    """The migration lock exactly as ``executor`` would take it (through the hook)."""
    return executor.hook.npa_create_lock(provider=executor.provider,
                                         table_name=executor.options.lock_table)


class ThreadLockHolder:
    """Acquires the migration lock in a background thread and holds it until
    :meth:`release` (use as a context manager)."""

    def __init__(self, executor: "MigrationExecutor", timeout: float = 10.0):
        self.executor = executor
        self.timeout = timeout
        self.held = threading.Event()
        self._release = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="npa-suite-lock-holder",
                                        daemon=True)

    def _run(self) -> None:
        lock = None
        try:
            lock = create_lock(self.executor)
            lock.acquire(self.timeout)
            self.held.set()
            self._release.wait(60)
        except BaseException as exc:  # reported by start() / release()
            self.error = exc
        finally:
            if lock is not None:
                lock.release()
            self.held.set()

    def start(self) -> "ThreadLockHolder":
        self._thread.start()
        self.held.wait(self.timeout + 5)
        if self.error is not None:
            raise self.error
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join(30)
        if self.error is not None:
            raise self.error

    def __enter__(self) -> "ThreadLockHolder":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.release()


_HOLDER_SCRIPT = """
import sys
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
url, lock_table = sys.argv[1], sys.argv[2]
executor = MigrationExecutor(url, [], MigrationExecutorOptions(lock_table=lock_table))
lock = executor.hook.npa_create_lock(provider=executor.provider, table_name=lock_table)
lock.acquire(30)
print("held", flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
"""


class ProcessLockHolder:
    """Acquires the migration lock in a separate Python process (the provider must be
    installed so that the child finds it through the ``npa`` entry points)."""

    def __init__(self, executor: "MigrationExecutor"):
        self.url = executor.provider.url.render_as_string(hide_password=False)
        self.lock_table = executor.options.lock_table
        self.process: subprocess.Popen | None = None

    def start(self) -> "ProcessLockHolder":
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER_SCRIPT, self.url, self.lock_table],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None  # stdout=PIPE
        line = self.process.stdout.readline().strip()
        if line != "held":
            _, err = self.process.communicate(timeout=30)
            raise RuntimeError(f"the lock-holder process did not get the lock: {line} {err}")
        return self

    def release(self) -> None:
        if self.process is None:
            return
        out, err = self.process.communicate("\n", timeout=30)
        code = self.process.returncode
        self.process = None
        if code != 0 or "released" not in out:
            raise RuntimeError(f"the lock-holder process failed (exit {code}): {err}")

    def __enter__(self) -> "ProcessLockHolder":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and exc[0] is not None:
            self.process.kill()
            self.process.wait()
            self.process = None
            return
        self.release()
