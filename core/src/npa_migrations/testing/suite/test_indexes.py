"""create_index (unique and not, one and several columns, partial) and drop_index."""

from __future__ import annotations

import textwrap

from ..requirements import requires
from .base import SuiteTest

__all__ = ["TestCreateIndex", "TestPartialIndex", "TestDropIndex"]

TABLE = """
    b.create_table(
        "npat_people",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(50), nullable=True),
        sa.Column("first_name", sa.String(50), nullable=True))
"""


class TestCreateIndex(SuiteTest):
    def test_plain_unique_and_composite(self):
        self.folder.python("20250101000000_CreatePeople", TABLE, 'b.drop_table("npat_people")')
        self.folder.python("20250102000000_IndexPeople", """
            b.create_index("npat_ix_people_last", "npat_people", ["last_name"])
            b.create_index("npat_ix_people_email", "npat_people", ["email"], unique=True)
            b.create_index("npat_ix_people_name", "npat_people", ["last_name", "first_name"])
        """, """
            b.drop_index("npat_ix_people_name", "npat_people")
            b.drop_index("npat_ix_people_email", "npat_people")
            b.drop_index("npat_ix_people_last", "npat_people")
        """)
        self.up()
        indexes = self.db.indexes("npat_people")
        assert indexes["npat_ix_people_last"]["column_names"] == ["last_name"]
        assert not indexes["npat_ix_people_last"]["unique"]
        assert indexes["npat_ix_people_email"]["column_names"] == ["email"]
        assert indexes["npat_ix_people_email"]["unique"]
        assert indexes["npat_ix_people_name"]["column_names"] == ["last_name", "first_name"]
        self.db.insert("npat_people", {"id": 1, "email": "a@x", "last_name": "Doe"},
                       {"id": 2, "email": "b@x", "last_name": "Doe"})
        self.db.assert_insert_rejected("npat_people", {"id": 3, "email": "a@x"})
        self.down()
        assert not {"npat_ix_people_last", "npat_ix_people_email",
                    "npat_ix_people_name"} & set(self.db.indexes("npat_people"))
        self.db.insert("npat_people", {"id": 3, "email": "a@x"})
        assert self.db.count("npat_people") == 3


@requires.partial_indexes
class TestPartialIndex(SuiteTest):
    def test_unique_among_the_rows_that_match(self):
        self.folder.python("20250101000000_CreatePeople", TABLE, 'b.drop_table("npat_people")')
        self.folder.python("20250102000000_PartialIndex", """
            b.create_index("npat_ix_people_named", "npat_people", ["email"], unique=True,
                           where="last_name IS NOT NULL")
        """, 'b.drop_index("npat_ix_people_named", "npat_people")')
        self.up()
        assert self.db.indexes("npat_people")["npat_ix_people_named"]["unique"]
        self.db.insert("npat_people", {"id": 1, "email": "a@x", "last_name": None},
                       {"id": 2, "email": "a@x", "last_name": None},
                       {"id": 3, "email": "a@x", "last_name": "Doe"})
        self.db.assert_insert_rejected("npat_people",
                                       {"id": 4, "email": "a@x", "last_name": "Roe"})
        self.down()
        assert "npat_ix_people_named" not in self.db.indexes("npat_people")


class TestDropIndex(SuiteTest):
    def test_drop_then_recreate(self):
        self.folder.python("20250101000000_CreatePeople", textwrap.dedent(TABLE) + (
            'b.create_index("npat_ix_people_email", "npat_people", ["email"], unique=True)'),
            'b.drop_table("npat_people")')
        self.folder.python(
            "20250102000000_DropIndex", 'b.drop_index("npat_ix_people_email", "npat_people")',
            'b.create_index("npat_ix_people_email", "npat_people", ["email"], unique=True)')
        self.up(target="20250101000000")
        assert self.db.indexes("npat_people")["npat_ix_people_email"]["unique"]
        self.up()
        assert "npat_ix_people_email" not in self.db.indexes("npat_people")
        self.db.insert("npat_people", {"id": 1, "email": "a@x"}, {"id": 2, "email": "a@x"})
        self.db.delete("npat_people", id=2)
        self.down()
        assert self.db.indexes("npat_people")["npat_ix_people_email"]["unique"]
        self.db.assert_insert_rejected("npat_people", {"id": 2, "email": "a@x"})
