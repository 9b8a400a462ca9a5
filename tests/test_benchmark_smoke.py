"""The benchmark harness at tiny sizes, so it cannot rot (never asserts timings).

Runs ``benchmarks/run.py --smoke`` on SQLite, and the apply/bulk groups on PostgreSQL
and MariaDB at ``NPA_TEST_POSTGRES_URL`` / ``NPA_TEST_MYSQL_URL`` (default: the local
servers), in a separate database ``npa_bench_smoke_<test database>`` dropped and
re-created by the harness (named after the test database, so runs against different test
databases of one server never drop each other's).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
ROW = re.compile(r"^\| (?P<group>[^|]+) \| (?P<db>[^|]+) \| (?P<case>[^|]+) \| "
                 r"(?P<median>\d+\.\d{3}) s \| (?P<ratio>[^|]*) \| (?P<rss>[^|]*) \|$")


def _run(tmp_path: Path, *args: str) -> tuple[list[dict], dict]:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(RUN), "--smoke", "-q", "--json", str(out),
                           "--workdir", str(tmp_path / "work"), *args],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("npa-migrations benchmark (smoke"), lines[0]
    assert lines[2] == "| benchmark | database | case | median | ratio | peak RSS |"
    assert lines[3] == "|---|---|---|---:|---:|---:|"
    rows = []
    for line in lines[4:]:
        match = ROW.match(line)
        assert match, f"malformed table row: {line!r}"
        rows.append({k: v.strip() for k, v in match.groupdict().items()})
    return rows, json.loads(out.read_text(encoding="utf-8"))


DEFAULTS = {"NPA_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:5432/test",
            "NPA_TEST_MYSQL_URL": "mysql+pymysql://root@127.0.0.1:3306/test"}


def _server_url(env: str, scheme: str) -> str:
    url = os.environ.get(env) or DEFAULTS[env]
    base, test_database = url.split("://", 1)[1].split("?", 1)[0].rsplit("/", 1)
    return f"{scheme}://{base}/npa_bench_smoke_{test_database}"


@pytest.mark.slow
def test_benchmark_smoke_sqlite(tmp_path):
    rows, raw = _run(tmp_path, "--db", "sqlite")
    groups = {r["group"] for r in rows}
    assert {"apply 5", "roll back 5", "cold start", "no-op 5 applied (sql)",
            "no-op 5 applied (python)", "scaling sql", "scaling python", "bulk_insert 500",
            "sqlite rebuild 500"} <= groups
    cases = {(r["group"], r["case"]) for r in rows}
    assert ("apply 5", "raw") in cases and ("apply 5", "npa sql") in cases
    assert ("apply 5", "npa python") in cases and ("roll back 5", "npa sql") in cases
    assert ("CLI apply 5", "raw process") in cases and ("CLI apply 5", "npa up") in cases
    assert ("CLI apply 5", "npa up --no-verify") in cases
    assert {("CLI apply 1 (deploy)", "raw process"), ("CLI apply 1 (deploy)", "npa up")} <= cases
    assert {(r["db"], r["case"]) for r in rows if r["group"] == "growth (apply, status)"} \
        == {("5", "raw process"), ("5", "npa up"), ("5", "npa status")}
    for row in rows:  # every comparison has its ratio against the baseline of its group
        if row["case"].startswith("npa") and row["group"] != "cold start" \
                and not row["group"].startswith("scaling") \
                and (row["group"], row["case"]) != ("growth (apply, status)", "npa status"):
            assert row["ratio"].endswith("×"), row
    assert all(r["rss"].endswith("MiB") for r in rows if r["group"] == "CLI apply 5")
    assert {r["db"] for r in rows if r["group"] == "scaling sql"} == {"5"}
    assert all(r["samples_s"] for r in raw["results"])


@pytest.mark.slow
def test_benchmark_smoke_servers(tmp_path):
    pg = _server_url("NPA_TEST_POSTGRES_URL", "postgresql+psycopg")
    my = _server_url("NPA_TEST_MYSQL_URL", "mysql+pymysql")
    dbs = ["postgresql", "mysql"]
    args = ["--db", ",".join(dbs), "--only", "apply,bulk,bigsql", "--postgresql-url", pg,
            "--mysql-url", my]
    rows, _ = _run(tmp_path, *args)
    labels = {"postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}
    clients = {"postgresql": "psql", "mysql": "mariadb client"}
    big = "large .sql 200 statements (0 MB)"
    for db in dbs:
        cases = {(r["group"], r["case"]) for r in rows if r["db"] == labels[db]}
        assert {("apply 5", "raw"), ("apply 5", "npa sql"), ("roll back 5", "npa sql"),
                ("bulk_insert 500", "npa bulk_insert")} <= cases, (db, cases)
        programs = ["psql"] if db == "postgresql" else ["mariadb", "mysql"]
        if any(shutil.which(program) for program in programs):  # the client to compare with
            assert {(big, "npa up"), (big, clients[db])} <= cases, (db, cases)
