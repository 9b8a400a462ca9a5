"""How PostgreSQL reports its schema to drift detection and verification.

Its own type spellings (``int4``, ``float8``, ``timestamptz``), ``FLOAT`` as ``REAL`` or
``DOUBLE PRECISION`` by its precision, the ``nextval(...)`` default behind a serial
column, and reflection without the ``hstore`` type lookup psycopg would make on the
run's borrowed connection. Foreign keys are read from ``pg_constraint`` by column
number: SQLAlchemy parses them out of ``pg_get_constraintdef()`` text, which fails for
column names holding a line break or a comma.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from npa_migrations.provider.comparison import SchemaRules
from npa_migrations.schema.model import ForeignKeyModel

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.schema.model import ColumnModel, TableModel

#: the columns of a constraint key (``conkey`` / ``confkey``) by name, in key order
_KEY_NAMES = """ARRAY(SELECT a.attname FROM unnest(con.{key}) WITH ORDINALITY AS k(num, pos)
                     JOIN pg_catalog.pg_attribute a
                       ON a.attrelid = con.{rel} AND a.attnum = k.num ORDER BY k.pos)"""
_FOREIGN_KEYS = f"""
    SELECT c.relname, con.conname, {_KEY_NAMES.format(key="conkey", rel="conrelid")},
           rn.nspname, rc.relname, {_KEY_NAMES.format(key="confkey", rel="confrelid")},
           con.confdeltype, con.confupdtype, rn.nspname = current_schema()
      FROM pg_catalog.pg_constraint con
      JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
      JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE con.contype = 'f' AND n.nspname = COALESCE(:schema, current_schema())
       AND c.relname = ANY(:tables)
     ORDER BY c.relname, con.conname
"""
#: ``pg_constraint.confdeltype`` / ``confupdtype`` codes (``a``: no action)
_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


class PostgresSchemaRules(SchemaRules):
    """PostgreSQL's type synonyms, float precision, serial defaults and time functions."""

    type_synonyms = {
        **SchemaRules.type_synonyms,
        "INT2": "SMALLINT", "INT4": "INTEGER", "INT8": "BIGINT",
        "FLOAT4": "REAL", "FLOAT8": "DOUBLE PRECISION",
        "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE", "TIMETZ": "TIME WITH TIME ZONE",
    }
    current_time_defaults = SchemaRules.current_time_defaults | {
        "statement_timestamp()", "transaction_timestamp()"}
    reflected_by_rules = frozenset({"foreign_keys"})

    def reflection_options(self) -> dict[str, Any]:
        """No ``hstore`` OID lookup on the borrowed connection (psycopg's dialects)."""
        return {"use_native_hstore": False}

    def canonical_type(self, name: str, args: str | None, rest: str
                       ) -> tuple[str, str | None, str]:
        """``FLOAT(p)`` is ``REAL`` up to 24 bits, else ``DOUBLE PRECISION``; those two
        take no arguments, and ``TIMESTAMP(6)`` is the default precision."""
        if name == "FLOAT":
            name = "REAL" if args and args.isdigit() and int(args) <= 24 else \
                "DOUBLE PRECISION"
            args = None
        if name in ("DOUBLE PRECISION", "REAL"):
            args = None
        if name.startswith("TIMESTAMP") and args == "6":
            args = None
        return name, args, rest

    def implicit_default(self, expected: "ColumnModel", actual: "ColumnModel",
                         default: str) -> bool:
        """A ``nextval('seq')`` default is the sequence behind a serial column."""
        return default.startswith("nextval(") or super().implicit_default(
            expected, actual, default)

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Read the foreign keys of ``tables`` from ``pg_constraint`` (one query)."""
        import sqlalchemy as sa

        by_name = {t.name: t for t in tables}
        if not by_name:
            return
        rows = connection.execute(sa.text(_FOREIGN_KEYS),
                                  {"schema": schema, "tables": list(by_name)})
        for (table, name, columns, referred_schema, referred, referred_columns, ondelete,
             onupdate, in_default_schema) in rows:
            by_name[table].foreign_keys.append(ForeignKeyModel(
                name, tuple(columns), None if in_default_schema else referred_schema,
                referred, tuple(referred_columns), _ACTIONS.get(ondelete),
                _ACTIONS.get(onupdate)))
