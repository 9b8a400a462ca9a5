"""The framework helpers (npa_migrations.frameworks, docs/frameworks.md) with the frameworks
installed: a FastAPI/Starlette lifespan, ``flask npa ...`` and ``python manage.py npa ...``,
on SQLite files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from npa_migrations.errors import MigrationException

USERS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateUsers(Migration):
        def up(self, b):
            b.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("email", sa.String(100), nullable=False))
            b.bulk_insert("users", [{"id": 1, "email": "ada@example.com"}])

        def down(self, b):
            b.drop_table("users")
"""

BROKEN = """
    from npa_migrations import Migration

    class Broken(Migration):
        def up(self, b):
            b.execute("UPDATE no_such_table SET x = 1")

        def down(self, b):
            pass
"""


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_users.py").write_text(textwrap.dedent(USERS))
    return folder


def history(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT migration_id, success FROM npa_migrations_history").fetchall()


# FastAPI / Starlette ------------------------------------------------------------------------
def fastapi_app(url: str, migrations: Path, lifespan=None):
    import sqlalchemy as sa
    from fastapi import FastAPI

    from npa_migrations.frameworks.starlette import migration_lifespan

    app = FastAPI(lifespan=migration_lifespan(url, migrations, lifespan=lifespan))

    @app.get("/users")
    def users():
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            return [row.email for row in conn.execute(sa.text("SELECT email FROM users"))]

    return app


def test_fastapi_applies_migrations_before_serving(tmp_path, migrations):
    from fastapi.testclient import TestClient

    url = f"sqlite:///{tmp_path / 'app.db'}"
    app = fastapi_app(url, migrations)
    with TestClient(app) as client:
        assert client.get("/users").json() == ["ada@example.com"]
        assert app.state.npa_migrations.migration_ids == ["20250101000000_CreateUsers"]


def test_instances_starting_together_apply_each_migration_once(tmp_path, migrations):
    from fastapi.testclient import TestClient

    url = f"sqlite:///{tmp_path / 'app.db'}"
    apps = [fastapi_app(url, migrations) for _ in range(4)]
    applied, errors = [], []

    def start(app):
        try:
            with TestClient(app) as client:
                assert client.get("/users").status_code == 200
                applied.append(app.state.npa_migrations.migrations_applied)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(applied) == [0, 0, 0, 1]
    assert history(tmp_path / "app.db") == [("20250101000000_CreateUsers", 1)]


def test_a_failed_migration_stops_the_startup(tmp_path, migrations):
    from fastapi.testclient import TestClient

    (migrations / "20250102000000_broken.py").write_text(textwrap.dedent(BROKEN))
    app = fastapi_app(f"sqlite:///{tmp_path / 'app.db'}", migrations)
    with pytest.raises(MigrationException, match=r"(?s)did not start.*20250102000000_Broken"):
        with TestClient(app):
            pass


def test_the_applications_own_lifespan_runs_inside(tmp_path, migrations):
    import contextlib

    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from npa_migrations.frameworks.starlette import migration_lifespan

    seen = []

    @contextlib.asynccontextmanager
    async def own(app):
        seen.append(history(tmp_path / "app.db"))  # the migrations ran first
        yield {"greeting": "hello"}
        seen.append("stopped")

    app = Starlette(lifespan=migration_lifespan(f"sqlite:///{tmp_path / 'app.db'}", migrations,
                                                lifespan=own))
    with TestClient(app):
        pass
    assert seen == [[("20250101000000_CreateUsers", 1)], "stopped"]


# Flask ----------------------------------------------------------------------------------------
def flask_app(url: str, migrations: Path):
    from flask import Flask

    from npa_migrations.frameworks.flask import init_app

    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, NPA_MIGRATIONS=str(migrations))
    init_app(app)
    return app


def test_flask_npa_up_status_and_down(tmp_path, migrations):
    app = flask_app(f"sqlite:///{tmp_path / 'app.db'}", migrations)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["npa", "up"])
    assert result.exit_code == 0, result.output
    assert "✓ 1 migration applied successfully" in result.output \
        or "1 migration applied successfully" in result.output
    assert history(tmp_path / "app.db") == [("20250101000000_CreateUsers", 1)]
    result = runner.invoke(args=["npa", "status", "--json"])
    assert '"current": "20250101000000_CreateUsers"' in result.output
    result = runner.invoke(args=["npa", "down"])
    assert result.exit_code == 0, result.output
    assert history(tmp_path / "app.db") == []


def test_flask_npa_keeps_the_exit_codes_and_lists_the_commands(tmp_path, migrations):
    app = flask_app(f"sqlite:///{tmp_path / 'app.db'}", migrations)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["npa", "down", "--target", "20990101000000"])
    assert result.exit_code == 2
    assert "Unknown target '20990101000000'" in result.output
    listing = runner.invoke(args=["npa", "--help"]).output
    for command in ("up", "down", "status", "check", "repair"):
        assert f"  {command} " in listing


# Django ---------------------------------------------------------------------------------------
MANAGE = """
    import sys
    from django.conf import settings
    from django.core.management import execute_from_command_line

    settings.configure(
        INSTALLED_APPS=["npa_migrations.frameworks.django"],
        DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                "NAME": {database!r}}}}},
        NPA_MIGRATIONS={migrations!r},
    )
    execute_from_command_line(sys.argv)
"""


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(tmp_path / "manage.py"), "npa", *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_django_manage_py_npa(tmp_path, migrations):
    database = tmp_path / "app.sqlite3"
    (tmp_path / "manage.py").write_text(textwrap.dedent(MANAGE.format(
        database=str(database), migrations=str(migrations))))
    result = manage(tmp_path, "up")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 migration applied successfully" in result.stdout
    assert history(database) == [("20250101000000_CreateUsers", 1)]
    assert "✓ 20250101000000_CreateUsers" in manage(tmp_path, "status").stdout \
        or "20250101000000_CreateUsers" in manage(tmp_path, "status").stdout
    (migrations / "20250102000000_broken.py").write_text(textwrap.dedent(BROKEN))
    failed = manage(tmp_path, "up")
    assert failed.returncode == 1
    assert "20250102000000_Broken" in failed.stderr


def test_django_database_settings_become_urls():
    from npa_migrations.errors import ConfigurationError
    from npa_migrations.frameworks.django import database_url

    url = database_url({"ENGINE": "django.db.backends.postgresql", "NAME": "shop",
                        "USER": "app", "PASSWORD": "p@ss", "HOST": "db", "PORT": "5433"})
    assert url.render_as_string(hide_password=False) == \
        "postgresql+psycopg://app:p%40ss@db:5433/shop"
    assert str(database_url({"ENGINE": "django.db.backends.sqlite3", "NAME": "/x/db.sqlite3"})) \
        == "sqlite:////x/db.sqlite3"
    with pytest.raises(ConfigurationError, match="NPA_DATABASE_URL"):
        database_url({"ENGINE": "django.db.backends.dummy"})
