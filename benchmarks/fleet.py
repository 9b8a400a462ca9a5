"""The fleet benchmark group: one history of M migrations over many targets.

Targets: SQLite files, PostgreSQL schemas (one database ``<bench db>_fleet``), MariaDB
databases (``npa_fleet_NNNN``). For each kind, on N targets:

* ``fleet up``: ``npa migrate up --tenants/--tenant-schemas`` at the default
  concurrency, wall time of the whole command, peak RSS;
* ``fleet no-op``: the same command again, every target up to date;
* ``sum of single targets``: the time one target takes alone (``--concurrency 1`` over
  a sample of fresh targets, in-process time from the ``fleet_result`` line) times N --
  the baseline of the ratio column: ``fleet up`` should come close to it / concurrency;
* ``shell loop of npa up``: one ``npa -d URL migrate up`` process per target, timed on a
  sample and scaled to N (start-up included, as a shell loop pays it);
* ``re-run after kill -9``: a fleet ``up`` over N fresh targets is killed with SIGKILL
  once half of them finished, then run again (timed); the case says whether it
  converged -- every target at the last migration with nothing failed in ``status``, each
  migration recorded once per target (a DDL migration applied twice fails the re-run) --
  or how many targets failed, and the log names them with their errors.

Samples are marked with how many targets they were measured on.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import workloads

#: (targets, migrations, sample for the sequential run, sample for the shell loop)
SIZES = {
    "full": {"sqlite": (500, 20, 50, 20), "postgresql": (1000, 20, 50, 20),
             "mysql": (200, 20, 40, 20)},
    "quick": {"sqlite": (100, 20, 20, 10), "postgresql": (200, 20, 20, 10),
              "mysql": (50, 20, 10, 5)},
    "smoke": {"sqlite": (4, 3, 2, 2), "postgresql": (4, 3, 2, 2), "mysql": (3, 3, 2, 2)},
}


class Targets:
    """N + samples targets of one kind: ``fleet_args(part)`` selects them for ``npa``."""

    def __init__(self, b, kind: str, count: int):
        self.b, self.kind, self.count = b, kind, count
        self.root = b.work / f"fleet-{kind}"
        self.root.mkdir(parents=True, exist_ok=True)

    def names(self, part: str, n: int) -> list[str]:
        return [f"{part}_{i:04}" for i in range(n)]

    def create(self, part: str, n: int) -> None:
        names = self.names(part, n)
        if self.kind == "sqlite":
            for name in names:
                for suffix in ("", "-journal", "-wal"):
                    Path(str(self.root / f"{name}.sqlite") + suffix).unlink(missing_ok=True)
            (self.root / f"{part}.txt").write_text(
                "".join(f"sqlite:///{self.root / name}.sqlite\n" for name in names))
        elif self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.database_url().replace("+psycopg", ""),
                                 autocommit=True) as conn:
                for name in names:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
                    conn.execute(f'CREATE SCHEMA "{name}"')
        else:
            import pymysql
            from worker import _mysql_args

            params = _mysql_args(self.b.args.mysql_url)
            params.pop("database")
            conn = pymysql.connect(**params, autocommit=True)
            try:
                cur = conn.cursor()
                for name in names:
                    cur.execute(f"DROP DATABASE IF EXISTS `npa_fleet_{name}`")
                    cur.execute(f"CREATE DATABASE `npa_fleet_{name}`")
            finally:
                conn.close()

    def database_url(self) -> str:
        """PostgreSQL: the fleet's database (created on first use)."""
        url = self.b.args.postgresql_url
        fleet_url = url.split("?")[0] + "_fleet"
        if not getattr(self, "_created", False):
            import psycopg

            admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
            name = fleet_url.rsplit("/", 1)[1]
            with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            self._created = True
        return fleet_url

    def fleet_args(self, part: str) -> tuple[list[str], list[str]]:
        """(``npa`` options, ``migrate up`` options) selecting the ``part`` targets."""
        if self.kind == "sqlite":
            return [], ["--tenants", str(self.root / f"{part}.txt")]
        if self.kind == "postgresql":
            return ["-d", self.database_url()], [
                "--tenant-schemas", "SELECT nspname FROM pg_namespace WHERE nspname LIKE "
                f"'{part}\\_%' ORDER BY 1"]
        return ["-d", self.b.args.mysql_url], [
            "--tenant-schemas", "SELECT schema_name FROM information_schema.schemata WHERE "
            f"schema_name LIKE 'npa\\_fleet\\_{part}\\_%' ORDER BY 1"]

    def single_urls(self, part: str, n: int) -> list[str]:
        names = self.names(part, n)
        if self.kind == "sqlite":
            return [f"sqlite:///{self.root / name}.sqlite" for name in names]
        if self.kind == "postgresql":
            return [f"{self.database_url()}?options=-csearch_path%3D{name}" for name in names]
        base = self.b.args.mysql_url.rsplit("/", 1)[0]
        return [f"{base}/npa_fleet_{name}" for name in names]

    def drop(self, part: str, n: int) -> None:
        if self.kind == "mysql":
            import pymysql
            from worker import _mysql_args

            params = _mysql_args(self.b.args.mysql_url)
            params.pop("database")
            conn = pymysql.connect(**params, autocommit=True)
            try:
                cur = conn.cursor()
                for name in self.names(part, n):
                    cur.execute(f"DROP DATABASE IF EXISTS `npa_fleet_{name}`")
            finally:
                conn.close()


def bench_fleet(b, dbs: list[str]) -> None:
    """The fleet group (see the module docstring)."""
    npa = b.npa_command()
    for kind in dbs:
        n, m, seq, loop = SIZES[b.args.size][kind]
        migrations = workloads.write_sql(b.work / f"fleet-sql-{m}", m)
        targets = Targets(b, kind, n)
        label = {"sqlite": "files", "postgresql": "schemas", "mysql": "databases"}[kind]
        group = f"fleet {n} {label} x {m}"
        b.log(f"{group} on {kind}: creating targets")
        targets.create("main", n)
        targets.create("seq", seq)
        targets.create("loop", loop)

        def fleet(part: str, *extra: str) -> tuple[float, float, str]:
            head, rest = targets.fleet_args(part)
            return measured(npa + head + ["-m", str(migrations), "migrate", "up", *rest,
                                          *extra], b)

        b.log(f"  sequential sample ({seq} targets, --concurrency 1)")
        _, _, out = fleet("seq", "--concurrency", "1", "--json")
        result = json.loads(out.strip().splitlines()[-1])
        per_target = result["duration_ms"] / 1000 / seq
        b.log(f"  shell loop sample ({loop} targets)")
        started = time.perf_counter()
        for url in targets.single_urls("loop", loop):
            measured(npa + ["-d", url, "-m", str(migrations), "migrate", "up"], b)
        shell = (time.perf_counter() - started) / loop
        b.log(f"  fleet up ({n} targets)")
        up_s, up_rss, _ = fleet("main")
        b.log(f"  fleet no-op ({n} targets)")
        noop_s, noop_rss, _ = fleet("main")
        b.log(f"  fault: kill -9 of a fleet up over {n} fresh targets at half, then re-run")
        targets.create("fault", n)
        head, rest = targets.fleet_args("fault")
        command = npa + head + ["-m", str(migrations), "migrate", "up", *rest]
        killed_after = kill_midway(command + ["--json"], b, n // 2)
        rerun_s, rerun_rss, out = measured(command + ["--json"], b, check=False)
        failed = json.loads(out.strip().splitlines()[-1])["failed"]
        _, _, status = measured(npa + head + ["-m", str(migrations), "migrate", "status",
                                              *rest, "--json"], b, check=False)
        summary = json.loads(status)["summary"]
        converged = (not failed and summary["versions"] == {workloads.migration_id(m - 1): n}
                     and not summary["failed_migrations"] and not summary["problems"])
        outcome = "converged" if converged else f"{len(failed)} target(s) FAILED"
        b.log(f"  killed after {killed_after} targets; re-run: {outcome}"
              + "".join(f"\n    {f['tenant']}: {f['error'].splitlines()[0]}" for f in failed))
        for case, seconds, rss in (
                (f"sum of single targets (from {seq})", per_target * n, None),
                ("fleet up", up_s, up_rss),
                (f"shell loop of npa up (from {loop})", shell * n, None),
                ("fleet no-op (all up to date)", noop_s, noop_rss),
                (f"re-run after kill -9 at {killed_after} ({outcome})", rerun_s, rerun_rss)):
            b.results.append({"group": group, "db": kind, "case": case,
                              "median_s": seconds, "samples_s": [round(seconds, 4)],
                              "rss_mib": rss})
            b.log(f"  {case:<40} {seconds:8.3f}s" + (f"  {rss:.0f} MiB" if rss else ""))
        for part, count in (("main", n), ("seq", seq), ("loop", loop), ("fault", n)):
            targets.drop(part, count)


def kill_midway(command: list[str], b, after: int) -> int:
    """Start a fleet ``--json`` run and kill it with SIGKILL once ``after`` targets
    finished; returns how many had finished."""
    import signal

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=b.env, cwd=b.work, text=True)
    finished = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if '"event": "target_end"' in line:
            finished += 1
            if finished >= max(1, after):
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return finished


def measured(command: list[str], b, check: bool = True) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of ``command`` (a child process); with
    ``check``, a non-zero exit is an error."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=b.env, cwd=b.work,
                                text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read()
        if check and proc.returncode != 0:
            raise RuntimeError(f"{command[:6]} failed ({proc.returncode}):\n{text[-2000:]}\n"
                               f"{err.read()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, text  # Linux: ru_maxrss in KiB
