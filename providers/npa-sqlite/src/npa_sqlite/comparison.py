"""How SQLite reports its schema to drift detection and verification.

SQLite keeps constraint names and ``CHECK`` bodies only in the text of a table's
``CREATE TABLE`` statement, and SQLAlchemy's SQLite reflection reads them with regular
expressions that keep a quote inside a quoted name doubled (``"fk""x"`` reflects as
``fk""x``). The names and check bodies are taken from the stored text with the provider's
own tokenizer (:mod:`npa_sqlite.sqlscan`) instead, and the columns of unique constraints
from ``pragma_index_list``; what SQLAlchemy reads from the ``PRAGMA`` functions (columns,
indexes, foreign-key columns) stays SQLAlchemy's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from npa_migrations.provider.comparison import SchemaRules
from npa_migrations.schema.model import CheckModel, UniqueModel, fold

from .sqlscan import scan_create_table

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.schema.model import TableModel


class SqliteSchemaRules(SchemaRules):
    """Constraint names and checks from the stored ``CREATE TABLE`` text."""

    current_time_defaults = SchemaRules.current_time_defaults | {"datetime('now')"}

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Take constraint names and checks from each table's stored ``CREATE TABLE``
        statement, and the columns of unique constraints from ``pragma_index_list``."""
        import sqlalchemy as sa

        if not tables:
            return
        master = f"{self.provider.sql.preparer.quote_schema(schema)}.sqlite_master" if schema \
            else "sqlite_master"
        statement = sa.text(f"SELECT name, sql FROM {master} WHERE type = 'table' "
                            "AND name IN :names").bindparams(
            sa.bindparam("names", expanding=True))
        stored = {name: sql for name, sql in connection.execute(
            statement, {"names": [t.name for t in tables]})}
        for table in tables:
            if stored.get(table.name):
                text = scan_create_table(stored[table.name])
                for fk in table.foreign_keys:
                    found = text.foreign_key(tuple(fold(c) for c in fk.columns),
                                             fold(fk.referred_table))
                    fk.name = found.name if found else None
                table.uniques = [
                    UniqueModel(text.unique_names.get(tuple(fold(c) for c in columns)), columns)
                    for columns in _unique_keys(connection, table.name, schema)]
                table.checks = [CheckModel(name, body) for name, body in text.checks]


def _unique_keys(connection: "sa.Connection", table: str, schema: str | None
                 ) -> list[tuple[str, ...]]:
    """The columns of each ``UNIQUE`` constraint of ``table``, exactly as stored."""
    import sqlalchemy as sa

    keys: dict[str, list[str]] = {}
    for index, column in connection.execute(sa.text(
            "SELECT l.name, i.name FROM pragma_index_list(:table, :schema) AS l "
            "JOIN pragma_index_info(l.name, :schema) AS i WHERE l.origin = 'u' "
            "ORDER BY l.seq, i.seqno"), {"table": table, "schema": schema or "main"}):
        keys.setdefault(index, []).append(column)
    return [tuple(columns) for columns in keys.values()]
