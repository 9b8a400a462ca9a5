"""Rollback: the last migration, N steps, to a target; targets for ``execute``; status."""

from __future__ import annotations

import pytest

from ...errors import IrreversibleMigrationError, UnknownTargetError
from ..requirements import requires
from .base import SuiteTest, assert_failed

__all__ = ["TestRollback", "TestTargets"]

A, B, C = "20250101000000_CreateA", "20250102000000_CreateB", "20250103000000_CreateC"


def create(table: str) -> str:
    return (f'b.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True, '
            f'autoincrement=False))')


class _ThreeTest(SuiteTest):
    def write(self, c_down: str | None = 'b.drop_table("npat_c")') -> None:
        self.folder.python(A, create("npat_a"), 'b.drop_table("npat_a")')
        self.folder.python(B, create("npat_b"), 'b.drop_table("npat_b")')
        self.folder.python(C, create("npat_c"), c_down)


class TestRollback(_ThreeTest):
    def test_last(self):
        self.write()
        self.up()
        result = self.down()
        assert result.migration_ids == [C]
        assert self.db.tables() == {"npat_a", "npat_b"}
        assert self.db.applied() == [A, B]

    def test_steps_newest_first(self):
        self.write()
        self.up()
        result = self.down(steps=2)
        assert result.migration_ids == [C, B]
        assert self.db.tables() == {"npat_a"}
        assert self.db.applied() == [A]

    def test_to_target_keeps_the_target(self):
        self.write()
        self.up()
        result = self.down_to(A)
        assert result.migration_ids == [C, B]
        assert self.db.tables() == {"npat_a"}
        assert self.db.applied() == [A]

    def test_to_target_by_timestamp(self):
        self.write()
        self.up()
        self.down_to(B[:14])
        assert self.db.applied() == [A, B]
        assert self.db.tables() == {"npat_a", "npat_b"}

    def test_unknown_target_changes_nothing(self):
        self.write()
        self.up()
        with pytest.raises(UnknownTargetError):
            self.executor().rollback_to("20990101000000_Nope")
        assert self.db.applied() == [A, B, C]

    def test_rolled_back_migrations_apply_again(self):
        self.write()
        self.up()
        self.down(steps=3)
        assert self.db.tables() == set()
        assert self.up().migration_ids == [A, B, C]
        assert self.db.tables() == {"npat_a", "npat_b", "npat_c"}

    def test_irreversible_migration_stops_the_rollback(self):
        self.write(c_down=None)
        self.up()
        with pytest.raises(IrreversibleMigrationError) as error:
            self.executor().rollback(2)
        assert C in str(error.value)
        assert self.db.tables() == {"npat_a", "npat_b", "npat_c"}
        assert self.db.applied() == [A, B, C]

    @requires.transactional_ddl
    def test_failed_down_leaves_the_migration_applied(self):
        self.write(c_down='b.drop_table("npat_c")\n'
                          'b.execute("DELETE FROM npat_no_such_table")')
        self.up()
        result = self.executor().rollback()
        assert_failed(result, C)
        assert self.db.tables() == {"npat_a", "npat_b", "npat_c"}
        assert self.db.applied() == [A, B, C]


class TestTargets(_ThreeTest):
    def test_execute_to_a_target_then_the_rest(self):
        self.write()
        assert self.up(target=B).migration_ids == [A, B]
        assert self.db.tables() == {"npat_a", "npat_b"}
        status = self.executor().status()
        assert (status.current, status.pending) == (B, [C])
        assert self.up(target=C[:14]).migration_ids == [C]
        status = self.executor().status()
        assert (status.current, status.pending, status.failed) == (C, [], [])
        assert [a.id for a in status.applied] == [A, B, C]

    def test_unknown_target_is_refused(self):
        self.write()
        with pytest.raises(UnknownTargetError):
            self.executor().execute("20990101000000_Nope")
        assert self.db.tables() == set()

    def test_nothing_pending_is_a_successful_empty_run(self):
        self.write()
        self.up()
        result = self.up()
        assert result.migration_ids == []
        assert self.db.applied() == [A, B, C]
