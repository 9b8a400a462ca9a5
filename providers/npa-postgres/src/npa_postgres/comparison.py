"""How PostgreSQL reports its schema to drift detection and verification.

Its own type spellings (``int4``, ``float8``, ``timestamptz``), ``FLOAT`` as ``REAL`` or
``DOUBLE PRECISION`` by its precision, the ``nextval(...)`` default behind a serial
column, and reflection without the ``hstore`` type lookup psycopg would make on the
run's borrowed connection. Foreign keys are read from ``pg_constraint`` by column
number: SQLAlchemy parses them out of ``pg_get_constraintdef()`` text, which fails for
column names holding a line break or a comma. Verification reads the tables a
migration touched from ``pg_catalog`` directly (:mod:`npa_postgres.catalog`), imported
when a table is first read: every run imports this module with the provider, and a run
that reads no table (a deploy of ``.sql`` files) needs neither it nor the core's schema
model it builds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from npa_migrations.provider.comparison import SchemaRules

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.schema.model import ColumnModel, TableModel


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

    def read_tables(self, conn: "DbConnection", schema: str | None, names: list[str]
                    ) -> list["TableModel"] | None:
        """Given tables straight from ``pg_catalog`` (:mod:`npa_postgres.catalog`)."""
        from .catalog import read_tables

        return read_tables(conn, schema, names)

    def normalise_type(self, text: str) -> str:
        """An array type is its element's canonical type with ``[]``
        (``character varying(10)[]`` is ``VARCHAR(10)[]``)."""
        if text.rstrip().endswith("[]"):
            return self.normalise_type(text.rstrip()[:-2]) + "[]"
        return super().normalise_type(text)

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Read the foreign keys of ``tables`` from ``pg_constraint`` (one query)."""
        by_name = {t.name: t for t in tables}
        if not by_name:
            return
        from .catalog import FOREIGN_KEYS, foreign_key

        for row in connection.exec_driver_sql(FOREIGN_KEYS, {"schema": schema,
                                                             "tables": list(by_name)}):
            by_name[row[0]].foreign_keys.append(foreign_key(row))
