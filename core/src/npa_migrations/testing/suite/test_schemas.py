"""create_schema / drop_schema and schema-qualified tables (gated on ``schemas``).

The schema is named by :func:`~npa_migrations.testing.provision.suite_schema`: on MySQL
and MariaDB a schema is a database of the whole server, so its name carries the test
database, and runs against other test databases of the server leave it alone.
"""

from __future__ import annotations

from ..provision import suite_schema
from ..requirements import requires
from .base import SuiteTest

__all__ = ["TestSchemas"]


@requires.schemas
class TestSchemas(SuiteTest):
    def test_create_schema_with_a_table_then_drop_it(self):
        schema = suite_schema(self.db.inspector().default_schema_name)
        self.folder.python("20250101000000_CreateSchema", """
            b.create_schema(SCHEMA)
            b.create_table("npat_in_schema",
                           sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                           sa.Column("name", sa.String(30)), schema=SCHEMA)
            b.create_index("npat_ix_in_schema_name", "npat_in_schema", ["name"],
                           schema=SCHEMA)
            b.bulk_insert("npat_in_schema", [{"id": 1, "name": "one"}], schema=SCHEMA)
        """.replace("SCHEMA", repr(schema)), """
            b.drop_table("npat_in_schema", schema=SCHEMA)
            b.drop_schema(SCHEMA)
        """.replace("SCHEMA", repr(schema)))
        self.up()
        db = self.db
        assert schema in db.schemas()
        assert db.tables(schema=schema) == {"npat_in_schema"}
        assert "npat_in_schema" not in db.all_tables()
        assert "npat_ix_in_schema_name" in db.indexes("npat_in_schema", schema=schema)
        assert db.rows("npat_in_schema", ["id", "name"], schema=schema) == [(1, "one")]
        self.down()
        assert schema not in db.schemas()
