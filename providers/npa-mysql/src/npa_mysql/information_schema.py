"""Tables read from ``information_schema`` when ``SHOW CREATE TABLE`` cannot be parsed.

SQLAlchemy's MySQL reflection parses ``SHOW CREATE TABLE`` line by line, and the server
writes a line break inside a quoted name as it is: a column, index or constraint whose
name holds one is lost or cut in two. ``information_schema`` holds every name exactly,
so the tables concerned (found by :func:`tables_with_line_breaks`, in the same
``SHOW CREATE TABLE`` text) are read again from it by :func:`read_tables`. Column types
stay the server's text (``int(11)``, ``varchar(20)``): drift compares types as text
anyway.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Iterable

from npa_migrations.schema.model import (CheckModel, ColumnModel, ForeignKeyModel,
                                         IndexModel, TableModel, UniqueModel)
from npa_migrations.sqltext import QUOTED, tokens

from .sqltext import MYSQL

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

_SCHEMA = "TABLE_SCHEMA = COALESCE(%(schema)s, DATABASE())"
_COLUMNS = f"""
    SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
           DATA_TYPE
      FROM information_schema.COLUMNS WHERE {_SCHEMA} AND TABLE_NAME IN %(tables)s
     ORDER BY TABLE_NAME, ORDINAL_POSITION
"""
_INDEXES = f"""
    SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME
      FROM information_schema.STATISTICS WHERE {_SCHEMA} AND TABLE_NAME IN %(tables)s
     ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
_FOREIGN_KEYS = """
    SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA,
           k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
      FROM information_schema.KEY_COLUMN_USAGE k
      JOIN information_schema.REFERENTIAL_CONSTRAINTS r
        ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME
       AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
     WHERE k.TABLE_SCHEMA = COALESCE(%(schema)s, DATABASE()) AND k.TABLE_NAME IN %(tables)s
       AND k.REFERENCED_TABLE_NAME IS NOT NULL
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
#: MariaDB names checks per table (CHECK_CONSTRAINTS has TABLE_NAME); MySQL per schema
_CHECKS_MARIADB = """
    SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
     WHERE CONSTRAINT_SCHEMA = COALESCE(%(schema)s, DATABASE()) AND TABLE_NAME IN %(tables)s
"""
_CHECKS_MYSQL = """
    SELECT t.TABLE_NAME, t.CONSTRAINT_NAME, c.CHECK_CLAUSE
      FROM information_schema.TABLE_CONSTRAINTS t
      JOIN information_schema.CHECK_CONSTRAINTS c
        ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
     WHERE t.CONSTRAINT_SCHEMA = COALESCE(%(schema)s, DATABASE()) AND t.TABLE_NAME IN %(tables)s
       AND t.CONSTRAINT_TYPE = 'CHECK'
"""
_TEXT_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum",
               "set"}


def _rows(connection: "sa.Connection", sql: str, schema: str | None,
          tables: Iterable[str]) -> list:
    """The rows of ``sql`` in PyMySQL's own parameter style (it writes a list as
    ``('a', 'b')``), run as it is: compiling an ``IN`` list through ``sa.text`` cost
    more than the query on a local server, after every verified migration."""
    return list(connection.exec_driver_sql(sql, {"schema": schema, "tables": list(tables)}))


def tables_with_line_breaks(connection: "sa.Connection", schema: str | None,
                            tables: list[str]) -> set[str]:
    """The ``tables`` whose own name, or the name of one of their columns, indexes or
    constraints, has a line break.

    Each table's ``SHOW CREATE TABLE`` text -- what SQLAlchemy parses -- is read and its
    quoted names are looked at with MySQL's lexicon: one cheap round trip a table, where
    ``information_schema`` cost ≈ 0.5 ms a query on MariaDB after every verified
    migration. The server writes a string in that text with backslash escapes whatever
    the ``sql_mode`` (a line break in a comment or default is ``\\n``), so the lexicon
    with backslash escapes reads it."""
    broken = {table for table in tables if "\n" in table}
    quote = connection.dialect.identifier_preparer.quote
    prefix = f"{quote(schema)}." if schema else ""
    for table in dict.fromkeys(tables):
        if table not in broken:
            # quote() doubles a % in a name, as the driver formats every statement
            row = connection.exec_driver_sql(
                f"SHOW CREATE TABLE {prefix}{quote(table)}").fetchone()
            if row is not None and _breaks_a_name(row[1]):
                broken.add(table)
    return broken


def _breaks_a_name(definition: str) -> bool:
    """Whether a quoted name in the text of ``SHOW CREATE TABLE`` holds a line break."""
    return any(kind == QUOTED and "\n" in definition[start:end]
               for kind, start, end in tokens(definition, MYSQL))


def read_tables(connection: "sa.Connection", schema: str | None, tables: list[str],
                mariadb: bool) -> list[TableModel]:
    """``tables`` as :class:`~npa_migrations.schema.model.TableModel` objects, every
    name exactly as the server holds it."""
    models = {name: TableModel(name=name, schema=schema) for name in tables}
    for table, name, type_, nullable, default, extra, data_type in _rows(
            connection, _COLUMNS, schema, tables):
        models[table].columns[name] = ColumnModel(
            name=name, type=type_, nullable=nullable == "YES",
            default=_default(default, data_type, extra or "", mariadb),
            autoincrement="auto_increment" in (extra or "").lower())
    _read_keys(models, _rows(connection, _INDEXES, schema, tables))
    foreign_keys: dict[tuple[str, str], list] = defaultdict(list)
    for row in _rows(connection, _FOREIGN_KEYS, schema, tables):
        foreign_keys[(row[0], row[1])].append(row)
    current = schema or connection.exec_driver_sql("SELECT DATABASE()").scalar()
    for (table, name), rows in foreign_keys.items():
        referred_schema = rows[0][3]
        models[table].foreign_keys.append(ForeignKeyModel(
            name, tuple(r[2] for r in rows),
            None if referred_schema == current else referred_schema, rows[0][4],
            tuple(r[5] for r in rows), rows[0][6], rows[0][7]))
    for table, name, clause in _rows(connection, _CHECKS_MARIADB if mariadb
                                     else _CHECKS_MYSQL, schema, tables):
        models[table].checks.append(CheckModel(name, clause))
    return list(models.values())


def _read_keys(models: dict[str, TableModel], rows: list) -> None:
    keys: dict[tuple[str, str], list] = defaultdict(list)
    for table, index, non_unique, column in rows:
        keys[(table, index)].append((int(non_unique), column))
    for (table, index), entries in keys.items():
        columns = tuple(column for _, column in entries)
        if index == "PRIMARY":
            models[table].primary_key = columns
        elif entries[0][0]:
            models[table].indexes[index] = IndexModel(index, columns, False)
        else:
            models[table].uniques.append(UniqueModel(index, columns))


def _default(value: str | None, data_type: str, extra: str, mariadb: bool) -> str | None:
    """MariaDB writes a default as SQL (``'new'``, ``NULL``); MySQL writes a literal's
    bare value and marks expressions ``DEFAULT_GENERATED``: quote MySQL's text values."""
    if value is None or mariadb:
        return value
    if data_type.lower() in _TEXT_TYPES and "DEFAULT_GENERATED" not in extra.upper():
        return "'" + value.replace("'", "''") + "'"
    return value
