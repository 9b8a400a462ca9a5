"""Validation before anything runs: changed checksums, missing and out-of-order
migrations."""

from __future__ import annotations

import pytest

from ...errors import ValidationError
from .base import SuiteTest

__all__ = ["TestValidation"]

A, B, C = "20250101000000_CreateA", "20250102000000_CreateB", "20250103000000_CreateC"

B_EDITED_COSMETICALLY = '''\
# A comment that was not there before.
import sqlalchemy as sa
from npa_migrations import Migration


class CreateB(Migration):
    """Now with a docstring."""

    id = "20250102000000_CreateB"

    def up(self, b):
        # formatting changed, same operations
        b.create_table(
            "npat_b",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        )

    def down(self, b):
        b.drop_table("npat_b")  # trailing comment
'''


def create(table: str, *extra: str) -> str:
    columns = ", ".join(['sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)',
                         *extra])
    return f'b.create_table("{table}", {columns})'


class TestValidation(SuiteTest):
    def write(self, *ids: str) -> None:
        for migration_id in ids:
            table = "npat_" + migration_id[-1].lower()
            self.folder.python(migration_id, create(table), f'b.drop_table("{table}")')

    def refused(self, **options) -> list[tuple[str, str]]:
        """Run, expect a ValidationError; return its (code, migration id) pairs."""
        with pytest.raises(ValidationError) as error:
            self.executor(**options).execute()
        return [(p.code, p.migration_id) for p in error.value.problems]

    def test_edited_migration_is_a_checksum_problem(self):
        self.write(A, B)
        self.up()
        self.folder.python(B, create("npat_b", 'sa.Column("extra", sa.Integer)'),
                           'b.drop_table("npat_b")')
        self.write(C)
        assert self.refused() == [("checksum", B)]
        assert [(p.code, p.migration_id) for p in self.executor().validate()] == [
            ("checksum", B)]
        assert "npat_c" not in self.db.tables()  # nothing is applied
        assert self.db.applied() == [A, B]

    def test_edited_sql_file_is_a_checksum_problem(self):
        sql_id = self.folder.sql("20250101000000_sql_table", "CREATE TABLE npat_sql (id INTEGER);",
                                 "DROP TABLE npat_sql;")
        self.up()
        self.folder.sql("20250101000000_sql_table",
                        "CREATE TABLE npat_sql (id INTEGER, name VARCHAR(10));",
                        "DROP TABLE npat_sql;")
        assert self.refused() == [("checksum", sql_id)]

    def test_comments_and_formatting_do_not_change_the_checksum(self):
        self.write(A, B)
        self.up()
        self.folder.write(f"{B}.py", B_EDITED_COSMETICALLY)
        self.write(C)
        assert self.executor().validate() == []
        assert self.up().migration_ids == [C]

    def test_checksum_validation_can_be_turned_off(self):
        self.write(A, B)
        self.up()
        self.folder.python(B, create("npat_b", 'sa.Column("extra", sa.Integer)'),
                           'b.drop_table("npat_b")')
        self.write(C)
        assert self.up(validate_checksums=False).migration_ids == [C]

    def test_missing_migration(self):
        self.write(A, B)
        self.up()
        self.folder.remove(B)
        self.write(C)
        assert self.refused() == [("missing", B)]
        assert "npat_c" not in self.db.tables()

    def test_out_of_order_migration(self):
        self.write(A, C)
        self.up()
        self.write(B)
        assert self.refused() == [("out_of_order", B)]
        assert "npat_b" not in self.db.tables()

    def test_out_of_order_ignore_skips_it(self):
        self.write(A, C)
        self.up()
        self.write(B)
        assert self.up(out_of_order="ignore").migration_ids == []
        assert "npat_b" not in self.db.tables()

    def test_out_of_order_apply_applies_it(self):
        self.write(A, C)
        self.up()
        self.write(B)
        assert self.up(out_of_order="apply").migration_ids == [B]
        assert self.db.tables() == {"npat_a", "npat_b", "npat_c"}
        assert set(self.db.applied()) == {A, B, C}
