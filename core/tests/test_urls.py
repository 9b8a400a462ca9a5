"""Database URLs as users write them: an unencoded ``@`` in a password, secrets in the
query, bad ports and IPv6 hosts; nothing of a password is ever printed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli
from npa_migrations.errors import ConfigurationError
from npa_migrations.urls import display_url, parse_url


@pytest.mark.parametrize("text, password, host, database", [
    ("postgresql://app:p@ss@db.example.com/app", "p@ss", "db.example.com", "app"),
    ("postgresql://app:p@ss/w@rd@db.example.com:5433/app", "p@ss/w@rd", "db.example.com", "app"),
    ("postgresql://app:s3cret@db.example.com/my@db", "s3cret", "db.example.com", "my@db"),
    ("postgresql://app:s3cret@db.example.com/app?application_name=me@laptop", "s3cret",
     "db.example.com", "app"),
    ("postgresql://admin@server:p@ss@[::1]:5432/app", "p@ss", "::1", "app"),
    ("mysql+pymysql://root:@@@127.0.0.1:3306/shop", "@@", "127.0.0.1", "shop"),
    ("postgresql://app:p%40ss@db.example.com/app", "p@ss", "db.example.com", "app"),
])
def test_a_password_may_hold_an_unencoded_at(text, password, host, database):
    url = parse_url(text)
    assert (url.password, url.host, url.database) == (password, host, database)
    shown = display_url(url)
    assert "***" in shown and password not in shown


@pytest.mark.parametrize("text, shown", [
    ("postgresql://app@db/app?password=s3cret&sslmode=require",
     "postgresql://app@db/app?password=***&sslmode=require"),
    ("postgresql://app@db/app?sslpassword=s3cret", "postgresql://app@db/app?sslpassword=***"),
    ("mssql+pyodbc://@dsn?odbc_connect=DRIVER%3D%7Bx%7D%3BUID%3Dsa%3BPWD%3Ds3cret",
     "mssql+pyodbc://@dsn?odbc_connect=DRIVER%3D%7Bx%7D%3BUID%3Dsa%3BPWD%3D***"),
    ("mssql+pyodbc://sa:s3cret@db/shop?driver=ODBC+Driver+18+for+SQL+Server",
     "mssql+pyodbc://sa:***@db/shop?driver=ODBC+Driver+18+for+SQL+Server"),
])
def test_secret_query_values_are_hidden(text, shown):
    assert display_url(parse_url(text)) == shown


@pytest.mark.parametrize("text", ["postgresql://app@db:abc/app", "postgresql://app@[::1/app",
                                  "postgresql://app@db:0/app", "postgresql://app@db:70000/app",
                                  "postgresql://app:p@ss@db:x/app"])
def test_a_bad_port_or_ipv6_host_is_a_configuration_error(text):
    with pytest.raises(ConfigurationError, match="its host or port cannot be read"):
        parse_url(text)


@pytest.mark.parametrize("url", ["postgresql://app:s3cr@t@db.invalid:abc/app",
                                 "postgresql://app@[::1/app?password=s3cr@t",
                                 "postgres//app@db/app?password=s3cr@t"])
def test_a_url_error_exits_2_without_the_password(url):
    """These ended in "Unexpected error" (exit 1), some printing the password."""
    result = CliRunner().invoke(cli, ["-d", url, "migrate", "status"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: Invalid database URL")
    assert "s3cr" not in result.output and "@t" not in result.output


def test_postgres_urls_need_the_postgres_extra(monkeypatch):
    monkeypatch.setenv("NPA_DISABLE_PLUGIN_AUTOLOAD", "1")
    from npa_migrations import plugins

    monkeypatch.setattr(plugins, "_manager", None)
    result = CliRunner().invoke(cli, ["-d", "postgres://app@db/app", "migrate", "status"])
    assert result.exit_code == 2
    assert ("No provider for 'postgres'. Install it: pip install 'npa-migrations[postgres]'"
            in result.output)
