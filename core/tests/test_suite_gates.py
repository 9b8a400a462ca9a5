"""The conformance plugin reports a test whose requirement gate is closed as "not
applicable" (with the reason), apart from real skips, and still runs the open ones."""

from __future__ import annotations

CONFTEST = '''
import pytest
from npa_migrations.testing.plugin import *  # noqa: F401,F403


@pytest.fixture(scope="session")
def npa_default_url(tmp_path_factory):
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "gates.db")
'''

TESTS = '''
import pytest
from npa_migrations.testing.requirements import requires

@requires.schemas
def test_needs_schemas(npa_provider):
    raise AssertionError("must not run: SQLite has no schemas")


@requires.transactional_ddl
def test_needs_transactional_ddl(npa_provider):
    assert npa_provider.capabilities.transactional_ddl


def test_really_skipped():
    pytest.skip("no server here")
'''


def test_closed_gate_is_not_applicable_not_skipped(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_gates=TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*not applicable: the provider declares the capability absent*",
        "1 x requires schemas -- *but provider 'sqlite' declares capabilities.schemas = False",
        "    test_gates.py::test_needs_schemas",
        "*1 passed, 1 skipped, 1 not applicable*",
    ])
