"""T-SQL text: Unicode literals, ``GO`` batch separators, and the batches the provider
runs where one statement cannot do the job.

Every batch here is plain T-SQL that works the same when the engine runs it and when a
``--sql`` script is run by ``sqlcmd``: what depends on the live database (the name of a
default constraint SQL Server generated, the indexes on a column, whether a column is
nullable) is read from the catalog views by the batch itself, at run time, and the
statements that use it are built with ``QUOTENAME`` and run with ``sp_executesql``.

Conventions of the builders below: ``table`` is the quoted (bracketed) table name as it
appears in SQL, e.g. ``[dbo].[order]``; ``column`` is the column's real name, unquoted;
``column_sql`` its quoted form. Names reach the batches only as ``N'...'`` literals
(:func:`nstring`) or inside them, never as bare text.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable

from npa_migrations import sqltext
from npa_migrations.sqltext import Lexicon

#: SQL Server's identifier limit (``sysname`` = ``nvarchar(128)``), in UTF-16 code units
MAX_IDENTIFIER = 128


# literals ---------------------------------------------------------------------------------
def nstring(value: str) -> str:
    """``value`` as a T-SQL Unicode string literal: ``N'it''s'``.

    A backslash right before a line break inside a T-SQL string literal is a line
    continuation (both characters vanish), so such a backslash closes the literal and the
    rest is concatenated: the value round-trips exactly.
    """
    return f"N'{in_string(value)}'"


def in_string(sql: str) -> str:
    """``sql`` escaped to sit inside an ``N'...'`` literal (dynamic SQL): quotes doubled,
    and a backslash before a line break closed off as :func:`nstring` does."""
    text = sql.replace("'", "''")
    return re.sub(r"\\(?=\r?\n)", lambda m: "\\' + N'", text)


def identifier_units(name: str) -> int:
    """Length of ``name`` as SQL Server counts it (UTF-16 code units)."""
    return len(name.encode("utf-16-le")) // 2


def short_name(name: str) -> str:
    """``name`` cut to :data:`MAX_IDENTIFIER` with a hash suffix when longer."""
    if identifier_units(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    head = name
    while identifier_units(head) > MAX_IDENTIFIER - 9:
        head = head[:-1]
    return f"{head}_{digest}"


def default_constraint_name(table: str, column: str) -> str:
    """Name of a default constraint the provider creates: ``DF_<table>_<column>``."""
    return short_name(f"DF_{table}_{column}")


# GO batches --------------------------------------------------------------------------------
_GO_LINE = re.compile(r"^[ \t]*GO(?:[ \t]+(?P<count>\d+))?[ \t]*;?[ \t]*$",
                      re.IGNORECASE | re.MULTILINE)


#: T-SQL's lexicon: ``--`` and nesting ``/* */`` comments, '...' strings, "..." and
#: ``[...]`` names (a doubled closing character stands for itself)
TSQL = Lexicon(nested_comments=True, brackets=True, backticks=False, dollar_quotes=False)


def mask(text: str) -> str:
    """``text`` with the inside of comments, string literals and quoted identifiers
    replaced by spaces (line breaks kept), so positions stay the same and only code is
    left to search. Block comments nest, as in T-SQL."""
    return sqltext.mask(text, TSQL)


def split_go(text: str) -> list[str] | None:
    """Split a script at ``GO`` lines (``sqlcmd``'s batch separator, ``GO <n>`` repeats
    the batch n times); ``None`` when the text has no ``GO`` line outside comments and
    literals. Batches are stripped; empty ones and ones holding only comments are
    dropped."""
    masked = mask(text)
    matches = list(_GO_LINE.finditer(masked))
    if not matches:
        return None
    batches: list[str] = []
    start = 0
    for m in matches:
        chunk = text[start:m.start()]
        count = int(m.group("count") or 1)
        if mask(chunk).strip():
            batches.extend([chunk.strip()] * count)
        start = m.end()
    tail = text[start:]
    if mask(tail).strip():
        batches.append(tail.strip())
    return batches


# results ------------------------------------------------------------------------------------
def drain_results(cursor: Any) -> None:
    """Read every remaining result of a batch. pyodbc reports an error raised by a later
    statement of a batch only when its result is reached, so without this a failed
    statement after a successful one could go unnoticed."""
    while cursor.nextset():
        pass


# batches ------------------------------------------------------------------------------------
def _drop_default(table: str) -> list[str]:
    """Statements dropping the constraint named ``@default`` (when not NULL)."""
    return [f"SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE {in_string(table)} "
            "DROP CONSTRAINT ' + QUOTENAME(@default) END;",
            "IF @sql IS NOT NULL EXEC sp_executesql @sql;"]


def drop_default(table: str, column: str) -> str:
    """Drop the default constraint of ``column``, whatever SQL Server named it (a no-op
    when it has none)."""
    return "\n".join([
        "DECLARE @default sysname, @sql nvarchar(max);",
        "SELECT @default = d.name",
        "FROM sys.default_constraints AS d",
        f"WHERE d.parent_object_id = OBJECT_ID({nstring(table)})",
        f"    AND d.parent_column_id = COLUMNPROPERTY(OBJECT_ID({nstring(table)}), "
        f"{nstring(column)}, 'ColumnId');",
        *_drop_default(table),
    ])


def _column_list(where: str, order: str, descending: bool) -> str:
    """A correlated subquery listing the quoted columns of index ``i``."""
    desc = (" + CASE WHEN k.is_descending_key = 1 THEN N' DESC' ELSE N'' END"
            if descending else "")
    return ("(SELECT STRING_AGG(CAST(QUOTENAME(c.name)" + desc + " AS nvarchar(max)), N', ') "
            f"WITHIN GROUP (ORDER BY {order})\n"
            "         FROM sys.index_columns AS k\n"
            "         JOIN sys.columns AS c ON c.object_id = k.object_id "
            "AND c.column_id = k.column_id\n"
            f"         WHERE k.object_id = i.object_id AND k.index_id = i.index_id AND {where})")


def alter_column(table: str, column: str, column_sql: str, type_sql: str, *,
                 nullable: bool | None, keep_default: bool, in_place: str | None,
                 keep_collation: bool) -> str:
    """``ALTER TABLE ... ALTER COLUMN`` with what SQL Server needs around it.

    * The column's default constraint is dropped first (SQL Server refuses to change a
      column a default is bound to) and, with ``keep_default``, created again afterwards
      with its name and definition.
    * Indexes and unique constraints on the column (as a key or included column, or in
      an index filter; not the primary key) are dropped and recreated around the
      change, unless ``in_place`` -- a T-SQL condition on
      ``@type``/``@length``/``@nullable`` (the column as it is) -- says SQL Server can
      change the column without that (a longer ``(n)varchar``/``varbinary``, a nullability
      that is not tightened). ``in_place = "1 = 1"`` leaves the indexes alone; ``None``
      always rebuilds them.
    * ``nullable=None`` keeps the column's nullability as it is (ALTER COLUMN without
      ``NULL``/``NOT NULL`` would make it nullable).
    * ``keep_collation`` restates the column's collation (ALTER COLUMN without
      ``COLLATE`` would reset it to the database default) -- for a character type given
      without a collation of its own.

    The batch is a flat list of statements (no ``BEGIN ... END``): each conditional
    statement is ``IF <condition> <one statement>``.
    """
    t = in_string(table)
    rebuild = in_place != "1 = 1"
    lines = [
        f"DECLARE @table int = OBJECT_ID({nstring(table)}), @column int, @nullable bit, "
        "@type sysname, @length smallint, @collation sysname, @default sysname, "
        "@definition nvarchar(max), @rebuild bit, @sql nvarchar(max);",
    ]
    if rebuild:
        lines.append("DECLARE @indexes TABLE (name sysname NOT NULL, is_constraint bit NOT NULL, "
                     "is_clustered bit NOT NULL, ddl nvarchar(max) NOT NULL);")
    lines += [
        "SELECT @column = c.column_id, @nullable = c.is_nullable, "
        "@type = TYPE_NAME(c.system_type_id), @length = c.max_length, "
        "@collation = c.collation_name",
        "FROM sys.columns AS c",
        f"WHERE c.object_id = @table AND c.name = {nstring(column)};",
        "SELECT @default = d.name, @definition = d.definition",
        "FROM sys.default_constraints AS d",
        "WHERE d.parent_object_id = @table AND d.parent_column_id = @column;",
        *_drop_default(table),
    ]
    if rebuild:
        clustered = "CASE WHEN i.type = 1 THEN N' CLUSTERED' ELSE N' NONCLUSTERED' END"
        condition = "1 = 0" if in_place is None else in_place
        lines += [
            f"SET @rebuild = CASE WHEN {condition} THEN 0 ELSE 1 END;",
            "INSERT INTO @indexes (name, is_constraint, is_clustered, ddl)",
            "SELECT i.name, i.is_unique_constraint, CASE WHEN i.type = 1 THEN 1 ELSE 0 END,",
            "    CASE WHEN i.is_unique_constraint = 1",
            f"        THEN N'ALTER TABLE {t} ADD CONSTRAINT ' + QUOTENAME(i.name) + N' UNIQUE'"
            f" + {clustered}",
            "        ELSE N'CREATE' + CASE WHEN i.is_unique = 1 THEN N' UNIQUE' ELSE N'' END"
            f" + {clustered}",
            f"            + N' INDEX ' + QUOTENAME(i.name) + N' ON {t}'",
            "    END",
            "    + N' (' + " + _column_list("k.key_ordinal > 0", "k.key_ordinal", True)
            + " + N')'",
            "    + ISNULL(N' INCLUDE (' + "
            + _column_list("k.is_included_column = 1", "k.index_column_id", False)
            + " + N')', N'')",
            "    + ISNULL(N' WHERE ' + i.filter_definition, N'')",
            "FROM sys.indexes AS i",
            "WHERE @rebuild = 1 AND i.object_id = @table AND i.is_primary_key = 0 "
            "AND i.type IN (1, 2) AND i.is_hypothetical = 0",
            "    AND (EXISTS (SELECT 1 FROM sys.index_columns AS k WHERE k.object_id = "
            "i.object_id AND k.index_id = i.index_id AND k.column_id = @column)",
            "        OR (i.has_filter = 1 AND CHARINDEX(QUOTENAME("
            f"{nstring(column)}), i.filter_definition) > 0));",
            "SELECT @sql = STRING_AGG(CAST(CASE WHEN is_constraint = 1",
            f"        THEN N'ALTER TABLE {t} DROP CONSTRAINT ' + QUOTENAME(name)",
            f"        ELSE N'DROP INDEX ' + QUOTENAME(name) + N' ON {t}' END AS nvarchar(max)),"
            " N'; ')",
            "    WITHIN GROUP (ORDER BY is_clustered, name)",
            "FROM @indexes;",
            "IF @sql IS NOT NULL EXEC sp_executesql @sql;",
        ]
    collation = " + ISNULL(N' COLLATE ' + @collation, N'')" if keep_collation else ""
    if nullable is None:
        null_sql = " + CASE WHEN @nullable = 1 THEN N' NULL' ELSE N' NOT NULL' END"
    else:
        null_sql = " + N' NULL'" if nullable else " + N' NOT NULL'"
    lines += [
        f"SET @sql = N'ALTER TABLE {t} ALTER COLUMN {in_string(column_sql)} "
        f"{in_string(type_sql)}'{collation}{null_sql};",
        "EXEC sp_executesql @sql;",
    ]
    if rebuild:
        lines += [
            "SELECT @sql = STRING_AGG(CAST(ddl AS nvarchar(max)), N'; ') "
            "WITHIN GROUP (ORDER BY is_clustered DESC, name)",
            "FROM @indexes;",
            "IF @sql IS NOT NULL EXEC sp_executesql @sql;",
        ]
    if keep_default:
        lines += [
            f"SET @sql = CASE WHEN @default IS NOT NULL THEN N'ALTER TABLE {t} ADD CONSTRAINT ' "
            f"+ QUOTENAME(@default) + N' DEFAULT ' + @definition + N' FOR "
            f"{in_string(column_sql)}' END;",
            "IF @sql IS NOT NULL EXEC sp_executesql @sql;",
        ]
    return "\n".join(lines)


def unique_index(create_sql: str, table: str, columns: Iterable[str]) -> str:
    """``CREATE UNIQUE INDEX`` filtered on ``<column> IS NOT NULL`` for each of its columns
    that is nullable when the batch runs, so rows with a NULL key never collide (the SQL
    standard, PostgreSQL and EF Core semantics; a plain unique index in SQL Server admits
    a single NULL)."""
    names = ", ".join(nstring(c) for c in columns)
    return "\n".join([
        "DECLARE @filter nvarchar(max), @sql nvarchar(max);",
        "SELECT @filter = STRING_AGG(CAST(QUOTENAME(c.name) + N' IS NOT NULL' AS "
        "nvarchar(max)), N' AND ') WITHIN GROUP (ORDER BY c.column_id)",
        "FROM sys.columns AS c",
        f"WHERE c.object_id = OBJECT_ID({nstring(table)}) AND c.is_nullable = 1 "
        f"AND c.name IN ({names});",
        f"SET @sql = N'{in_string(create_sql)}' + ISNULL(N' WHERE ' + @filter, N'');",
        "EXEC sp_executesql @sql;",
    ])


def guarded_batch(pending: str, statements: Iterable[str]) -> str:
    """One migration of an idempotent script: a batch that runs ``statements`` while the
    condition ``pending`` holds. Each statement runs as dynamic SQL (``EXEC(N'...')``), so
    it is compiled only when it runs -- a statement of a migration already applied may
    name a column a later one dropped -- and ``CREATE VIEW`` / ``PROCEDURE`` get the batch
    of their own they need. ``SET IDENTITY_INSERT`` runs in the batch itself: set inside
    ``EXEC`` it would end with it."""
    body = [f"    {text};" if _IDENTITY_INSERT.match(text) else f"    EXEC({nstring(text)});"
            for text in statements]
    return "\n".join([f"IF {pending}", "BEGIN", *body, "END"])


#: the statement :func:`identity_insert` writes
_IDENTITY_INSERT = re.compile(r"^IF EXISTS \(SELECT 1 FROM sys\.identity_columns .*\) "
                              r"SET IDENTITY_INSERT ", re.DOTALL)


def identity_insert(table: str, columns: Iterable[str], on: bool) -> str:
    """``SET IDENTITY_INSERT ... ON|OFF`` when one of ``columns`` is the table's identity
    column (SQL Server refuses explicit values for it otherwise, and refuses the SET on a
    table without one)."""
    names = ", ".join(nstring(c) for c in columns)
    return (f"IF EXISTS (SELECT 1 FROM sys.identity_columns AS c WHERE c.object_id = "
            f"OBJECT_ID({nstring(table)}) AND c.name IN ({names})) "
            f"SET IDENTITY_INSERT {table} {'ON' if on else 'OFF'}")
