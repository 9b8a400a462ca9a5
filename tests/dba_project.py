"""A project for the tests of DBA scripts and CI gates, on SQLite, PostgreSQL and MariaDB:
a database of its own per test (a file, or ``fresh_database`` on the shared servers), a
migrations folder, and the ``npa`` command run in-process."""

from __future__ import annotations

import json
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from click.testing import CliRunner, Result

from npa_migrations.cli import cli

from script_clients import run_script
from server_databases import fresh_database

#: the databases every test here runs on
BACKENDS = ("sqlite", "postgresql", "mariadb")


@dataclass
class Project:
    """One test's database and migrations folder."""

    url: sa.engine.URL
    folder: Path

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    def write(self, files: dict[str, str]) -> None:
        """Write migration files (their text dedented)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (self.folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")

    def npa(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """``npa -d <url> -m <folder> migrate <args>``."""
        return CliRunner().invoke(
            cli, ["-d", self.url.render_as_string(hide_password=False), "-m", str(self.folder),
                  "migrate", *args], catch_exceptions=False, env=env)

    def ok(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run ``npa migrate <args>``, which must exit 0; its output."""
        result = self.npa(*args, env=env)
        assert result.exit_code == 0, result.output
        return result.output

    def status(self) -> dict:
        return json.loads(self.ok("status", "--json"))

    def history(self) -> list[str]:
        """The ids in the history table, sorted."""
        return sorted(a["id"] for a in self.status()["applied"])

    def query(self, sql: str) -> list[tuple]:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(sql))]
        finally:
            engine.dispose()

    def run_script(self, script: str, *, check: bool = True):
        """Run ``script`` with the database's own command-line client."""
        return run_script(self.url, script, check=check)


@contextmanager
def project(backend: str, tmp_path: Path) -> Iterator[Project]:
    """A :class:`Project` on ``backend`` (one of :data:`BACKENDS`)."""
    folder = tmp_path / "migrations"
    if backend == "sqlite":
        yield Project(sa.make_url(f"sqlite:///{tmp_path / 'test.db'}"), folder)
        return
    with fresh_database(backend, "npa_dba") as url:
        if backend == "mariadb":  # so that offline scripts are written in MariaDB's SQL
            url = url.set(drivername="mariadb+pymysql")
        yield Project(url, folder)
