"""The crash-point campaign: kill a real ``npa migrate up`` at every boundary of a run,
then check that a plain ``npa migrate up`` ends exactly where an uninterrupted run does.

Why a campaign and not a few chosen kills: the engine's promise (never apply a step twice,
never leave a database half-migrated without saying so) must hold wherever the process
dies, and the places that break are the ones nobody thought of. The run's boundaries are
enumerated deterministically by the crash-point injector
(:mod:`npa_migrations.testing.crash`, loaded in the child with ``NPA_PLUGINS``):

1. an uninterrupted run counts the boundaries (N) and gives the reference: the schema
   (reflected), the data of every table, one history row per migration, all ``applied``;
2. for every k in 1..N, on a fresh database: a child ``npa migrate up`` signalled at the
   k-th boundary, then a plain child ``npa migrate up``; the outcome is

   * **converged** -- exit 0 and a snapshot equal to the reference;
   * **manual** -- exit 3 with an ``in_doubt`` error naming the migration and the
     statement (the database cannot tell whether it took effect); the documented repair
     (``npa migrate repair --resume``, plus ``--skip-in-doubt`` when the statement did
     run -- which the campaign knows from the boundary it killed at, as a user knows by
     looking) then converges;
   * **wrong** -- anything else. A campaign passes with no wrong outcome.

With ``TERM`` or ``INT`` instead of ``KILL`` the first run must stop at its next safe
point: exit 143 / 130 (or 0 when the signal came after the last safe point), a history
whose every row is ``applied`` or ``stopped``, an ``interrupt`` event-log entry when it
stopped inside a migration, and no lock left behind -- then the plain run converges.

The history (:data:`HISTORY`) is small and mixed on purpose: a Python builder migration
(create table, index, ``bulk_insert``), a multi-statement ``.sql`` file mixing DDL and
inserts, a builder migration that adds a column and runs a data ``UPDATE`` (balance +10:
run twice it shows), and a ``-- npa:no-transaction`` file (a table and a data
``UPDATE``). Every migration's down is its exact inverse, so a rollback can be put to
the same test. Every object starts with
``npat_`` so a shared test database is cleaned by the conformance suite's provisioning.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

#: the objects the campaign's history creates share this prefix
PREFIX = "npat_crash_"

#: the engine's own tables (history, lock, event log), left out of the schema snapshot
ENGINE_TABLES = ("npat_crash_history", "npat_crash_lock", "npat_crash_log")
#: every table a run of the campaign's history may leave behind
TABLES = ("npat_crash_audit", "npat_crash_orders", "npat_crash_accounts", *ENGINE_TABLES)

#: the engine's tables, named so the suite's provisioning drops them with the rest
CONFIG = """\
history_table = "npat_crash_history"
lock_table = "npat_crash_lock"
log_table = "npat_crash_log"
"""

HISTORY: dict[str, str] = {
    "20250101000000_accounts.py": '''
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Accounts(Migration):
            def up(self, b):
                b.create_table("npat_crash_accounts",
                               sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("owner", sa.String(40), nullable=False),
                               sa.Column("balance", sa.Integer, nullable=False))
                b.create_index("ix_npat_crash_accounts_owner", "npat_crash_accounts",
                               ["owner"])
                b.bulk_insert("npat_crash_accounts", [
                    {"id": 1, "owner": "ann", "balance": 100},
                    {"id": 2, "owner": "bob", "balance": 50},
                    {"id": 3, "owner": "cy", "balance": 0}])

            def down(self, b):
                b.drop_table("npat_crash_accounts")
    ''',
    "20250102000000_orders.sql": '''
        -- npa:up
        CREATE TABLE npat_crash_orders (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL,
            total INTEGER NOT NULL
        );
        INSERT INTO npat_crash_orders (id, account_id, total) VALUES (1, 1, 5);
        INSERT INTO npat_crash_orders (id, account_id, total) VALUES (2, 2, 7);
        -- npa:down
        DROP TABLE npat_crash_orders;
    ''',
    "20250103000000_interest.py": '''
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Interest(Migration):
            def up(self, b):
                b.add_column("npat_crash_accounts", sa.Column("note", sa.String(20)))
                b.execute("UPDATE npat_crash_accounts SET balance = balance + 10")

            def down(self, b):
                b.execute("UPDATE npat_crash_accounts SET balance = balance - 10")
                b.drop_column("npat_crash_accounts", "note")
    ''',
    "20250104000000_audit.sql": '''
        -- npa:no-transaction
        -- npa:up
        CREATE TABLE npat_crash_audit (id INTEGER PRIMARY KEY, note VARCHAR(20));
        UPDATE npat_crash_orders SET total = total + 1;
        -- npa:down
        UPDATE npat_crash_orders SET total = total - 1;
        DROP TABLE npat_crash_audit;
    ''',
}

#: verdicts
CONVERGED, MANUAL, WRONG = "converged", "manual", "wrong"

#: the exit code a signal's stop must end with
STOP_EXIT = {"TERM": 143, "INT": 130}


@dataclass
class Outcome:
    """What happened at one crash point."""

    k: int
    point: str
    verdict: str
    detail: str = ""


@dataclass
class CampaignResult:
    """Every crash point's outcome."""

    signal: str
    points: int
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(1 for o in self.outcomes if o.verdict == verdict)

    def summary(self) -> str:
        """``KILL: 57 points, 55 converged, 2 manual, 0 wrong``"""
        return (f"{self.signal}: {self.points} points, {self.count(CONVERGED)} converged, "
                f"{self.count(MANUAL)} manual, {self.count(WRONG)} wrong")

    def failures(self) -> str:
        return "\n".join(f"k={o.k} ({o.point}): {o.detail}" for o in self.outcomes
                         if o.verdict == WRONG)


class CrashCampaign:
    """Runs the campaign for one database.

    :param workdir: a folder of its own (migrations, config, traces).
    :param fresh: returns the URL of an empty database; called before every run from
        scratch (a new file for SQLite; the suite's objects dropped on a server).
    :param env: extra environment for every child (``NPA_DISABLE_PLUGINS=...``).
    :param connect: makes the SQLAlchemy engine the campaign reads a database with
        (default: ``create_engine`` with no pool).
    :param rollback: signal ``npa migrate down --steps 4`` of the whole history (applied
        first, uninterrupted) instead of ``up``; afterwards the plain ``up`` answers that
        the rollback must be finished first (exit 3), so ``npa migrate down`` finishes it
        -- the step its message documents -- and ``up`` must then end at the reference.
    :param fork: start each ``npa`` by forking this process (:func:`run_forked`: the
        imports are done once, a child costs milliseconds instead of a Python start-up);
        ``False`` execs ``python -m npa_migrations.cli`` each time. Forking needs a POSIX
        system and a parent without threads.
    """

    def __init__(self, workdir: Path, fresh: Callable[[], str],
                 env: dict[str, str] | None = None, timeout: float = 120, *,
                 fork: bool = hasattr(os, "fork"),
                 connect: "Callable[[str], sa.engine.Engine] | None" = None,
                 rollback: bool = False):
        self.workdir = workdir
        self.rollback = rollback
        #: the command that is signalled
        self.command = ("down", "--steps", str(len(HISTORY))) if rollback else ("up",)
        self.fork = fork
        self.connect = connect or _engine
        self._engines: dict[str, "sa.engine.Engine"] = {}
        self.fresh = fresh
        self.timeout = timeout
        self.folder = workdir / "migrations"
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in HISTORY.items():
            (self.folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        (workdir / "npa.toml").write_text(CONFIG, encoding="utf-8")
        self.env = {**os.environ, "NPA_PLUGINS": "npa_migrations.testing.crash",
                    "NPA_CHECKSUM_CACHE": "0", **(env or {})}
        for name in ("NPA_CRASH_AT", "NPA_CRASH_SIGNAL", "NPA_CRASH_TRACE",
                     "NPA_DATABASE_URL", "NPA_MIGRATIONS"):
            if name not in (env or {}):
                self.env.pop(name, None)
        self.reference: dict[str, Any] | None = None
        self.trace: list[str] = []

    def engine(self, url: str) -> "sa.engine.Engine":
        """The engine reading ``url`` (one per URL, kept until :meth:`close`)."""
        if url not in self._engines:
            self._engines[url] = self.connect(url)
        return self._engines[url]

    def close(self) -> None:
        """Dispose of the engines."""
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()

    # children --------------------------------------------------------------------------
    def npa(self, url: str, *args: str, **crash: str) -> subprocess.CompletedProcess:
        """``npa -d url migrate <args>`` in a child process; ``crash`` sets
        ``NPA_CRASH_<NAME>`` variables (``at``, ``signal``, ``trace``)."""
        env = {**self.env, **{f"NPA_CRASH_{k.upper()}": v for k, v in crash.items()}}
        argv = ["-d", url, "-m", str(self.folder), "migrate", *args]
        if self.fork:
            return run_forked(argv, env, self.workdir, self.timeout)
        return subprocess.run([sys.executable, "-m", "npa_migrations.cli", *argv],
                              cwd=self.workdir, env=env, capture_output=True, text=True,
                              timeout=self.timeout)

    def traced(self, url: str, *args: str, **crash: str
               ) -> tuple[subprocess.CompletedProcess, list[str]]:
        """:meth:`npa` with a trace: also returns the boundary points it passed."""
        path = self.workdir / "trace.txt"
        path.unlink(missing_ok=True)
        done = self.npa(url, *args, trace=str(path), **crash)
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return done, [line.split(" ")[1] for line in lines]

    # the campaign ----------------------------------------------------------------------
    def learn(self) -> int:
        """The uninterrupted run: the reference snapshot and the number of boundaries."""
        url = self.fresh()
        done, self.trace = self.traced(url, "up")
        if done.returncode != 0:
            raise AssertionError(f"the uninterrupted run failed ({done.returncode}):\n"
                                 f"{done.stdout}\n{done.stderr}")
        self.reference = snapshot(self.engine(url))
        if self.rollback:
            done, self.trace = self.traced(url, *self.command)
            if done.returncode != 0:
                raise AssertionError(f"the uninterrupted rollback failed "
                                     f"({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return len(self.trace)

    def _start(self) -> str:
        """A fresh database where the signalled command has its work to do."""
        url = self.fresh()
        if self.rollback:
            done = self.npa(url, "up")
            if done.returncode != 0:
                raise AssertionError(f"applying before the rollback failed:\n{done.stderr}")
        return url

    def run(self, signal_name: str = "KILL", points: list[int] | None = None
            ) -> CampaignResult:
        """Every crash point (or ``points``) with ``signal_name``."""
        if self.reference is None:
            self.learn()
        ks = points if points is not None else list(range(1, len(self.trace) + 1))
        result = CampaignResult(signal_name, len(ks))
        for k in ks:
            result.outcomes.append(self.crash_at(k, signal_name))
        return result

    def crash_at(self, k: int, signal_name: str = "KILL") -> Outcome:
        """One crash point: crash, run again, classify."""
        assert self.reference is not None, "learn() first"
        point = self.trace[k - 1] if k <= len(self.trace) else "?"
        url = self._start()
        first, passed = self.traced(url, *self.command, at=str(k), signal=signal_name)
        problem = self._check_first(url, first, passed, k, signal_name)
        if problem:
            return Outcome(k, point, WRONG, problem)
        again = self.npa(url, "up")
        verdict = CONVERGED
        if self.rollback and again.returncode == 3 and \
                "being rolled back" in again.stdout + again.stderr:
            again = self.npa(url, "down")  # what the message says: finish the rollback
            if again.returncode == 0:
                again = self.npa(url, "up")
        if again.returncode == 3:
            text = again.stdout + again.stderr
            if "cannot tell whether it took effect" not in text or \
                    "npa migrate repair --resume" not in text:
                return Outcome(k, point, WRONG, f"exit 3 without an in-doubt message:\n{text}")
            # as a user would after looking: did the statement in doubt run?
            skip = ["--skip-in-doubt"] if statement_ran(passed) else []
            repair = self.npa(url, "repair", "--resume", *skip)
            if repair.returncode != 0:
                return Outcome(k, point, WRONG, f"repair --resume {' '.join(skip)} exited "
                               f"{repair.returncode}:\n{repair.stdout}\n{repair.stderr}")
            again = self.npa(url, "up")
            verdict = MANUAL
        if again.returncode != 0:
            return Outcome(k, point, WRONG, f"the plain run after it exited "
                           f"{again.returncode}:\n{again.stdout}\n{again.stderr}")
        found = snapshot(self.engine(url))
        if found != self.reference:
            return Outcome(k, point, WRONG, "ended elsewhere than the uninterrupted run:\n"
                           + describe_difference(self.reference, found))
        return Outcome(k, point, verdict)

    def _check_first(self, url: str, first: subprocess.CompletedProcess, passed: list[str],
                     k: int, signal_name: str) -> str | None:
        """What is wrong with the interrupted run, or ``None``."""
        text = f"exit {first.returncode}\n{first.stdout}\n{first.stderr}"
        if signal_name == "KILL":
            if first.returncode != -signal.SIGKILL:
                return f"the child was not killed at boundary {k}: {text}"
            return None
        expected = STOP_EXIT[signal_name]
        if first.returncode == 0:  # only when the signal came after the last safe point
            return None if _after_last_statement(self.trace, k) \
                else f"a stop request was ignored: {text}"
        if first.returncode != expected:
            return f"expected exit {expected} after SIG{signal_name}: {text}"
        if "Interrupted:" not in first.stderr + first.stdout:
            return f"no 'Interrupted:' message saying what state the database is in: {text}"
        with self.engine(url).connect() as conn:
            rows = history_rows(conn)
            stopped_without_entry = any(r[2] == "stopped" for r in rows) \
                and "interrupt" not in event_kinds(conn)
            locked = lock_rows(conn)
        bad = [r for r in rows if r[2] not in ("applied", "stopped")]
        if bad:
            return f"history rows neither applied nor stopped after a stop: {bad}\n{text}"
        if stopped_without_entry:
            return f"a migration stopped but the event log has no interrupt entry\n{text}"
        if locked:
            return f"the lock table still holds the lock after the stop\n{text}"
        return None


def statement_ran(passed: list[str]) -> bool:
    """Whether the statement in doubt after a kill at the last of the boundaries
    ``passed`` had run -- what a user finds out by looking at the database. It had when
    the kill came at its ``executed`` boundary, or at the ``begin`` right after it (where
    DDL commits implicitly, the run opens the transaction that records it). At any other
    boundary the statement in doubt is the next one, which had not started."""
    if passed[-1:] == ["executed"]:
        return True
    return passed[-2:] == ["executed", "begin"]


def _after_last_statement(trace: list[str], k: int) -> bool:
    """Whether boundary ``k`` of the uninterrupted run came after its last statement
    (no safe point was left to stop at)."""
    return "statement" not in trace[k:]


# children --------------------------------------------------------------------------------
def run_forked(argv: list[str], env: dict[str, str], cwd: Path,
               timeout: float) -> subprocess.CompletedProcess:
    """``npa <argv>`` in a forked child process, as if started fresh: its own environment,
    working directory, signal dispositions and plugin manager (read again from ``env``,
    so ``NPA_PLUGINS`` loads the crash injector in the child only); its output captured.
    A signal that kills it shows as a negative return code, as with :mod:`subprocess`."""
    import tempfile
    import time

    _warm_up()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; it never returns
            _child(argv, env, cwd, out.fileno(), err.fileno())
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise subprocess.TimeoutExpired(["npa", *argv], timeout)
            time.sleep(0.002)
        texts = []
        for file in (out, err):
            file.seek(0)
            texts.append(file.read().decode("utf-8", "replace"))
    return subprocess.CompletedProcess(["npa", *argv], os.waitstatus_to_exitcode(status),
                                       texts[0], texts[1])


def _warm_up() -> None:
    """Import in the parent what every child needs, once."""
    import npa_migrations.cli  # noqa: F401
    import npa_migrations.engine.executor  # noqa: F401
    import npa_migrations.engine.recovery  # noqa: F401
    import npa_migrations.engine.repair  # noqa: F401
    from ..plugins import get_plugin_manager

    get_plugin_manager()  # imports the installed providers and plugins


def _child(argv: list[str], env: dict[str, str], cwd: Path, out: int,
           err: int) -> None:  # pragma: no cover - runs in the forked child
    import io
    import traceback

    code = 1
    try:
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                      line_buffering=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        from ..plugins import reset_plugin_manager

        reset_plugin_manager()
        sys.modules.pop("npa_migrations.testing.crash", None)  # its injector reads env
        from ..cli import cli

        cli.main(args=argv, prog_name="npa", standalone_mode=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# snapshots ---------------------------------------------------------------------------------
def _engine(url: str) -> "sa.engine.Engine":
    import sqlalchemy as sa

    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def snapshot(engine: "sa.engine.Engine") -> dict[str, Any]:
    """The campaign's tables -- columns, primary keys, indexes and every row -- and the
    history: ``(migration_id, success, state)`` per row (read on one connection)."""
    import sqlalchemy as sa

    schema: dict[str, Any] = {}
    data: dict[str, Any] = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in sorted(t for t in inspector.get_table_names() if t.startswith(PREFIX)):
            if table in ENGINE_TABLES:
                continue
            schema[table] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"])
                            for c in inspector.get_columns(table)],
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in inspector.get_indexes(table)),
            }
            rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
            data[table] = sorted(tuple(str(v) for v in row) for row in rows)
        history = history_rows(conn)
    return {"schema": schema, "data": data, "history": history}


def history_rows(conn: "sa.engine.Connection") -> list[tuple[str, bool, str]]:
    """``(migration_id, success, state)`` of every history row, by id."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("npat_crash_history"):
        return []
    return sorted((r[0], bool(r[1]), r[2] or ("applied" if r[1] else "failed"))
                  for r in conn.execute(sa.text(
                      "SELECT migration_id, success, state FROM npat_crash_history")))


def lock_rows(conn: "sa.engine.Connection") -> int:
    """How many rows the lock table holds (0 when the lock is free, or is a session lock
    of the database, which dies with its connection)."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("npat_crash_lock"):
        return 0
    return conn.execute(sa.text("SELECT COUNT(*) FROM npat_crash_lock")).scalar_one()


def event_kinds(conn: "sa.engine.Connection") -> Counter:
    """How many event-log entries of each kind."""
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("npat_crash_log"):
        return Counter()
    return Counter(r[0] for r in conn.execute(sa.text("SELECT event FROM npat_crash_log")))


def drop_tables(engine: "sa.engine.Engine") -> None:
    """Drop every table of :data:`TABLES` that exists, in one statement (a quick
    :meth:`CrashCampaign.fresh` on a server database of the campaign's own; the suite
    uses its provisioning instead)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {', '.join(TABLES)}"))


def describe_difference(expected: dict[str, Any], found: dict[str, Any]) -> str:
    """The parts of two snapshots that differ."""
    lines = []
    for part in ("schema", "data", "history"):
        if expected[part] != found[part]:
            lines.append(f"  {part}: expected {expected[part]!r}\n"
                         f"  {' ' * len(part)}  found    {found[part]!r}")
    return "\n".join(lines)
