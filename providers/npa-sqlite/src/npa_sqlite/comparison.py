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
from npa_migrations.schema.model import CheckModel, UniqueModel
from npa_migrations.schema.model import fold as casefold

from .sqlscan import fold, scan_create_table

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.schema.model import TableModel


class SqliteSchemaRules(SchemaRules):
    """Constraint names and checks from the stored ``CREATE TABLE`` text."""

    current_time_defaults = SchemaRules.current_time_defaults | {"datetime('now')"}
    #: unique constraints and checks come whole from :meth:`correct_reflected`, so
    #: SQLAlchemy's own reading of them (a regular-expression pass over the same stored
    #: text per table) is not asked for: post-execution verification reads every table a
    #: migration touches, and it was a fifth of that reading's time
    reflected_by_rules = frozenset({"uniques", "checks"})

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Take constraint names and checks from each table's stored ``CREATE TABLE``
        statement, and the columns of unique constraints from ``pragma_index_list``.
        The stored statement is found by SQLite's own name rule (ASCII letters fold), so a
        table named in another case than it was created in still gets its constraints."""
        if not tables:
            return
        master = f"{self.provider.sql.preparer.quote_schema(schema)}.sqlite_master" if schema \
            else "sqlite_master"
        names = list(dict.fromkeys(fold(t.name) for t in tables))
        marks = ", ".join("?" * len(names))
        stored = {fold(name): sql for name, sql in connection.exec_driver_sql(
            f"SELECT name, sql FROM {master} WHERE type = 'table' "
            f"AND lower(name) IN ({marks})", tuple(names))}
        for table in tables:
            sql = stored.get(fold(table.name))
            if not sql:  # a view: no constraints of its own
                table.uniques, table.checks = [], []
                continue
            text = scan_create_table(sql)
            for fk in table.foreign_keys:
                found = text.foreign_key(tuple(casefold(c) for c in fk.columns),
                                         casefold(fk.referred_table))
                fk.name = found.name if found else None
            table.uniques = [
                UniqueModel(text.unique_names.get(tuple(casefold(c) for c in columns)),
                            columns)
                for columns in _unique_keys(connection, table.name, schema)]
            table.checks = [CheckModel(name, body) for name, body in text.checks]


def _unique_keys(connection: "sa.Connection", table: str, schema: str | None
                 ) -> list[tuple[str, ...]]:
    """The columns of each ``UNIQUE`` constraint of ``table``, exactly as stored."""
    keys: dict[str, list[str]] = {}
    for index, column in connection.exec_driver_sql(
            "SELECT l.name, i.name FROM pragma_index_list(?, ?) AS l "
            "JOIN pragma_index_info(l.name, ?) AS i WHERE l.origin = 'u' "
            "ORDER BY l.seq, i.seqno", (table, schema or "main", schema or "main")):
        keys.setdefault(index, []).append(column)
    return [tuple(columns) for columns in keys.values()]
