"""A provider that is installed without its DB-API driver says which driver to
``pip install``, not the npa-migrations extra, which is already there (a database with no
provider at all still names the extra, SPEC §3: tests/test_packaging.py).

A driver is made missing the way Python sees it: ``None`` in ``sys.modules`` makes its
import fail with ``ModuleNotFoundError``.
"""

from __future__ import annotations

import sys

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from npa_migrations.cli import cli
from npa_migrations.provider.registry import resolve_provider
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import BaseProvider

#: URL, the driver module it imports, the hint's ``pip install`` argument
DRIVERS = [
    ("postgresql://app@127.0.0.1:1/app", "psycopg", "'psycopg[binary]'"),
    ("mysql://app@127.0.0.1:1/app", "pymysql", "PyMySQL"),
    ("mariadb://app@127.0.0.1:1/app", "pymysql", "PyMySQL"),
    ("mssql+pyodbc://app:pw@127.0.0.1:1/app?driver=ODBC+Driver+18+for+SQL+Server",
     "pyodbc", "pyodbc"),
    ("oracle://app:pw@127.0.0.1:1/?service_name=APP", "oracledb", "oracledb"),
]


def without(monkeypatch, module: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize(("url", "module", "requirement"), DRIVERS)
def test_a_missing_driver_names_the_driver_to_install(monkeypatch, url, module,
                                                      requirement):
    without(monkeypatch, module)
    provider = resolve_provider(sa.engine.make_url(url))
    with pytest.raises(ConfigurationError) as caught:
        provider.driver.connect()
    message = str(caught.value)
    assert message.startswith(f"The database driver for '{provider.url.drivername}' "
                              "is not installed")
    assert message.endswith(f"Install it: pip install {requirement}")
    assert "npa-migrations[" not in message
    assert "pw@" not in message


def test_the_cli_exits_2_with_the_driver_hint(monkeypatch):
    without(monkeypatch, "psycopg")
    result = CliRunner().invoke(cli, ["-d", "postgresql://app:s3cret@127.0.0.1:1/app",
                                      "migrate", "status"])
    assert result.exit_code == 2, result.output
    assert "Install it: pip install 'psycopg[binary]'" in result.output
    assert "s3cret" not in result.output


def test_mysql_ensure_created_also_names_the_driver(monkeypatch):
    """``ensure_created`` connects without a database before ``connect()`` runs."""
    without(monkeypatch, "pymysql")
    provider = resolve_provider(sa.engine.make_url("mysql://app@127.0.0.1:1/app"))
    with pytest.raises(ConfigurationError, match=r"pip install PyMySQL$"):
        provider.driver.ensure_database()


def test_sqlite_without_sqlite3_says_python_lacks_it(monkeypatch, tmp_path):
    """sqlite3 is the standard library's: no ``pip install`` brings it back."""
    without(monkeypatch, "sqlite3")
    provider = resolve_provider(sa.engine.make_url(f"sqlite:///{tmp_path / 'app.db'}"))
    with pytest.raises(ConfigurationError, match=r"This Python has no sqlite3 module") as caught:
        provider.driver.connect()
    assert "pip install" not in str(caught.value)


class AcmeProvider(BaseProvider):
    """A third-party provider (as cookiecutter-provider renders one) on a pg8000 URL."""

    name = "acme"


@pytest.mark.parametrize(("hint", "shown"), [
    ("acme-driver>=2", "'acme-driver>=2'"),   # quoted for the shell
    ("", "pg8000"),                           # no hint: the URL's driver name
])
def test_a_third_party_provider_names_its_install_hint(monkeypatch, hint, shown):
    without(monkeypatch, "pg8000")
    monkeypatch.setattr(AcmeProvider, "install_hint", hint)
    with pytest.raises(ConfigurationError, match=rf"Install it: pip install {shown}$"):
        AcmeProvider(sa.engine.make_url("postgresql+pg8000://u@localhost/db")).driver.connect()

