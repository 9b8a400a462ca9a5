"""Shared helpers of npa-sqlserver's tests."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

#: reviewed golden SQL files
GOLDEN = Path(__file__).parent / "golden"
#: the repository's example migrations
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "migrations"
#: the time history rows in golden scripts carry
FROZEN = dt.datetime(2025, 11, 19, 14, 30, 22, 123000)

#: the environment variable naming the SQL Server test database
URL_ENV = "NPA_TEST_MSSQL_URL"


def server_url() -> str | None:
    return os.environ.get(URL_ENV) or None


#: mark for tests that need a real SQL Server
needs_server = pytest.mark.skipif(
    not os.environ.get(URL_ENV),
    reason=f"needs a SQL Server: set {URL_ENV}=mssql+pyodbc://sa:<password>@127.0.0.1:1433/"
           "npa_test?driver=ODBC+Driver+18+for+SQL+Server&TrustServerCertificate=yes "
           "(docs/providers/sqlserver.md shows how to start one in a container)")
