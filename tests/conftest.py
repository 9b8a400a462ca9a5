"""Fixtures of the cross-package tests."""

from __future__ import annotations

import pytest

from dba_project import BACKENDS, project


@pytest.fixture(params=BACKENDS)
def dba(request, tmp_path, monkeypatch):
    """A :class:`dba_project.Project` -- a database of its own and a migrations folder --
    on each of SQLite, PostgreSQL and MariaDB, with the current folder its parent."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    with project(request.param, tmp_path) as found:
        yield found
