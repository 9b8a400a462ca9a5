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


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("scheme", ["mysql+pymysql", "postgresql"])
def test_a_server_that_never_answers_fails_within_the_connect_timeout(silent_server, scheme):
    from npa_migrations import MigrationExecutor
    from npa_migrations.errors import DatabaseUnavailableError

    url = f"{scheme}://app:s3cret@127.0.0.1:{silent_server}/app?connect_timeout=1"
    with pytest.raises(DatabaseUnavailableError) as caught:  # MySQL hung for minutes
        MigrationExecutor(url, ".").status()
    assert caught.value.exit_code == 2
    assert "no answer within the connect timeout" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_mysql_connections_are_bounded_unless_the_url_says():
    from npa_migrations.engine.target import parse_url
    from npa_migrations.provider.registry import resolve_provider

    class Dbapi:
        def connect(self, *args, **kwargs):
            return kwargs

    driver = resolve_provider(parse_url("mysql+pymysql://app@db/app")).driver
    assert driver.open_dbapi(Dbapi(), [], {})["connect_timeout"] == 10
    assert driver.open_dbapi(Dbapi(), [], {"connect_timeout": 3})["connect_timeout"] == 3
