"""How SQLite reports its schema to drift detection and verification.

SQLite keeps constraint names and ``CHECK`` bodies only in the text of a table's
``CREATE TABLE`` statement, and SQLAlchemy's SQLite reflection reads them with regular
expressions that keep a quote inside a quoted name doubled (``"fk""x"`` reflects as
``fk""x``). The names and check bodies are taken from the stored text with the provider's
own tokenizer (:mod:`npa_sqlite.sqlscan`) instead, and the columns of unique constraints
from ``pragma_index_list``; what SQLAlchemy reads from the ``PRAGMA`` functions (columns,
indexes, foreign-key columns) stays SQLAlchemy's. Both, and the core's schema model, are
imported when a table is first read: a run whose verification reads none (its migrations
are SQL files) needs none of them, and every run imports this module with the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from npa_migrations.provider.comparison import SchemaRules

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.schema.model import TableModel


class SqliteSchemaRules(SchemaRules):
    """Constraint names and checks from the stored ``CREATE TABLE`` text."""

    current_time_defaults = SchemaRules.current_time_defaults | {"datetime('now')"}
    #: unique constraints and checks come whole from :meth:`correct_reflected`, so
    #: SQLAlchemy's own reading of them (a regular-expression pass over the same stored
    #: text per table) is not asked for: post-execution verification reads every table a
    #: migration touches, and it was a fifth of that reading's time
    reflected_by_rules = frozenset({"uniques", "checks"})

    def read_tables(self, conn: "DbConnection", schema: str | None, names: list[str]
                    ) -> list["TableModel"] | None:
        """Given tables straight from the ``PRAGMA`` functions (:mod:`npa_sqlite.catalog`)."""
        from .catalog import read_tables

        return read_tables(conn.query, schema, names, self._master)

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Take constraint names and checks from each table's stored ``CREATE TABLE``
        statement, and the columns of unique constraints from ``pragma_index_list``.
        The stored statement is found by SQLite's own name rule (ASCII letters fold), so a
        table named in another case than it was created in still gets its constraints."""
        if not tables:
            return
        from npa_migrations.schema.model import CheckModel
        from npa_migrations.schema.model import fold as casefold

        from .catalog import constraint_text, index_rows, stored_sql, unique_constraints
        from .sqlscan import fold

        def query(sql: str, params: tuple) -> list[tuple]:
            return list(connection.exec_driver_sql(sql, params))

        stored = stored_sql(query, self._master(schema),
                            list(dict.fromkeys(t.name for t in tables)))
        for table in tables:
            sql = stored.get(fold(table.name), (None, {}))[0]
            if not sql:  # a view: no constraints of its own
                table.uniques, table.checks = [], []
                continue
            text = constraint_text(sql)
            for fk in table.foreign_keys:
                found = text.foreign_key(tuple(casefold(c) for c in fk.columns),
                                         casefold(fk.referred_table))
                fk.name = found.name if found else None
            table.uniques = unique_constraints(index_rows(query, table.name, schema or "main"),
                                               text)
            table.checks = [CheckModel(name, body) for name, body in text.checks]

    def _master(self, schema: str | None) -> str:
        """The ``sqlite_master`` table of ``schema`` (``None``: the main database)."""
        if schema:
            return f"{self.provider.sql.preparer.quote_schema(schema)}.sqlite_master"
        return "sqlite_master"
