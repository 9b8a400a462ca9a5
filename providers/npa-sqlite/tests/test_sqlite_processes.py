"""Real processes against one SQLite file: concurrency and crash recovery."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

NPA = [sys.executable, "-m", "npa_migrations.cli"]


def write_migrations(folder: Path, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        (folder / f"2025010100{n:04d}_step_{n}.sql").write_text(
            "-- npa:up\n"
            f"CREATE TABLE t{n} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
            "FROM c WHERE x < 300000) SELECT x AS id FROM c;\n"
            f"INSERT INTO side_effects (migration) VALUES ({n});\n")


def npa(db: Path, folder: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(NPA + ["-d", f"sqlite:///{db}", "-m", str(folder), "migrate", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_eight_processes_apply_each_migration_once(tmp_path):
    db = tmp_path / "shared.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE side_effects (migration INTEGER)")
    folder = tmp_path / "migrations"
    write_migrations(folder, 20)
    # each migration holds SQLite's write lock for a while, so the waiters find the
    # database busy, not only the lock row taken: they must keep waiting, never fail
    procs = [npa(db, folder, "up", "--lock-timeout", "60") for _ in range(8)]
    codes = [p.wait(timeout=120) for p in procs]
    outputs = [p.stdout.read() + p.stderr.read() for p in procs]
    assert all(code in (0, 4) for code in codes), outputs
    assert codes.count(0) >= 1
    with sqlite3.connect(db) as conn:
        effects = [r[0] for r in conn.execute("SELECT migration FROM side_effects ORDER BY 1")]
        history = conn.execute("SELECT count(*), sum(success) FROM npa_migrations_history").fetchone()
    assert effects == list(range(20))  # each applied exactly once
    assert history == (20, 20)


@pytest.mark.slow
def test_killed_run_recovers_without_unlock(tmp_path):
    db = tmp_path / "crash.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE side_effects (migration INTEGER)")
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_slow.sql").write_text(
        "-- npa:up\n"
        "INSERT INTO side_effects (migration) VALUES (1);\n"
        "CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 300000000) SELECT count(*) AS n FROM c;\n")
    victim = npa(db, folder, "up")
    deadline = time.time() + 20
    while time.time() < deadline:  # wait until it holds the lock and is mid-migration
        time.sleep(0.2)
        try:
            with sqlite3.connect(db, timeout=0.1) as conn:
                if conn.execute("SELECT count(*) FROM npa_migrations_lock").fetchone()[0]:
                    break
        except sqlite3.OperationalError:
            continue
    time.sleep(0.5)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    # a new process: no manual unlock, the slow statement this time finishes quickly
    (folder / "20250101000000_slow.sql").write_text(
        "-- npa:up\nINSERT INTO side_effects (migration) VALUES (1);\n"
        "CREATE TABLE slow (n INTEGER);\n")
    survivor = npa(db, folder, "up", "--lock-timeout", "5")
    assert survivor.wait(timeout=60) == 0, survivor.stdout.read() + survivor.stderr.read()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM side_effects").fetchone()[0] == 1
        assert conn.execute("SELECT migration_id, success FROM npa_migrations_history").fetchall() \
            == [("20250101000000_Slow", 1)]
