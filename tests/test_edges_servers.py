"""Edges of the issue "Every edge answered" that need the real servers: timeouts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from npa_migrations import MigrationExecutorOptions
from npa_migrations.cli import cli
from server_databases import fresh_database

SLEEP = {"postgresql": "SELECT pg_sleep(3)", "mariadb": "SELECT SLEEP(3)"}


@pytest.fixture(params=["postgresql", "mariadb"])
def server(request, tmp_path):
    with fresh_database(request.param, "npa_edges") as url:
        yield request.param, url.render_as_string(hide_password=False)


def test_no_statement_timeout_unless_asked():
    assert MigrationExecutorOptions().timeout_seconds is None


def test_statement_timeout_flag_stops_a_statement_and_names_the_setting(server, tmp_path):
    backend, url = server
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_slow.sql").write_text(f"-- npa:up\n{SLEEP[backend]};\n")
    result = CliRunner().invoke(cli, ["-d", url, "-m", str(folder), "migrate", "up",
                                      "--statement-timeout", "1"])
    assert result.exit_code == 1, result.output
    assert "statement timeout (1s: --statement-timeout, setting statement_timeout" \
        in result.output
    assert "0 for no limit" in result.output
