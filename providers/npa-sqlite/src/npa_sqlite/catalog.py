"""Reading given tables straight from SQLite's ``PRAGMA`` functions, for post-execution
verification.

Verification reads back every table a migration touched, after every migration.
Through SQLAlchemy's inspector that was about ten statements per table, two of them
scans of ``sqlite_master`` (which has no index by name, so each costs time in the size
of the schema), plus SQLAlchemy's result machinery per statement: 3 ms and more per
Python migration of a 1,000-table schema, most of a builder run's time. Here one table
costs three ``PRAGMA`` queries on the run's own DB-API connection
(``pragma_table_xinfo``, ``pragma_index_list`` joined with ``pragma_index_info``,
``pragma_foreign_key_list``), and the stored ``CREATE`` statements of all the tables
read and their indexes come from one pass over ``sqlite_master``.

What it reports is what the inspector path reports (columns, primary key, indexes
created by ``CREATE INDEX`` and their partial predicates, foreign keys, unique
constraints, checks; names and checks from the stored text through
:mod:`npa_sqlite.sqlscan`), with one difference that only makes verification stricter:
a column's type stays the declared text of its ``CREATE TABLE`` (``VARCHAR(100)``)
instead of SQLAlchemy's guess from SQLite's type affinity, so ``BLOB`` is compared too.
Drift detection, which reads whole schemas, still goes through the inspector.
"""

from __future__ import annotations

import re
from typing import Callable

from npa_migrations.schema.model import (UNKNOWN, CheckModel, ColumnModel, ForeignKeyModel,
                                         IndexModel, TableModel, UniqueModel)
from npa_migrations.schema.model import fold as casefold

from .sqlscan import TableText, fold, scan_create_table, tokenize

#: runs one query with bound parameters and returns its rows (the run's DB-API
#: connection, or SQLAlchemy's connection while the inspector path corrects its tables)
Query = Callable[[str, tuple], list[tuple]]

#: the words ``table_xinfo`` leaves in a generated column's type (``INTEGER GENERATED ALWAYS``)
_GENERATED_WORDS = re.compile(r"\b(?:GENERATED|ALWAYS)\b", re.IGNORECASE)
#: the words without which a ``CREATE TABLE`` text names no constraint and has no check
_NAMED_OR_CHECK = re.compile(r"CONSTRAINT|CHECK", re.IGNORECASE)


def read_tables(query: Query, schema: str | None, names: list[str],
                master: Callable[[str | None], str]) -> list[TableModel] | None:
    """The tables of ``names`` in ``schema`` (``None``: ``main``) that exist, keyed by
    the names as given; ``None`` when one of them is a temporary table (the caller then
    reads them through the inspector, which looks in ``temp`` too). ``master`` names
    the ``sqlite_master`` table of a schema."""
    database = schema or "main"
    found: dict[str, list[tuple]] = {}
    for name in names:
        columns = query("SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                             "FROM pragma_table_xinfo(?, ?)", (name, database))
        if columns:
            found[name] = columns
        elif schema is None and query("SELECT 1 FROM pragma_table_xinfo(?, 'temp')",
                                           (name,)):
            return None
    stored = stored_sql(query, master(schema), list(found))
    tables = []
    for name, columns in found.items():
        table_sql, index_sql = stored.get(fold(name), (None, {}))
        tables.append(_table(query, schema, database, name, columns, table_sql, index_sql))
    return tables


def stored_sql(query: Query, master: str, names: list[str]
                ) -> dict[str, tuple[str | None, dict[str, str]]]:
    """Folded table name -> (its ``CREATE TABLE`` or ``CREATE VIEW`` text, or ``None``
    for a view; the ``CREATE INDEX`` text of each of its indexes by folded name). Exact
    names first (one pass over ``sqlite_master``); a name spelled in another case than
    the table was created in is looked for again by SQLite's own rule."""
    out: dict[str, tuple[str | None, dict[str, str]]] = {}
    if not names:
        return out

    def collect(condition: str, values: list[str]) -> None:
        marks = ", ".join("?" * len(values))
        for kind, name, table, sql in query(
                f"SELECT type, name, tbl_name, sql FROM {master} "
                f"WHERE {condition} IN ({marks})", tuple(values)):
            entry = out.setdefault(fold(table), (None, {}))
            if kind == "table":
                out[fold(table)] = (sql, entry[1])
            elif kind == "index" and sql:
                entry[1][fold(name)] = sql

    collect("tbl_name", names)
    missing = [fold(n) for n in names if fold(n) not in out]
    if missing:
        collect("lower(tbl_name)", missing)
    return out


def _table(query: Query, schema: str | None, database: str, name: str,
           columns: list[tuple], table_sql: str | None, index_sql: dict[str, str]
           ) -> TableModel:
    table = TableModel(name=name, schema=schema)
    keys = []
    for column, declared, notnull, default, pk, hidden in columns:
        if hidden == 1:  # a virtual table's hidden column
            continue
        if hidden:
            declared = _GENERATED_WORDS.sub("", declared).strip()
        table.columns[column] = ColumnModel(
            name=column, type=declared or UNKNOWN, nullable=not notnull,
            default=None if default is None else str(default), comment=None)
        if pk:
            keys.append((pk, column))
    table.primary_key = tuple(column for _, column in sorted(keys))
    if table_sql is None:  # a view: columns only
        table.primary_key_name = None
        return table
    text = constraint_text(table_sql)
    table.primary_key_name = text.primary_key_name if keys else None
    _read_indexes(query, database, table, text, index_sql)
    _read_foreign_keys(query, database, table, text)
    table.checks = [CheckModel(check_name, body) for check_name, body in text.checks]
    return table


def constraint_text(sql: str) -> TableText:
    """What the stored ``CREATE TABLE`` text says about constraints. A table whose text
    holds neither ``CONSTRAINT`` nor ``CHECK`` has no constraint names and no checks, so
    its text is not tokenized (most tables a builder migration creates)."""
    if _NAMED_OR_CHECK.search(sql) is None:
        return TableText()
    return scan_create_table(sql)


def index_rows(query: Query, table: str, database: str
               ) -> dict[str, tuple[str, bool, bool, list[str | None]]]:
    """Each index of ``table``: ``(origin, unique, partial, key columns in order)`` by
    name; origin ``c`` is ``CREATE INDEX``, ``u`` a unique constraint, ``pk`` the key."""
    indexes: dict[str, tuple[str, bool, bool, list[str | None]]] = {}
    for index, unique, origin, partial, column in query(
            "SELECT l.name, l.\"unique\", l.origin, l.partial, i.name "
            "FROM pragma_index_list(?, ?) AS l JOIN pragma_index_info(l.name, ?) AS i "
            "ORDER BY l.seq, i.seqno", (table, database, database)):
        indexes.setdefault(index, (origin, bool(unique), bool(partial), []))[3].append(column)
    return indexes


def unique_constraints(indexes: dict, text: TableText) -> list[UniqueModel]:
    """The unique constraints among :func:`index_rows`, named from the stored text."""
    return [UniqueModel(text.unique_names.get(tuple(casefold(c) for c in columns)),
                        tuple(columns))
            for origin, _, _, columns in indexes.values() if origin == "u"]


def _read_indexes(query: Query, database: str, table: TableModel, text: TableText,
                  index_sql: dict[str, str]) -> None:
    """Indexes made by ``CREATE INDEX`` and unique constraints. An index on an
    expression is left out, as the inspector leaves it out (``pragma_index_info`` has no
    name for its column)."""
    indexes = index_rows(query, table.name, database)
    table.uniques = unique_constraints(indexes, text)
    for index, (origin, unique, partial, columns) in indexes.items():
        if origin == "c" and None not in columns:
            where = _predicate(index_sql.get(fold(index))) if partial else None
            table.indexes[index] = IndexModel(index, tuple(columns), unique, where)


def _predicate(sql: str | None) -> str | None:
    """The ``WHERE`` predicate of a stored ``CREATE INDEX`` statement: the text after
    the first ``WHERE`` outside parentheses."""
    if not sql:
        return None
    depth = 0
    for token in tokenize(sql):
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
        elif depth == 0 and token.upper == "WHERE":
            return sql[token.end:].strip()
    return None


def _read_foreign_keys(query: Query, database: str, table: TableModel,
                       text: TableText) -> None:
    """Foreign keys from ``pragma_foreign_key_list``; a key written without referred
    columns refers to the referred table's primary key; names from the stored text."""
    keys: dict[int, tuple[str, list[str], list[str | None], str, str]] = {}
    for key, referred, column, referred_column, on_update, on_delete in query(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete "
            "FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq", (table.name, database)):
        entry = keys.setdefault(key, (referred, [], [], on_delete, on_update))
        entry[1].append(column)
        entry[2].append(referred_column)
    for referred, columns, referred_columns, on_delete, on_update in keys.values():
        if None in referred_columns:
            referred_columns = [name for _, name in sorted(
                (pk, name) for name, pk in query(
                    "SELECT name, pk FROM pragma_table_xinfo(?, ?) WHERE pk > 0",
                    (referred, database)))]
        found = text.foreign_key(tuple(casefold(c) for c in columns), casefold(referred))
        table.foreign_keys.append(ForeignKeyModel(
            found.name if found else None, tuple(columns), table.schema, referred,
            tuple(referred_columns), on_delete, on_update))
