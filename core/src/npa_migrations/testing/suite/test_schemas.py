"""create_schema / drop_schema and schema-qualified tables (gated on ``schemas``)."""

from __future__ import annotations

from ..requirements import requires
from .base import SuiteTest

__all__ = ["TestSchemas"]


@requires.schemas
class TestSchemas(SuiteTest):
    def test_create_schema_with_a_table_then_drop_it(self):
        self.folder.python("20250101000000_CreateSchema", """
            b.create_schema("npat_schema")
            b.create_table("npat_in_schema",
                           sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                           sa.Column("name", sa.String(30)), schema="npat_schema")
            b.create_index("npat_ix_in_schema_name", "npat_in_schema", ["name"],
                           schema="npat_schema")
            b.bulk_insert("npat_in_schema", [{"id": 1, "name": "one"}], schema="npat_schema")
        """, """
            b.drop_table("npat_in_schema", schema="npat_schema")
            b.drop_schema("npat_schema")
        """)
        self.up()
        db = self.db
        assert "npat_schema" in db.schemas()
        assert db.tables(schema="npat_schema") == {"npat_in_schema"}
        assert "npat_in_schema" not in db.all_tables()
        assert "npat_ix_in_schema_name" in db.indexes("npat_in_schema", schema="npat_schema")
        assert db.rows("npat_in_schema", ["id", "name"], schema="npat_schema") == [(1, "one")]
        self.down()
        assert "npat_schema" not in db.schemas()
