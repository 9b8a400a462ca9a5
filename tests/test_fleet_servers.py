"""Fleets on the servers: PostgreSQL schemas (``--tenant-schemas``, a lock per schema,
overlapping fleet runs in real processes, the lease-lock fallback where advisory locks
may not be used) and MariaDB databases."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from fleet_support import IDS, npa, write_migrations
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.cli import cli
from npa_migrations.errors import LockTimeoutError
from server_databases import fresh_database, reachable_server

SCHEMAS = 30
DATABASES = 24
PG_QUERY = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant%' ORDER BY 1"


def schema_names() -> list[str]:
    return [f"tenant_{i:02}" for i in range(SCHEMAS - 1)] + ["tenant Odd"]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def pg_fleet(tmp_path):
    """A fresh PostgreSQL database with ``SCHEMAS`` tenant schemas (one with a space and
    capitals); yields its URL string."""
    write_migrations(tmp_path / "migrations")
    with fresh_database("postgresql", "npa_fleet") as url:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            for name in schema_names():
                conn.execute(sa.text(f"CREATE SCHEMA {quote(name)}"))
        engine.dispose()
        yield url.render_as_string(hide_password=False)


def pg_rows(url: str) -> dict[str, list[int]]:
    """Each schema's ``runs`` rows."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = {name: [r[0] for r in conn.execute(sa.text(
            f"SELECT n FROM {quote(name)}.runs ORDER BY n"))] for name in schema_names()}
    engine.dispose()
    return found


def run_cli(*args: str, cwd) -> tuple[int, str]:
    import os

    before = os.getcwd()
    os.chdir(cwd)
    try:
        out = CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(before)
    return out.exit_code, out.output


def test_postgres_schema_fleet_up_no_op_and_status(pg_fleet, tmp_path):
    code, output = run_cli("-d", pg_fleet, "migrate", "up", "--tenant-schemas", PG_QUERY,
                           "--concurrency", "4", cwd=tmp_path)
    assert code == 0, output
    assert f"{SCHEMAS} of {SCHEMAS} target(s) done: {SCHEMAS} changed" in output
    assert pg_rows(pg_fleet) == {name: [1, 2, 3] for name in schema_names()}
    code, output = run_cli("-d", pg_fleet, "migrate", "up", "--tenant-schemas", PG_QUERY,
                           cwd=tmp_path)
    assert code == 0 and f"{SCHEMAS} already up to date" in output, output
    code, output = run_cli("-d", pg_fleet, "migrate", "status", "--tenant-schemas", PG_QUERY,
                           "--json", cwd=tmp_path)
    assert code == 0, output
    document = json.loads(output)
    assert document["summary"]["versions"] == {IDS[-1]: SCHEMAS}
    assert {d["tenant"] for d in document["detail"]} == set(schema_names())


def test_postgres_lock_is_per_schema_and_shared_with_single_target_runs(pg_fleet, tmp_path):
    from npa_postgres.lock import advisory_key

    holder = sa.create_engine(pg_fleet, poolclass=sa.pool.NullPool)
    with holder.connect() as conn:  # another run migrating tenant_03 right now
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"),
                     {"k": advisory_key("npa_migrations_lock", "tenant_03")})
        code, output = run_cli("-d", pg_fleet, "migrate", "up", "--tenant-schemas", PG_QUERY,
                               "--lock-timeout", "0.3", cwd=tmp_path)
        assert code == 4, output  # every failure is a lock timeout
        assert "1 target(s) failed:\n  tenant_03: Could not acquire the migration lock" \
            in output
        assert f"{SCHEMAS - 1} of {SCHEMAS} target(s) done" in output
        code, output = run_cli("-d", pg_fleet, "migrate", "status", "--tenant-schemas",
                               PG_QUERY, cwd=tmp_path)
        assert "Locked (a run is migrating them):\n  tenant_03: PostgreSQL backend pid" \
            in output
        single = sa.make_url(pg_fleet).update_query_dict(
            {"options": "-csearch_path=tenant_03"})
        with pytest.raises(LockTimeoutError):
            MigrationExecutor(single, tmp_path / "migrations", MigrationExecutorOptions(
                lock_timeout_seconds=0.2)).execute()
        conn.rollback()
    holder.dispose()
    code, output = run_cli("-d", pg_fleet, "migrate", "up", "--tenant-schemas", PG_QUERY,
                           cwd=tmp_path)
    assert code == 0 and "1 changed" in output, output


def test_two_overlapping_fleet_runs_on_postgres_schemas(pg_fleet, tmp_path):
    args = ("-d", pg_fleet, "-m", "migrations", "migrate", "up", "--tenant-schemas",
            PG_QUERY, "--concurrency", "4", "--lock-timeout", "60")
    runs = [npa(*args, cwd=tmp_path, sleep=0.05) for _ in range(2)]
    outputs = [p.communicate(timeout=240) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outputs
    assert pg_rows(pg_fleet) == {name: [1, 2, 3] for name in schema_names()}
    changed = sum(int(out.split(" changed")[0].rsplit(": ", 1)[1]) for out, _ in outputs)
    assert changed == SCHEMAS  # each schema migrated by exactly one of the two runs


@contextmanager
def role_without_advisory_locks(url: sa.engine.URL):
    """A login role owning schemas ``lease_0..4`` in the database of ``url``, where
    EXECUTE on ``pg_try_advisory_lock`` was taken from PUBLIC (only in that database,
    which is dropped afterwards; the role is dropped too)."""
    role = f"npa_nolock_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text("REVOKE EXECUTE ON FUNCTION pg_try_advisory_lock(bigint) "
                             "FROM PUBLIC"))
        for i in range(5):
            conn.execute(sa.text(f"CREATE SCHEMA lease_{i} AUTHORIZATION {role}"))
    try:
        yield url.set(username=role, password=None)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("GRANT EXECUTE ON FUNCTION pg_try_advisory_lock(bigint) "
                                 "TO PUBLIC"))
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
        admin.dispose()
        server = sa.create_engine(reachable_server("postgresql"), isolation_level="AUTOCOMMIT",
                                  poolclass=sa.pool.NullPool)
        with server.connect() as conn:
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        server.dispose()


def test_postgres_without_advisory_locks_falls_back_to_the_lease_lock(tmp_path):
    from npa_migrations.provider.locking import TableLock
    from npa_migrations.provider.registry import resolve_provider

    write_migrations(tmp_path / "migrations")
    query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lease%' ORDER BY 1"
    with fresh_database("postgresql", "npa_fleet_lease") as url, \
            role_without_advisory_locks(url) as limited:
        text = limited.render_as_string(hide_password=False)
        # another run holds the lease lock of lease_0
        held = TableLock(resolve_provider(limited.update_query_dict(
            {"options": "-csearch_path=lease_0"})))
        held.acquire(5)
        try:
            code, output = run_cli("-d", text, "migrate", "up", "--tenant-schemas", query,
                                   "--lock-timeout", "0.5", "--json", cwd=tmp_path)
            _, status = run_cli("-d", text, "migrate", "status", "--tenant-schemas", query,
                                "--json", cwd=tmp_path)
            assert json.loads(status)["summary"]["locked"] == {"lease_0": held.owner}
        finally:
            held.release()
        events = [json.loads(line) for line in output.splitlines()]
        locks = {e["lock"] for e in events if e["event"] == "lock_acquired"}
        assert locks == {"table lock npa_migrations_lock (fallback: pg_try_advisory_lock is "
                         "unavailable: permission denied for function pg_try_advisory_lock)"}
        result = events[-1]
        assert code == 4 and [f["tenant"] for f in result["failed"]] == ["lease_0"], output
        assert "held by" in result["failed"][0]["error"]
        code, output = run_cli("-d", text, "migrate", "up", "--tenant-schemas", query,
                               cwd=tmp_path)
        assert code == 0 and "1 changed" in output, output


def test_mariadb_database_fleet(tmp_path):
    write_migrations(tmp_path / "migrations")
    base = reachable_server("mariadb")
    prefix = f"npa_fleet_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{i:02}" for i in range(DATABASES)]
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    query = (f"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE "
             f"'{prefix}\\\\_%' ORDER BY 1")
    url = base.render_as_string(hide_password=False)
    try:
        code, output = run_cli("-d", url, "migrate", "up", "--tenant-schemas", query,
                               "--concurrency", "4", cwd=tmp_path)
        assert code == 0 and f"{DATABASES} of {DATABASES} target(s) done: {DATABASES} " \
            "changed" in output, output
        with admin.connect() as conn:
            for name in names:
                assert [r[0] for r in conn.execute(sa.text(
                    f"SELECT n FROM {name}.runs ORDER BY n"))] == [1, 2, 3]
        code, output = run_cli("-d", url, "migrate", "down", "--tenant-schemas", query,
                               "--steps", "2", cwd=tmp_path)
        assert code == 0, output
        code, output = run_cli("-d", url, "migrate", "status", "--tenant-schemas", query,
                               "--json", cwd=tmp_path)
        assert json.loads(output)["summary"]["versions"] == {IDS[0]: DATABASES}
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
