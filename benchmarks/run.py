"""npa-migrations benchmarks: npa vs the raw driver vs Alembic, paired in one run.

    uv run python benchmarks/run.py            # full run (a few minutes)
    uv run python benchmarks/run.py --quick    # smaller sizes, about a minute
    uv run python benchmarks/run.py --smoke    # seconds; what CI runs

Every sample runs in a fresh interpreter (``benchmarks/worker.py``); samples of the
cases compared with each other are interleaved (raw, npa, Alembic, raw, npa, ...) and
the table shows medians and the ratio of medians, so machine noise hits all sides
alike. Databases: SQLite (a file in a temporary directory on disk), PostgreSQL and
MariaDB/MySQL at the URLs given (database ``npa_bench``, dropped and re-created before
each sample; a server that cannot be reached is skipped). Alembic is installed into
``benchmarks/.venv-alembic`` (gitignored) on first use. See docs/performance.md.

Groups (``--only``): ``apply`` (the Python API, in-process time), ``cliapply`` (what
users run: ``npa migrate up`` with its defaults, whole process, beside a whole raw
process: ``-n`` migrations, and a deploy's one new migration over ``-n`` - 1 applied),
``cli`` (start-up), ``noop`` (no-op ``up``/``status``), ``bigsql`` (one large
``.sql`` file against ``psql`` and the ``mariadb`` client), ``growth`` (apply and status
at each ``--scaling`` size), ``bulk``, ``rebuild``. The header records the machine and
its load (load averages and the busiest processes) before and after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads  # noqa: E402

WORKER = HERE / "worker.py"
ALEMBIC_VENV = HERE / ".venv-alembic"
DEFAULT_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/npa_bench",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/npa_bench",
}
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}


# --------------------------------------------------------------------------------------
# plumbing
# --------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="npa-bench-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        # warm, shared bytecode (as after a normal pip install), kept out of the checkout
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "npa-bench-pycache")
        self.env.pop("NPA_DATABASE_URL", None)
        self.env.pop("NPA_MIGRATIONS", None)
        # the same SQL on every side: npa-concurrent-index (installed in the workspace)
        # would turn CREATE INDEX into CONCURRENTLY outside a transaction on PostgreSQL
        self.env["NPA_DISABLE_PLUGINS"] = "concurrent_index"
        self.python = sys.executable
        self.alembic_python: str | None = None
        self.results: list[dict] = []
        self.counter = 0

    def log(self, text: str) -> None:
        if not self.args.quiet:
            print(text, file=sys.stderr, flush=True)

    # databases ------------------------------------------------------------------------
    def url(self, kind: str) -> str:
        if kind == "sqlite":
            self.counter += 1
            return f"sqlite:///{self.work / f'db{self.counter}.sqlite'}"
        return getattr(self.args, f"{kind}_url")

    def reset(self, kind: str, url: str) -> None:
        """An empty database for the next sample."""
        if kind == "sqlite":
            path = Path(url.split(":///", 1)[1])
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            return
        name = url.rsplit("/", 1)[1].split("?")[0]
        if kind == "postgresql":
            import psycopg

            admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
        else:
            import pymysql

            sys.path.insert(0, str(HERE))
            from worker import _mysql_args

            params = _mysql_args(url)
            params.pop("database")
            conn = pymysql.connect(**params, autocommit=True)
            try:
                cur = conn.cursor()
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cur.execute(f"CREATE DATABASE `{name}`")
            finally:
                conn.close()

    def available(self, kind: str) -> bool:
        if kind == "sqlite":
            return True
        try:
            self.reset(kind, self.url(kind))
            return True
        except Exception as exc:  # a server that is down is skipped, not fatal
            self.log(f"skipping {LABELS[kind]}: {type(exc).__name__}: {exc}")
            return False

    # processes ------------------------------------------------------------------------
    def worker(self, case: str, python: str | None = None, **args) -> dict:
        proc = subprocess.run([python or self.python, str(WORKER), case, json.dumps(args)],
                              capture_output=True, text=True, env=self.env, cwd=self.work)
        if proc.returncode != 0:
            raise RuntimeError(f"{case} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def wall(self, command: list[str], stdin: Path | None = None,
             env: dict[str, str] | None = None) -> dict:
        """Wall time of a whole command (start-up included) and, where GNU ``time`` is
        installed, its peak RSS (``%M``: measured by a small parent, so this harness's own
        size does not leak in through ``fork``). Output goes to a file, as to a redirected
        terminal, so a pipe's back-pressure is not timed."""
        gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
        with tempfile.TemporaryDirectory() as tmp:
            rss_file = Path(tmp) / "rss"
            if gnu_time:
                command = [gnu_time, "-q", "-f", "%M", "-o", str(rss_file), *command]
            with open(Path(tmp) / "out", "w+b") as out, \
                    open(stdin if stdin is not None else os.devnull, "rb") as source:
                started = time.perf_counter()
                proc = subprocess.run(command, stdin=source, stdout=out,
                                      stderr=subprocess.STDOUT, env={**self.env, **(env or {})},
                                      cwd=self.work)
                seconds = time.perf_counter() - started
                if proc.returncode != 0:
                    out.seek(0)
                    raise RuntimeError(f"{command} failed ({proc.returncode}):\n"
                                       f"{out.read()[-3000:].decode(errors='replace')}")
            rss = None
            if gnu_time and rss_file.exists():
                value = rss_file.read_text().strip().splitlines()
                rss = int(value[-1]) / 1024 if value and value[-1].isdigit() else None
        return {"seconds": seconds, "rss_mib": rss}

    def npa_command(self) -> list[str]:
        script = Path(self.python).parent / ("npa.exe" if os.name == "nt" else "npa")
        return [str(script)] if script.exists() else [self.python, "-m", "npa_migrations.cli"]

    def ensure_alembic(self) -> str | None:
        """The Alembic environment's python (created on first use)."""
        if self.args.no_alembic:
            return None
        if self.alembic_python:
            return self.alembic_python
        bindir = "Scripts" if os.name == "nt" else "bin"
        python = ALEMBIC_VENV / bindir / ("python.exe" if os.name == "nt" else "python")
        packages = ["alembic", "psycopg[binary]", "pymysql"]
        try:
            check = subprocess.run([str(python), "-c", "import alembic, psycopg, pymysql"],
                                   capture_output=True) if python.exists() else None
            if check is None or check.returncode != 0:
                self.log(f"installing Alembic into {ALEMBIC_VENV} ...")
                uv = shutil.which("uv")
                if uv:
                    subprocess.run([uv, "venv", "-q", "--python", sys.executable,
                                    str(ALEMBIC_VENV)], check=True)
                    subprocess.run([uv, "pip", "install", "-q", "--python", str(python),
                                    *packages], check=True)
                else:
                    subprocess.run([sys.executable, "-m", "venv", str(ALEMBIC_VENV)], check=True)
                    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages],
                                   check=True)
            version = subprocess.run([str(python), "-c", "import alembic, sqlalchemy; "
                                      "print(alembic.__version__, sqlalchemy.__version__)"],
                                     capture_output=True, text=True, check=True).stdout.split()
            self.alembic_versions = version
        except Exception as exc:  # no network: the table says so
            self.log(f"Alembic unavailable ({exc}); its columns stay empty")
            self.args.no_alembic = True
            return None
        self.alembic_python = str(python)
        return self.alembic_python

    # measuring ------------------------------------------------------------------------
    def paired(self, group: str, db: str, cases: list[tuple[str, callable]],
               repeat: int | None = None) -> None:
        """Run each case ``repeat`` times, interleaved; record medians."""
        samples: dict[str, list[dict]] = {name: [] for name, _ in cases}
        for _ in range(repeat or self.args.repeat):
            for name, run in cases:
                samples[name].append(run())
        for name, values in samples.items():
            secs = [v["seconds"] for v in values]
            rss = [v["rss_mib"] for v in values if v.get("rss_mib") is not None]
            row = {"group": group, "db": db, "case": name, "median_s": statistics.median(secs),
                   "samples_s": [round(s, 4) for s in secs],
                   "rss_mib": max(rss) if rss else None}
            self.results.append(row)
            self.log(f"  {group:<28} {LABELS.get(db, db):<14} {name:<22} "
                     f"{row['median_s']:8.3f}s  {secs}")

    def sample(self, kind: str, case: str, python: str | None = None, **args):
        def run() -> dict:
            url = self.url(kind)
            self.reset(kind, url)
            return self.worker(case, python, kind=kind, url=url, **args)
        return run


# --------------------------------------------------------------------------------------
# the benchmark groups
# --------------------------------------------------------------------------------------
def bench_apply(b: Bench, dbs: list[str]) -> None:
    n = b.args.n
    sql = workloads.write_sql(b.work / f"sql-{n}", n)
    py = workloads.write_python(b.work / f"py-{n}", n)
    alembic_python = b.ensure_alembic()
    if alembic_python:
        a_sql = workloads.write_alembic(b.work / f"alembic-sql-{n}", n, "sql")
        a_ops = workloads.write_alembic(b.work / f"alembic-ops-{n}", n, "ops")
    for db in dbs:
        b.log(f"apply / roll back {n} migrations on {LABELS[db]}")
        cases = [("raw", b.sample(db, "raw_apply", dir=str(sql))),
                 ("npa sql", b.sample(db, "npa_apply", dir=str(sql))),
                 ("npa python", b.sample(db, "npa_apply", dir=str(py)))]
        if alembic_python:
            cases += [("alembic sql", b.sample(db, "alembic_apply", alembic_python,
                                               dir=str(a_sql))),
                      ("alembic ops", b.sample(db, "alembic_apply", alembic_python,
                                               dir=str(a_ops)))]
        b.paired(f"apply {n}", db, cases)
        cases = [("raw", b.sample(db, "raw_rollback", dir=str(sql))),
                 ("npa sql", b.sample(db, "npa_rollback", dir=str(sql)))]
        if alembic_python:
            cases.append(("alembic sql", b.sample(db, "alembic_rollback", alembic_python,
                                                  dir=str(a_sql))))
        b.paired(f"roll back {n}", db, cases)


def bench_cli(b: Bench, dbs: list[str]) -> None:
    b.log("CLI start-up")
    npa = b.npa_command()
    cases = [("python -c pass", lambda: b.wall([b.python, "-c", "pass"])),
             ("npa --help", lambda: b.wall(npa + ["--help"])),
             ("npa migrate --help", lambda: b.wall(npa + ["migrate", "--help"]))]
    b.paired("cold start", "-", cases, repeat=1 if b.args.smoke else max(5, b.args.repeat))


RAW_SELECT = {
    "sqlite": "import sqlite3,sys; c=sqlite3.connect(sys.argv[1].split(':///',1)[1]); "
              "c.execute('SELECT * FROM npa_migrations_history').fetchall()",
    "postgresql": "import psycopg,sys; c=psycopg.connect(sys.argv[1].replace('+psycopg','')); "
                  "c.execute('SELECT * FROM npa_migrations_history').fetchall()",
    "mysql": "import pymysql,sys; sys.path.insert(0, sys.argv[2]); from worker import _mysql_args; "
             "c=pymysql.connect(**_mysql_args(sys.argv[1])); k=c.cursor(); "
             "k.execute('SELECT * FROM npa_migrations_history'); k.fetchall()",
}


def bench_noop(b: Bench, dbs: list[str]) -> None:
    """No-op ``up`` and ``status`` with N applied, against a raw SELECT of the history."""
    npa = b.npa_command()
    n = b.args.n
    for db in dbs:
        for style in ("sql", "python"):
            if style == "python" and db != "sqlite" and not b.args.full_noop:
                continue
            directory = (workloads.write_sql(b.work / f"sql-{n}", n) if style == "sql"
                         else workloads.write_python(b.work / f"py-{n}", n))
            _noop_group(b, db, directory, f"no-op {n} applied ({style})", npa)
    # scaling, on SQLite
    for size in b.args.scaling:
        for style in ("sql", "python"):
            directory = (workloads.write_sql(b.work / f"sql-{size}", size) if style == "sql"
                         else workloads.write_python(b.work / f"py-{size}", size))
            _noop_group(b, "sqlite", directory, f"scaling {style}", npa, label=str(size),
                        only_status=True)


def as_deployed(directory: Path) -> None:
    """Give the migration files the age a deploy's files have: not written just now."""
    past = time.time() - 3600
    for path in directory.iterdir():
        os.utime(path, (past, past))


def _noop_group(b: Bench, db: str, directory: Path, group: str, npa: list[str],
                label: str | None = None, only_status: bool = False) -> None:
    url = b.url(db)
    b.reset(db, url)
    b.log(f"{group} on {LABELS[db]}: setting up ({directory.name})")
    b.worker("npa_baseline", kind=db, url=url, dir=str(directory))
    base = npa + ["-d", url, "-m", str(directory), "migrate"]
    full = {"NPA_UPTODATE_RECORDS": "0"}  # the full command, without a recorded answer
    status = lambda: b.wall(base + ["status", "--json"])  # noqa: E731
    status_full = lambda: b.wall(base + ["status", "--json"], env=full)  # noqa: E731
    up = lambda: b.wall(base + ["up"])  # noqa: E731
    as_deployed(directory)
    status(), up()  # fill the checksum cache and record the answers, as an earlier run would
    if only_status:
        b.paired(group, label or db, [("npa status", status),
                                      ("npa status (full)", status_full)])
        return
    cases = [("raw SELECT", lambda: b.wall([b.python, "-c", RAW_SELECT[db], url, str(HERE)])),
             ("npa up (no-op)", up), ("npa status", status),
             ("npa up (no-op, full)", lambda: b.wall(base + ["up"], env=full)),
             ("npa status (full)", status_full)]
    b.paired(group, db, cases)


def bench_bulk(b: Bench, dbs: list[str]) -> None:
    rows = b.args.bulk_rows
    directory = workloads.write_bulk_python(b.work / f"bulk-{rows}", rows)
    for db in dbs:
        b.log(f"bulk_insert {rows:,} rows on {LABELS[db]}")
        b.paired(f"bulk_insert {rows:,}", db, [
            ("raw fastest", b.sample(db, "raw_bulk", rows=rows)),
            ("npa bulk_insert", b.sample(db, "npa_bulk", rows=rows, dir=str(directory)))])


def bench_rebuild(b: Bench, dbs: list[str]) -> None:
    rows = b.args.rebuild_rows
    directory = workloads.write_rebuild_python(b.work / "rebuild")
    b.log(f"SQLite rebuild of {rows:,} rows")
    b.paired(f"sqlite rebuild {rows:,}", "sqlite", [
        ("raw rebuild", b.sample("sqlite", "raw_rebuild", rows=rows)),
        ("npa alter_column", b.sample("sqlite", "npa_rebuild", rows=rows, dir=str(directory)))])


def bench_cliapply(b: Bench, dbs: list[str]) -> None:
    """What users run: ``npa migrate up`` with its defaults (verification on, the event
    log, the human output to a file), whole process, beside a whole raw-driver process
    doing the same work (interpreter and imports included on both sides)."""
    n = b.args.n
    sql = workloads.write_sql(b.work / f"sql-{n}", n)
    py = workloads.write_python(b.work / f"py-{n}", n)
    npa = b.npa_command()
    for db in dbs:
        b.log(f"CLI apply {n} migrations on {LABELS[db]}")

        def raw(db=db) -> dict:
            url = b.url(db)
            b.reset(db, url)
            return b.wall([b.python, str(WORKER), "raw_apply",
                           json.dumps({"kind": db, "url": url, "dir": str(sql)})])

        def cli(directory: Path, *flags: str, db=db) -> dict:
            url = b.url(db)
            b.reset(db, url)
            return b.wall(npa + ["-d", url, "-m", str(directory), "migrate", "up", *flags])

        b.paired(f"CLI apply {n}", db, [
            ("raw process", raw),
            ("npa up", lambda: cli(sql)),
            ("npa up --no-verify", lambda: cli(sql, "--no-verify")),
            ("npa up (python)", lambda: cli(py))])
        _deploy_group(b, db, sql, npa)


def _deploy_group(b: Bench, db: str, directory: Path, npa: list[str]) -> None:
    """CLI apply 1 (deploy): what every deploy runs. All the migrations of ``directory``
    but the newest are applied (by npa, once; the raw side's history table records them
    too), then ``npa migrate up`` applies the new one, against a raw process that reads
    its history table and applies and records the one migration it does not list. After
    each sample the migration is rolled back (not timed): ``npa migrate down --steps 1``
    for npa, the raw down statements for the raw side."""
    url = b.url(db)
    b.reset(db, url)
    as_deployed(directory)
    base = npa + ["-d", url, "-m", str(directory), "migrate"]
    applied = len(list(directory.glob("*.sql"))) - 1
    b.log(f"CLI apply 1 (deploy) on {LABELS[db]}: setting up ({applied} applied)")
    b.wall(base + ["up", "--target", workloads.migration_id(applied - 1)])
    args = {"kind": db, "url": url, "dir": str(directory)}
    b.worker("raw_baseline", **args)

    def raw() -> dict:
        sample = b.wall([b.python, str(WORKER), "raw_deploy", json.dumps(args)])
        b.worker("raw_revert", **args)
        return sample

    def up() -> dict:
        sample = b.wall(base + ["up"])
        b.wall(base + ["down", "--steps", "1"])
        return sample

    b.paired("CLI apply 1 (deploy)", db, [("raw process", raw), ("npa up", up)])


def bench_bigsql(b: Bench, dbs: list[str]) -> None:
    """One ``.sql`` migration of ``--big-statements`` statements (a data dump) through
    ``npa migrate up`` against the database's own client running the same statements in
    one transaction (``psql --single-transaction``; the ``mariadb`` client reading a
    script wrapped in ``START TRANSACTION`` / ``COMMIT``)."""
    n = b.args.big_statements
    migrations, plain, mysql_script = workloads.write_big_sql(b.work / f"big-{n}", n)
    npa = b.npa_command()
    group = f"large .sql {n:,} statements ({plain.stat().st_size / 1e6:.0f} MB)"
    for db in dbs:
        url = b.url(db)
        if db == "postgresql" and shutil.which("psql"):
            name = "psql"
            client = [shutil.which("psql") or "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                      "--single-transaction", "-d",
                      url.replace("postgresql+psycopg://", "postgresql://"), "-f", str(plain)]
            stdin = None
        elif db == "mysql" and (shutil.which("mariadb") or shutil.which("mysql")):
            from worker import _mysql_args

            name = "mariadb client"
            params = _mysql_args(url)
            client = [shutil.which("mariadb") or shutil.which("mysql") or "mysql", "--batch",
                      "-h", params["host"], "-P", str(params["port"]), "-u", params["user"],
                      *([f"-p{params['password']}"] if params["password"] else []),
                      params["database"]]
            stdin = mysql_script
        else:
            b.log(f"large .sql: no client to compare with on {LABELS[db]}; skipped")
            continue
        b.log(f"{group} on {LABELS[db]}")

        def run_client(db=db, url=url, client=client, stdin=stdin) -> dict:
            b.reset(db, url)
            return b.wall(client, stdin=stdin)

        def run_npa(db=db, url=url) -> dict:
            b.reset(db, url)
            return b.wall(npa + ["-d", url, "-m", str(migrations), "migrate", "up"])

        b.paired(group, db, [(name, run_client), ("npa up", run_npa)])


def bench_growth(b: Bench, dbs: list[str]) -> None:
    """Apply (whole ``npa migrate up`` process, against a whole raw process) and then
    ``status`` at each ``--scaling`` size, on SQLite: the curve should be a line."""
    npa = b.npa_command()
    for size in b.args.scaling:
        directory = workloads.write_sql(b.work / f"sql-{size}", size)
        last: dict[str, str] = {}

        def raw(directory=directory) -> dict:
            url = b.url("sqlite")
            return b.wall([b.python, str(WORKER), "raw_apply",
                           json.dumps({"kind": "sqlite", "url": url, "dir": str(directory)})])

        def up(directory=directory) -> dict:
            last["url"] = b.url("sqlite")
            return b.wall(npa + ["-d", last["url"], "-m", str(directory), "migrate", "up"])

        def status(directory=directory) -> dict:  # the database the last 'up' built
            return b.wall(npa + ["-d", last["url"], "-m", str(directory), "migrate",
                                 "status", "--json"])

        b.log(f"growth: {size} migrations on SQLite")
        b.paired("growth (apply, status)", str(size),
                 [("raw process", raw), ("npa up", up), ("npa status", status)])


from fleet import bench_fleet  # noqa: E402

GROUPS = {"apply": bench_apply, "cli": bench_cli, "cliapply": bench_cliapply,
          "noop": bench_noop, "bigsql": bench_bigsql, "growth": bench_growth,
          "bulk": bench_bulk, "rebuild": bench_rebuild, "fleet": bench_fleet}


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
BASELINES = {"raw": None, "raw SELECT": None, "raw fastest": None, "raw rebuild": None,
             "python -c pass": None, "raw process": None, "psql": None, "mariadb client": None}
#: baselines named after their sample size (the fleet group's "sum of single targets")
BASELINE_PREFIXES = ("sum of single targets",)


def is_baseline(case: str) -> bool:
    """Whether ``case`` is the one its group's ratios are taken against."""
    return case in BASELINES or case.startswith(BASELINE_PREFIXES)


def report(b: Bench) -> str:
    """The table. ``ratio`` is the median of the per-round ratios (each case's sample over
    the baseline's sample of the same interleaved round): on a shared machine whose
    speed drifts, a pair taken seconds apart is compared, not two medians that may come
    from different minutes. ``+N ms`` for start-up rows, the same way."""
    return table(b.results)


def table(results: list[dict]) -> str:
    lines = ["| benchmark | database | case | median | ratio | peak RSS |",
             "|---|---|---|---:|---:|---:|"]
    base: dict[tuple, list[float]] = {}
    for row in results:
        if is_baseline(row["case"]):
            base[(row["group"], row["db"])] = row["samples_s"]
    for row in results:
        ref = base.get((row["group"], row["db"]))
        if is_baseline(row["case"]) or ref is None or row["case"] == "npa status" \
                and row["group"].startswith("growth"):  # status has no raw twin there
            ratio = ""
        elif row["group"] == "cold start":
            extra = statistics.median([a - r for a, r in zip(row["samples_s"], ref)])
            ratio = f"+{extra * 1000:.0f} ms"
        else:
            ratio = f"{statistics.median([a / r for a, r in zip(row['samples_s'], ref)]):.2f}×"
        rss = f"{row['rss_mib']:.0f} MiB" if row.get("rss_mib") else ""
        lines.append(f"| {row['group']} | {LABELS.get(row['db'], row['db'])} | {row['case']} | "
                     f"{row['median_s']:.3f} s | {ratio} | {rss} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}")


def load() -> str:
    """The machine's load now: load averages and the busiest processes (what else ran)."""
    try:
        one, five, fifteen = os.getloadavg()
        text = f"load {one:.2f}/{five:.2f}/{fifteen:.2f}"
    except OSError:
        text = "load unknown"
    try:
        ps = subprocess.run(["ps", "-eo", "pcpu=,comm=", "--sort=-pcpu"], capture_output=True,
                            text=True, timeout=10).stdout.splitlines()
        busy = [" ".join(line.split()[::-1]) + "%" for line in ps[:8]
                if line.split() and line.split()[-1] != "ps" and float(line.split()[0]) >= 5]
        if busy:
            text += " (busiest: " + ", ".join(busy[:4]) + ")"
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, seconds (CI)")
    p.add_argument("-n", type=int, help="migrations per apply/rollback/no-op run (1000)")
    p.add_argument("--repeat", type=int, help="samples per case (3); the median is shown")
    p.add_argument("--scaling", help="comma-separated sizes for status scaling "
                   "(1000,5000,10000)")
    p.add_argument("--bulk-rows", type=int, help="rows for bulk_insert (1000000)")
    p.add_argument("--big-statements", type=int,
                   help="statements in the large .sql file (143212, about 20 MB)")
    p.add_argument("--rebuild-rows", type=int, help="rows in the rebuilt table (1000000)")
    p.add_argument("--db", default="sqlite,postgresql,mysql",
                   help="databases to run (sqlite,postgresql,mysql)")
    p.add_argument("--only", help="comma-separated groups: " + ",".join(GROUPS))
    p.add_argument("--postgresql-url", default=os.environ.get(
        "NPA_BENCH_POSTGRES_URL", DEFAULT_URLS["postgresql"]))
    p.add_argument("--mysql-url", default=os.environ.get(
        "NPA_BENCH_MYSQL_URL", DEFAULT_URLS["mysql"]))
    p.add_argument("--no-alembic", action="store_true", help="skip the Alembic columns")
    p.add_argument("--full-noop", action="store_true",
                   help="also time no-op runs of Python migrations on the servers")
    p.add_argument("--workdir", help="keep generated workloads and databases here")
    p.add_argument("--json", dest="json_out", help="also write the raw results as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="only print the table")
    args = p.parse_args(argv)
    size = ("smoke" if args.smoke else "quick" if args.quick else "full")
    defaults = {
        "full": dict(n=1000, repeat=3, scaling="1000,3000,10000", bulk_rows=1_000_000,
                     rebuild_rows=1_000_000, big_statements=143_212),
        "quick": dict(n=300, repeat=3, scaling="300,1000", bulk_rows=100_000,
                      rebuild_rows=100_000, big_statements=20_000),
        "smoke": dict(n=5, repeat=1, scaling="5", bulk_rows=500, rebuild_rows=500,
                      big_statements=200),
    }[size]
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.smoke:
        args.no_alembic = True
    args.scaling = [int(s) for s in str(args.scaling).split(",") if s]
    args.size = size
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    b = Bench(args)
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    dbs = [d for d in dbs if b.available(d)]
    groups = args.only.split(",") if args.only else list(GROUPS)
    started = time.perf_counter()
    load_before = load()
    try:
        for name in groups:
            GROUPS[name](b, dbs)
    finally:
        if not args.workdir:
            shutil.rmtree(b.work, ignore_errors=True)
    table = report(b)
    header = (f"npa-migrations benchmark ({args.size}: n={args.n}, repeat={args.repeat}, "
              f"bulk={args.bulk_rows:,}, rebuild={args.rebuild_rows:,}); {machine()}; "
              f"databases: {', '.join(LABELS[d] for d in dbs)}; "
              f"{time.perf_counter() - started:.0f}s; before: {load_before}; after: {load()}")
    if getattr(b, "alembic_versions", None):
        header += f"; Alembic {b.alembic_versions[0]} (SQLAlchemy {b.alembic_versions[1]})"
    print(header)
    print()
    print(table)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(
            {"header": header, "results": b.results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
