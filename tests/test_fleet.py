"""Fleets on SQLite files: targets, shards, the failure policy, output, and real
processes (two overlapping fleet runs; a fleet runner killed with SIGKILL and run again).
The PostgreSQL schemas and MariaDB databases are in test_fleet_servers.py."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet_support import IDS, npa, write_migrations
from npa_migrations import FleetExecutor, Tenant
from npa_migrations.cli import cli
from npa_migrations.engine.tenants import (parse_shard, read_tenants_file, select_shard,
                                           shard_of)
from npa_migrations.errors import ConfigurationError

TARGETS = 30


def rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT n FROM runs ORDER BY n")]


def applied(path: Path) -> list[str]:
    """The successfully applied ids ([] before the history table exists)."""
    with sqlite3.connect(path) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = "
                            "'npa_migrations_history'").fetchall():
            return []
        return [r[0] for r in conn.execute("SELECT migration_id FROM npa_migrations_history "
                                           "WHERE success ORDER BY migration_id")]


@pytest.fixture
def fleet(tmp_path):
    """``TARGETS`` SQLite files listed in tmp_path/tenants.txt (relative paths), the
    migrations in tmp_path/migrations."""
    write_migrations(tmp_path / "migrations")
    (tmp_path / "dbs").mkdir()
    lines = ["# the fleet", ""] + [f"sqlite:///dbs/t{i:02}.sqlite  # tenant {i}"
                                   for i in range(TARGETS)]
    (tmp_path / "tenants.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def files(root: Path) -> list[Path]:
    return [root / "dbs" / f"t{i:02}.sqlite" for i in range(TARGETS)]


# targets and shards ------------------------------------------------------------------------
def test_shards_cover_every_target_exactly_once():
    names = [f"tenant_{i}" for i in range(500)]
    tenants = [Tenant(n, f"sqlite:///{n}") for n in names]
    for count in (1, 2, 3, 7, 16):
        shards = [select_shard(tenants, i, count) for i in range(count)]
        assert sorted(t.name for s in shards for t in s) == sorted(names)
        if count > 1:  # a spread, not everything in one shard
            assert max(len(s) for s in shards) < len(names) * 0.75


def test_shard_is_a_stable_hash_not_pythons_salted_hash():
    # sha256("tenant_42")[:8] as an unsigned integer, modulo 7: the same on every machine
    assert shard_of("tenant_42", 7) == int.from_bytes(
        __import__("hashlib").sha256(b"tenant_42").digest()[:8], "big") % 7
    assert [shard_of("acme", 4), shard_of("globex", 4)] == [shard_of("acme", 4),
                                                             shard_of("globex", 4)]


@pytest.mark.parametrize("text", ["3", "4/4", "-1/2", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text):
    with pytest.raises(ConfigurationError, match="--shard"):
        parse_shard(text)


def test_tenants_file_comments_relative_paths_and_duplicates(fleet, tmp_path):
    tenants = read_tenants_file(fleet / "tenants.txt")
    assert len(tenants) == TARGETS
    assert tenants[0].name == "sqlite:///dbs/t00.sqlite"
    assert str(tenants[0].database).endswith(str(fleet / "dbs" / "t00.sqlite"))
    twice = tmp_path / "twice.txt"
    twice.write_text("sqlite:///a.db\n\nsqlite:///a.db\n")
    with pytest.raises(ConfigurationError, match=r"twice.txt, line 3: .*listed twice"):
        read_tenants_file(twice)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigurationError, match="lists no database URL"):
        read_tenants_file(empty)


# the Python API --------------------------------------------------------------------------
def test_fleet_up_then_no_op_then_status_and_down(fleet):
    tenants = read_tenants_file(fleet / "tenants.txt")
    result = FleetExecutor(tenants, fleet / "migrations", concurrency=4).execute()
    assert result.success and result.exit_code == 0
    assert all(o.value.migration_ids == IDS for o in result.outcomes)
    assert all(rows(p) == [1, 2, 3] for p in files(fleet))

    again = FleetExecutor(tenants, fleet / "migrations", concurrency=4).execute()
    assert again.success and all(o.value.migrations_applied == 0 for o in again.outcomes)

    status = FleetExecutor(tenants, fleet / "migrations").status()
    assert {o.value.status.current for o in status.outcomes} == {IDS[-1]}
    assert all(o.value.locked_by is None for o in status.outcomes)

    down = FleetExecutor(tenants, fleet / "migrations").rollback_to(IDS[0][:14])
    assert down.success and all(rows(p) == [1] for p in files(fleet))


def broken(path: Path) -> None:
    """A target whose first migration fails: its table already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (other TEXT)")


def test_max_failures_stops_starting_targets_and_names_each_failure(fleet):
    tenants = read_tenants_file(fleet / "tenants.txt")
    for i in (3, 7, 20):
        broken(files(fleet)[i])
    result = FleetExecutor(tenants, fleet / "migrations", concurrency=1,
                           max_failures=2).execute()
    assert [o.tenant for o in result.failed] == [tenants[3].name, tenants[7].name]
    assert all("runs" in o.error and o.exit_code == 1 for o in result.failed)
    assert [o.tenant for o in result.not_started] == [t.name for t in tenants[8:]]
    assert "--max-failures 2" in result.stopped and result.exit_code == 1
    assert all(rows(p) == [1, 2, 3] for i, p in enumerate(files(fleet)[:8]) if i not in (3, 7))
    # a re-run resumes: the done ones are no-ops, the rest are migrated, the broken fail
    rerun = FleetExecutor(tenants, fleet / "migrations", concurrency=4).execute()
    assert {o.tenant for o in rerun.failed} == {tenants[i].name for i in (3, 7, 20)}
    assert sum(o.value.migrations_applied for o in rerun.done) == 3 * (TARGETS - 8 - 1)


def test_canary_failure_stops_the_fleet(fleet):
    tenants = read_tenants_file(fleet / "tenants.txt")
    broken(files(fleet)[1])
    result = FleetExecutor(tenants, fleet / "migrations", concurrency=4, canary=3).execute()
    assert [o.tenant for o in result.failed] == [tenants[1].name]
    assert len(result.done) == 2 and len(result.not_started) == TARGETS - 3
    assert result.stopped.startswith("canary: 1 of the first 3")
    assert not files(fleet)[5].exists()


# the CLI ---------------------------------------------------------------------------------
def test_cli_json_events_carry_the_tenant_and_status_summarises(fleet, monkeypatch):
    monkeypatch.chdir(fleet)
    runner = CliRunner()
    out = runner.invoke(cli, ["migrate", "up", "--tenants", "tenants.txt", "--shard", "1/3",
                              "--json"])
    assert out.exit_code == 0, out.output
    events = [json.loads(line) for line in out.output.splitlines()]
    assert all("tenant" in e for e in events)
    shard = {e["tenant"] for e in events if e["event"] == "target_end"}
    expected = {t.name for t in select_shard(read_tenants_file("tenants.txt"), 1, 3)}
    assert shard == expected
    assert {e["tenant"] for e in events if e["event"] == "migration_end"} == expected
    assert events[-1]["event"] == "fleet_result" and events[-1]["migrations"] == 3 * len(shard)

    out = runner.invoke(cli, ["migrate", "status", "--tenants", "tenants.txt", "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)["summary"]
    assert summary["versions"] == {IDS[-1]: len(shard), "(none)": TARGETS - len(shard)}
    out = runner.invoke(cli, ["migrate", "status", "--tenants", "tenants.txt", "--exit-code"])
    assert out.exit_code == 5
    assert "with pending migrations" in out.output

    out = runner.invoke(cli, ["migrate", "up", "--tenants", "tenants.txt", "--sql"])
    assert out.exit_code == 2 and "--sql works on one database" in out.output
    out = runner.invoke(cli, ["migrate", "up", "--shard", "0/2"])
    assert out.exit_code == 2 and "go(es) with --tenants" in out.output


def test_config_fleet_section(fleet, monkeypatch):
    monkeypatch.chdir(fleet / "dbs")
    (fleet / "npa.toml").write_text('migrations = "migrations"\n[fleet]\n'
                                    'tenants = "tenants.txt"\nconcurrency = 3\n')
    out = CliRunner().invoke(cli, ["--config", str(fleet / "npa.toml"), "migrate", "up"])
    assert out.exit_code == 0, out.output
    assert "concurrency 3" in out.output and f"{TARGETS} of {TARGETS} target(s) done" in out.output
    (fleet / "npa.toml").write_text('[fleet]\ntenant = "x"\n')
    out = CliRunner().invoke(cli, ["--config", str(fleet / "npa.toml"), "migrate", "up"])
    assert out.exit_code == 2 and "unknown setting(s) tenant" in out.output


# real processes ----------------------------------------------------------------------------
def test_two_overlapping_fleet_runs_apply_each_migration_once_per_target(fleet):
    args = ("-m", "migrations", "migrate", "up", "--tenants", "tenants.txt",
            "--concurrency", "4", "--lock-timeout", "60")
    first = npa(*args, cwd=fleet, sleep=0.05)
    second = npa(*args, cwd=fleet, sleep=0.05)
    outputs = [p.communicate(timeout=240) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    for path in files(fleet):
        assert rows(path) == [1, 2, 3] and applied(path) == IDS


def test_fleet_runner_killed_midway_converges_on_rerun(fleet):
    args = ("-m", "migrations", "migrate", "up", "--tenants", "tenants.txt",
            "--concurrency", "3", "--json")
    runner = npa(*args, cwd=fleet, sleep=0.3)
    finished = 0
    for line in runner.stdout:
        if json.loads(line)["event"] == "target_end":
            finished += 1
            if finished == 6:
                break
    runner.send_signal(signal.SIGKILL)
    runner.wait(timeout=30)
    runner.stdout.close()
    runner.stderr.close()
    done = [p for p in files(fleet) if p.exists() and applied(p) == IDS]
    assert 6 <= len(done) < TARGETS  # killed midway
    rerun = npa(*args[:-1], cwd=fleet)
    out, err = rerun.communicate(timeout=240)
    assert rerun.returncode == 0, out + err
    for path in files(fleet):
        assert rows(path) == [1, 2, 3] and applied(path) == IDS


def test_history_statements_are_compiled_once_per_kind_of_server(tmp_path):
    from npa_migrations.engine.history import HistoryStore
    from npa_migrations.provider.registry import resolve_provider
    from npa_migrations.urls import parse_url

    def store(url: str, table: str = "npa_migrations_history") -> HistoryStore:
        return HistoryStore(resolve_provider(parse_url(url)), table)

    first, second = store(f"sqlite:///{tmp_path}/a.db"), store(f"sqlite:///{tmp_path}/b.db")
    assert second._select is first._select  # two tenants: compiled once
    other = store(f"sqlite:///{tmp_path}/a.db", "app_history")
    assert other._select is not first._select and "app_history" in other._select.sql
    pg = [store(f"postgresql://app@{host}/db") for host in ("db1", "db1", "db2")]
    assert pg[0]._select is pg[1]._select and pg[2]._select is not pg[0]._select


def test_sigint_stops_the_fleet_at_safe_points_and_a_rerun_finishes(fleet):
    args = ("-m", "migrations", "migrate", "up", "--tenants", "tenants.txt",
            "--concurrency", "2", "--json")
    runner = npa(*args, cwd=fleet, sleep=0.3)
    for line in runner.stdout:
        if json.loads(line)["event"] == "target_end":
            break
    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    assert runner.returncode == 130 and result["event"] == "fleet_result", out + err
    assert result["stopped"].startswith("interrupted") and result["not_started"]
    rerun = npa(*args[:-1], cwd=fleet)
    out, err = rerun.communicate(timeout=240)
    assert rerun.returncode == 0, out + err
    for path in files(fleet):
        assert rows(path) == [1, 2, 3] and applied(path) == IDS
