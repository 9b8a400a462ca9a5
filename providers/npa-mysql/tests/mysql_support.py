"""Helpers of npa-mysql's tests that test modules import (``conftest`` is not importable
by name when several packages' tests run in one session: each has its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
URL_ENV = "NPA_TEST_MYSQL_URL"


def base_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


def connect_raw(url: str | None = None, *, database: Any = ..., **kwargs: Any):
    """A PyMySQL connection (autocommit) to the test server."""
    import pymysql
    import sqlalchemy as sa

    parsed = sa.make_url(url or base_url())
    kwargs.setdefault("autocommit", True)
    kwargs.setdefault("connect_timeout", 3)
    return pymysql.connect(
        host=parsed.host or "127.0.0.1", port=parsed.port or 3306,
        user=parsed.username or "root", password=parsed.password or "",
        database=parsed.database if database is ... else database, **kwargs)


def require_server() -> str:
    """The server URL; skips (or, with ``$CI`` set, fails) when it is unreachable."""
    from npa_migrations.testing.servers import require_server as require

    return require(base_url(), "MySQL/MariaDB", lambda url: connect_raw(url).close(),
                   env=URL_ENV)


def q(name: str) -> str:
    """Backtick-quote an identifier for the tests' own SQL."""
    return "`" + name.replace("`", "``") + "`"


@dataclass
class MyTest:
    """One test's world on the shared server: a token every object it creates carries,
    a migrations folder, and helpers to run, query and reflect."""

    server_url: str
    token: str
    tmp: Path
    databases: list[str] = field(default_factory=list)
    _engine: Any = None

    # names -------------------------------------------------------------------------------
    def name(self, suffix: str) -> str:
        """A table (or other object) name owned by this test."""
        return f"npam_{self.token}_{suffix}"

    @property
    def history_table(self) -> str:
        return self.name("history")

    @property
    def lock_table(self) -> str:
        return self.name("lock")

    @property
    def url(self) -> str:
        return self.server_url

    @property
    def database(self) -> str:
        import sqlalchemy as sa

        return sa.make_url(self.server_url).database

    # files -------------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        folder = self.tmp / "migrations"
        folder.mkdir(exist_ok=True)
        return folder

    def python(self, name: str, text: str) -> Path:
        """Write ``migrations/<name>.py`` (imports ``sa`` and ``Migration`` for you)."""
        body = ("import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n\n"
                + textwrap.dedent(text).strip() + "\n")
        path = self.folder / f"{name}.py"
        path.write_text(body, encoding="utf-8")
        return path

    def sql(self, name: str, text: str) -> Path:
        path = self.folder / f"{name}.sql"
        path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        return path

    # running -----------------------------------------------------------------------------
    def options(self, **options: Any):
        from npa_migrations import MigrationExecutorOptions

        options.setdefault("history_table", self.history_table)
        options.setdefault("lock_table", self.lock_table)
        if "log_table" in MigrationExecutorOptions.__dataclass_fields__:  # the event log
            options.setdefault("log_table", self.name("log"))
        options.setdefault("lock_timeout_seconds", 20)
        return MigrationExecutorOptions(**options)

    def executor(self, url: str | None = None, **options: Any):
        from npa_migrations import MigrationExecutor

        return MigrationExecutor(url or self.url, str(self.folder),
                                 options=self.options(**options))

    def migration(self, ident: str, up: str, down: str | None = None) -> Path:
        """Write ``migrations/<ident>.py`` with class ``<Name>`` (``ident`` is
        ``<14 digits>_<Name>``); ``up``/``down`` are method bodies using ``b``."""
        ts, name = ident.split("_", 1)
        body = f"class {name}(Migration):\n    def up(self, b):\n"
        body += textwrap.indent(textwrap.dedent(up).strip(), " " * 8) + "\n"
        if down is not None:
            body += "\n    def down(self, b):\n"
            body += textwrap.indent(textwrap.dedent(down).strip() or "pass", " " * 8) + "\n"
        path = self.folder / f"{ts}_{_snake(name)}.py"
        path.write_text("import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n\n"
                        + body, encoding="utf-8")
        return path

    def lock_name(self) -> str:
        from npa_mysql.locking import lock_name

        return lock_name(self.database, self.lock_table)

    # the database ------------------------------------------------------------------------
    def connect(self, **kwargs: Any):
        return connect_raw(self.server_url, **kwargs)

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    @property
    def engine(self):
        import sqlalchemy as sa

        if self._engine is None:
            self._engine = sa.create_engine(sa.make_url(self.server_url),
                                            poolclass=sa.pool.NullPool)
        return self._engine

    def inspector(self):
        import sqlalchemy as sa

        return sa.inspect(self.engine)

    def tables(self, schema: str | None = None) -> set[str]:
        return set(self.inspector().get_table_names(schema=schema))

    def history(self) -> list[tuple]:
        """``(migration_id, success, steps_done, error)`` rows, by id."""
        if self.history_table not in self.tables():
            return []
        return self.query(f"SELECT migration_id, success, steps_done, error FROM "
                          f"{q(self.history_table)} ORDER BY migration_id")

    # cleanup -----------------------------------------------------------------------------
    def cleanup(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        conn = connect_raw(self.server_url)
        try:
            cur = conn.cursor()
            cur.execute("SET SESSION lock_wait_timeout = 30")  # never hang on a leftover
            cur.execute("SET SESSION foreign_key_checks = 0")
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES "
                        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE %s",
                        (f"%{self.token}%",))
            for (table,) in cur.fetchall():
                cur.execute(f"DROP TABLE IF EXISTS {q(table)}")
            cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                        "WHERE SCHEMA_NAME LIKE %s", (f"%{self.token}%",))
            for (database,) in cur.fetchall():
                cur.execute(f"DROP DATABASE IF EXISTS {q(database)}")
            for database in self.databases:
                cur.execute(f"DROP DATABASE IF EXISTS {q(database)}")
        finally:
            conn.close()


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# subprocesses -------------------------------------------------------------------------------
RUNNER = r"""
import json, sys, time
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.errors import LockTimeoutError

url, folder, history, lock, log, timeout = sys.argv[1:7]
extra = {"log_table": log} if "log_table" in MigrationExecutorOptions.__dataclass_fields__ else {}
options = MigrationExecutorOptions(history_table=history, lock_table=lock,
                                   lock_timeout_seconds=float(timeout), **extra)
print(json.dumps({"event": "start", "t": time.time()}), flush=True)
try:
    result = MigrationExecutor(url, folder, options=options).execute()
except LockTimeoutError as exc:
    print(json.dumps({"event": "lock_timeout", "message": str(exc)}), flush=True)
    sys.exit(4)
print(json.dumps({"event": "result", "applied": result.migration_ids,
                  "errors": [e.message for e in result.errors],
                  "seconds": result.duration.total_seconds()}), flush=True)
sys.exit(0 if result.success else 1)
"""


def spawn_runner(my: MyTest, lock_timeout: float = 60) -> subprocess.Popen:
    """A real ``python`` process applying the test's migrations (exit 0, 1 or 4)."""
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, my.url, str(my.folder), my.history_table,
         my.lock_table, my.name("log"), str(lock_timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
