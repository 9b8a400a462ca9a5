"""One measurement, run in a fresh interpreter by ``benchmarks/run.py``.

    python benchmarks/worker.py CASE JSON-ARGS

prints one JSON line ``{"seconds": ..., "rss_mib": ...}``. ``seconds`` times the work
only (library imports happen before the clock starts: interpreter and import start-up is
measured separately by the CLI cases); ``rss_mib`` is the process's peak resident set
size, imports included. Alembic cases run in the throwaway Alembic environment, so this
file imports nothing from npa at module level.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

HISTORY_DDL = ("CREATE TABLE raw_history (migration_id VARCHAR(255) NOT NULL PRIMARY KEY, "
               "checksum VARCHAR(100) NOT NULL, applied_at {ts} NOT NULL, "
               "execution_ms INTEGER NOT NULL, product_version VARCHAR(50) NOT NULL, "
               "success {bool} NOT NULL, steps_done INTEGER, error {text})")


# --------------------------------------------------------------------------------------
# raw driver
# --------------------------------------------------------------------------------------
def _raw_connect(kind: str, url: str):
    """(DB-API connection in autocommit mode, paramstyle marker, DDL type names)."""
    if kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.split(":///", 1)[1], isolation_level=None)
        return conn, "?", {"ts": "DATETIME", "bool": "BOOLEAN", "text": "TEXT"}
    if kind == "postgresql":
        import psycopg

        conn = psycopg.connect(_pg_dsn(url), autocommit=True)
        return conn, "%s", {"ts": "TIMESTAMP", "bool": "BOOLEAN", "text": "TEXT"}
    import pymysql

    conn = pymysql.connect(**_mysql_args(url), autocommit=True)
    return conn, "%s", {"ts": "DATETIME", "bool": "BOOL", "text": "TEXT"}


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _mysql_args(url: str) -> dict:
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("mysql+pymysql://", "mysql://"))
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 3306,
            "user": parts.username or "root", "password": parts.password or "",
            "database": parts.path.lstrip("/")}


def _read_sql(directory: str, skip: frozenset[str] = frozenset()
              ) -> list[tuple[str, list[str], list[str]]]:
    """(id, up statements, down statements) of every SQL file, in order; the files whose
    id is in ``skip`` are not read."""
    out = []
    for path in sorted(Path(directory).glob("*.sql")):
        if path.stem in skip:
            continue
        text = path.read_text(encoding="utf-8")
        up, down = text.split("-- npa:down\n")
        up = up.replace("-- npa:up\n", "")
        out.append((path.stem, [s.strip() for s in up.split(";") if s.strip()],
                    [s.strip() for s in down.split(";") if s.strip()]))
    return out


def _raw_apply(cur, ph: str, migrations) -> None:
    insert = (f"INSERT INTO raw_history (migration_id, checksum, applied_at, execution_ms, "
              f"product_version, success) VALUES ({', '.join([ph] * 6)})")
    for migration_id, up, _ in migrations:
        started = time.perf_counter()
        cur.execute("BEGIN")
        for statement in up:
            cur.execute(statement)
        cur.execute(insert, (migration_id, "sha256:0", dt.datetime.now(dt.timezone.utc)
                             .replace(tzinfo=None), int((time.perf_counter() - started) * 1000),
                             "raw", True))
        cur.execute("COMMIT")


def _raw_rollback(cur, ph: str, migrations) -> None:
    for migration_id, _, down in reversed(migrations):
        cur.execute("BEGIN")
        for statement in down:
            cur.execute(statement)
        cur.execute(f"DELETE FROM raw_history WHERE migration_id = {ph}", (migration_id,))
        cur.execute("COMMIT")


def raw_apply(a: dict) -> float:
    conn, ph, types = _raw_connect(a["kind"], a["url"])
    started = time.perf_counter()
    migrations = _read_sql(a["dir"])
    cur = conn.cursor()
    cur.execute(HISTORY_DDL.format(**types))
    _raw_apply(cur, ph, migrations)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_rollback(a: dict) -> float:
    conn, ph, types = _raw_connect(a["kind"], a["url"])
    migrations = _read_sql(a["dir"])
    cur = conn.cursor()
    cur.execute(HISTORY_DDL.format(**types))
    _raw_apply(cur, ph, migrations)  # set-up, not timed
    started = time.perf_counter()
    migrations = _read_sql(a["dir"])
    _raw_rollback(cur, ph, migrations)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_baseline(a: dict) -> float:
    """Set-up for the deploy case: the history table with every migration but the newest
    recorded as applied (npa's side of the database holds their tables)."""
    conn, ph, types = _raw_connect(a["kind"], a["url"])
    cur = conn.cursor()
    cur.execute(HISTORY_DDL.format(**types))
    started = time.perf_counter()
    recorded = [(migration_id, [], []) for migration_id, _, _ in _read_sql(a["dir"])[:-1]]
    _raw_apply(cur, ph, recorded)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_deploy(a: dict) -> float:
    """A deploy: read the history table, then read, apply and record only the migrations
    it does not list."""
    conn, ph, _ = _raw_connect(a["kind"], a["url"])
    started = time.perf_counter()
    cur = conn.cursor()
    cur.execute("SELECT migration_id FROM raw_history")
    applied = frozenset(row[0] for row in cur.fetchall())
    _raw_apply(cur, ph, _read_sql(a["dir"], skip=applied))
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_revert(a: dict) -> float:
    """Undo what :func:`raw_deploy` did: roll back the newest migration."""
    conn, ph, _ = _raw_connect(a["kind"], a["url"])
    started = time.perf_counter()
    _raw_rollback(conn.cursor(), ph, _read_sql(a["dir"])[-1:])
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_bulk(a: dict) -> float:
    """The driver's fastest path: executemany in one transaction (SQLite), COPY
    (PostgreSQL), multi-row INSERT batches (PyMySQL's executemany rewrites an INSERT
    into multi-row statements)."""
    kind, n = a["kind"], a["rows"]
    conn, ph, _ = _raw_connect(kind, a["url"])
    cur = conn.cursor()
    cur.execute("CREATE TABLE bulk (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100), qty INTEGER)")
    rows = ((i, "name-%d" % i, i % 1000) for i in range(n))
    started = time.perf_counter()
    cur.execute("BEGIN")
    if kind == "postgresql":
        with cur.copy("COPY bulk (id, name, qty) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        sql = f"INSERT INTO bulk (id, name, qty) VALUES ({ph}, {ph}, {ph})"
        import itertools

        while True:
            batch = list(itertools.islice(rows, 10_000))
            if not batch:
                break
            cur.executemany(sql, batch)
    cur.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_rebuild(a: dict) -> float:
    """Hand-written SQLite rebuild: create / copy / drop / rename in one transaction."""
    conn, _, _ = _raw_connect("sqlite", a["url"])
    _fill_big(conn, a["rows"])
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE big_new (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(200), "
                 "qty INTEGER NOT NULL)")
    conn.execute("INSERT INTO big_new (id, name, qty) SELECT id, name, qty FROM big")
    conn.execute("DROP TABLE big")
    conn.execute("ALTER TABLE big_new RENAME TO big")
    conn.execute("CREATE INDEX ix_big_qty ON big (qty)")
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _fill_big(conn, n: int) -> None:
    conn.execute("CREATE TABLE big (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, "
                 "qty INTEGER NOT NULL)")
    conn.execute("CREATE INDEX ix_big_qty ON big (qty)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO big VALUES (?, ?, ?)",
                     ((i, "name-%d" % i, i % 1000) for i in range(n)))
    conn.execute("COMMIT")


# --------------------------------------------------------------------------------------
# npa
# --------------------------------------------------------------------------------------
def _npa(a: dict):
    import sqlalchemy  # noqa: F401  (imported before the clock, like Alembic's)

    from npa_migrations import MigrationExecutor
    from npa_migrations.engine.executor import MigrationExecutor as _  # noqa: F401

    return MigrationExecutor


def npa_apply(a: dict) -> float:
    executor_cls = _npa(a)
    started = time.perf_counter()
    result = executor_cls(a["url"], migrations=a["dir"]).execute()
    elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"npa apply failed: {result.errors[0].message}")
    return elapsed


def npa_rollback(a: dict) -> float:
    executor_cls = _npa(a)
    result = executor_cls(a["url"], migrations=a["dir"]).execute()  # set-up, not timed
    assert result.success, result.errors
    count = len(result.migration_ids)
    started = time.perf_counter()
    result = executor_cls(a["url"], migrations=a["dir"]).rollback(steps=count)
    elapsed = time.perf_counter() - started
    if not result.success or len(result.migration_ids) != count:
        raise SystemExit(f"npa rollback failed: {result.errors}")
    return elapsed


def npa_bulk(a: dict) -> float:
    executor_cls = _npa(a)
    conn, _, _ = _raw_connect(a["kind"], a["url"])
    conn.cursor().execute("CREATE TABLE bulk (id INTEGER NOT NULL PRIMARY KEY, "
                          "name VARCHAR(100), qty INTEGER)")
    conn.close()
    started = time.perf_counter()
    result = executor_cls(a["url"], migrations=a["dir"]).execute()
    elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"npa bulk failed: {result.errors[0].message}")
    return elapsed


def npa_rebuild(a: dict) -> float:
    executor_cls = _npa(a)
    conn, _, _ = _raw_connect("sqlite", a["url"])
    _fill_big(conn, a["rows"])
    conn.close()
    started = time.perf_counter()
    result = executor_cls(a["url"], migrations=a["dir"]).execute()
    elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"npa rebuild failed: {result.errors[0].message}")
    return elapsed


def npa_baseline(a: dict) -> float:
    """Set-up for the status cases: record every migration as applied."""
    executor_cls = _npa(a)
    executor = executor_cls(a["url"], migrations=a["dir"])
    started = time.perf_counter()
    executor.baseline(executor.discover()[-1].id)
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------
# Alembic (runs in the throwaway Alembic environment)
# --------------------------------------------------------------------------------------
def _alembic_config(a: dict):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", a["dir"])
    config.set_main_option("sqlalchemy.url", a["url"])
    return config


def alembic_apply(a: dict) -> float:
    import sqlalchemy  # noqa: F401
    from alembic import command

    config = _alembic_config(a)
    started = time.perf_counter()
    command.upgrade(config, "head")
    return time.perf_counter() - started


def alembic_rollback(a: dict) -> float:
    import sqlalchemy  # noqa: F401
    from alembic import command

    config = _alembic_config(a)
    command.upgrade(config, "head")  # set-up, not timed
    started = time.perf_counter()
    command.downgrade(config, "base")
    return time.perf_counter() - started


CASES = {name: func for name, func in globals().items()
         if callable(func) and name.split("_", 1)[0] in ("raw", "npa", "alembic")
         and not name.startswith("_")}


def main() -> None:
    case, args = sys.argv[1], json.loads(sys.argv[2])
    seconds = CASES[case](args)
    print(json.dumps({"seconds": seconds, "rss_mib": round(peak_rss_mib(), 1)}))


def peak_rss_mib() -> float:
    """Peak resident set size of this process. ``VmHWM`` where /proc has it: unlike
    ``ru_maxrss`` it starts afresh at ``exec``, so the parent's size does not leak in."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


if __name__ == "__main__":
    main()
