"""Transaction modes: per-migration (default), all-in-one, none."""

from __future__ import annotations

import pytest

from ...errors import ConfigurationError, ValidationError
from ..requirements import requires
from .base import SuiteTest, assert_failed

__all__ = ["TestPerMigration", "TestAllInOne", "TestAllInOneRefused", "TestNoTransactionMode"]

FIRST, SECOND, THIRD, FOURTH = ("20250101000000_First", "20250102000000_Second",
                                "20250103000000_Third", "20250104000000_Fourth")
BAD = 'b.execute("INSERT INTO npat_no_such_table (id) VALUES (1)")'


def create(table: str) -> str:
    return (f'b.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True, '
            f'autoincrement=False))')


def drop(table: str) -> str:
    return f'b.drop_table("{table}")'


class _ModeTest(SuiteTest):
    def write(self, failing: bool = True) -> None:
        """First creates a table; Second creates one, inserts a row, then (``failing``)
        runs SQL that fails; Third creates a table."""
        self.folder.python(FIRST, create("npat_first"), drop("npat_first"))
        second = create("npat_second") + '\nb.bulk_insert("npat_second", [{"id": 1}])'
        self.folder.python(SECOND, second + ("\n" + BAD if failing else ""), drop("npat_second"))
        self.folder.python(THIRD, create("npat_third"), drop("npat_third"))


class TestPerMigration(_ModeTest):
    @requires.transactional_ddl
    def test_failure_leaves_no_trace(self):
        self.write()
        result = self.executor().execute()
        message = assert_failed(result, SECOND)
        assert "npat_no_such_table" in message
        assert result.migration_ids == [FIRST]
        assert self.db.tables() == {"npat_first"}
        assert self.db.recorded() == {FIRST: True}
        self.write(failing=False)  # fixed: it simply runs again, no repair needed
        self.up()
        assert self.db.tables() == {"npat_first", "npat_second", "npat_third"}
        assert self.db.applied() == [FIRST, SECOND, THIRD]

    @requires.no_transactional_ddl
    def test_failure_is_recorded_as_failed_and_blocks_later_runs(self):
        self.write()
        result = self.executor().execute()
        message = assert_failed(result, SECOND)
        assert "repair" in message
        assert result.migration_ids == [FIRST]
        assert self.db.tables() == {"npat_first", "npat_second"}  # its DDL took effect
        assert self.db.recorded() == {FIRST: True, SECOND: False}
        with pytest.raises(ValidationError) as error:
            self.executor().execute()
        assert [(p.code, p.migration_id) for p in error.value.problems] == [("failed", SECOND)]
        assert "npat_third" not in self.db.tables()

    def test_stop_on_error_false_runs_independent_migrations(self):
        self.write()
        self.folder.python(FOURTH, create("npat_fourth"), drop("npat_fourth"),
                           depends_on=(SECOND,))
        result = self.executor(stop_on_error=False).execute()
        assert [e.migration_id for e in result.errors] == [SECOND]
        assert result.migration_ids == [FIRST, THIRD]
        tables = self.db.tables()
        assert {"npat_first", "npat_third"} <= tables
        assert "npat_fourth" not in tables
        assert self.db.applied() == [FIRST, THIRD]

    def test_migration_marked_non_transactional_runs(self):
        self.folder.python(FIRST, create("npat_first"), drop("npat_first"), transactional=False)
        self.up()
        assert self.db.tables() == {"npat_first"}
        assert self.db.recorded() == {FIRST: True}


@requires.transactional_ddl
class TestAllInOne(_ModeTest):
    def test_success_applies_everything(self):
        self.write(failing=False)
        result = self.up(transaction_mode="all-in-one")
        assert result.migration_ids == [FIRST, SECOND, THIRD]
        assert self.db.tables() == {"npat_first", "npat_second", "npat_third"}
        assert self.db.applied() == [FIRST, SECOND, THIRD]

    def test_failure_rolls_back_every_migration(self):
        self.write()
        result = self.executor(transaction_mode="all-in-one").execute()
        assert [e.migration_id for e in result.errors] == [SECOND]
        assert result.migration_ids == []
        assert self.db.tables() == set()
        assert self.db.recorded() == {}

    def test_non_transactional_migration_is_refused(self):
        self.write(failing=False)
        self.folder.python(FOURTH, create("npat_fourth"), drop("npat_fourth"),
                           transactional=False)
        with pytest.raises(ConfigurationError) as error:
            self.executor(transaction_mode="all-in-one").execute()
        assert FOURTH in str(error.value)
        assert self.db.tables() == set()
        assert self.db.recorded() == {}


@requires.no_transactional_ddl
class TestAllInOneRefused(_ModeTest):
    def test_all_in_one_is_a_configuration_error(self):
        self.write(failing=False)
        with pytest.raises(ConfigurationError) as error:
            self.executor(transaction_mode="all-in-one").execute()
        assert "per-migration" in str(error.value)
        assert self.db.tables() == set()
        assert self.db.recorded() == {}


class TestNoTransactionMode(_ModeTest):
    def test_applies_and_records(self):
        self.write(failing=False)
        self.up(transaction_mode="none")
        assert self.db.tables() == {"npat_first", "npat_second", "npat_third"}
        assert self.db.rows("npat_second", ["id"]) == [(1,)]
        assert self.db.applied() == [FIRST, SECOND, THIRD]

    def test_failure_keeps_what_ran_and_is_recorded_failed(self):
        self.write()
        result = self.executor(transaction_mode="none").execute()
        assert_failed(result, SECOND)
        assert self.db.tables() == {"npat_first", "npat_second"}
        assert self.db.rows("npat_second", ["id"]) == [(1,)]
        assert self.db.recorded() == {FIRST: True, SECOND: False}
