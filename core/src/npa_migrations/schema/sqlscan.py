"""A light scan of raw SQL statements: which tables (and indexes, views, schemas) a
statement names and what it may do to them -- never a guess at what a statement does not
say.

The schema model (:mod:`npa_migrations.schema.model`) uses it to know which tables raw
SQL touched; recovery (:mod:`npa_migrations.schema.probe`) to ask the live schema whether
an interrupted DDL statement took effect. Identifiers may be quoted the ways databases
quote them (``"x"``, ```x```, ``[x]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: ``(schema, name)``; schema ``None`` is the connection's default schema
TableKey = tuple["str | None", str]

#: one identifier, bare or quoted
IDENT = r'(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[^\s.,;()"`\[]+)'
QNAME = rf"{IDENT}(?:\s*\.\s*{IDENT})*"
_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)+", re.DOTALL)

_CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?P<temp>(?:GLOBAL\s+|LOCAL\s+)?(?:TEMP|TEMPORARY)\s+)?"
    rf"(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{QNAME})",
    re.IGNORECASE)
_ALTER_TABLE = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<name>{QNAME})(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL)
_RENAME_TO = re.compile(rf"^\s*RENAME\s+TO\s+(?P<new>{QNAME})\s*$", re.IGNORECASE)
_DROP_TABLE = re.compile(r"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<names>.*?)"
                         r"(?:\s+(?:CASCADE|RESTRICT|PURGE)(?:\s+CONSTRAINTS)?)*\s*$",
                         re.IGNORECASE | re.DOTALL)
_RENAME_TABLE = re.compile(r"^RENAME\s+TABLE\s+(?P<pairs>.*)$", re.IGNORECASE | re.DOTALL)
_CREATE_INDEX = re.compile(
    rf"^CREATE\s+(?:UNIQUE\s+)?(?:CLUSTERED\s+|NONCLUSTERED\s+)?INDEX\s+.*?\bON\s+(?:ONLY\s+)?"
    rf"(?P<name>{QNAME})", re.IGNORECASE | re.DOTALL)
_DROP_INDEX = re.compile(
    rf"^DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?P<index>{QNAME})"
    rf"(?:\s+ON\s+(?P<table>{QNAME}))?", re.IGNORECASE)
_DROP_SCHEMA = re.compile(rf"^DROP\s+SCHEMA\s+(?:IF\s+EXISTS\s+)?(?P<name>{IDENT})",
                          re.IGNORECASE)
#: statements that cannot change the shape of a table
_HARMLESS = re.compile(
    r"^(?:INSERT|UPDATE|DELETE|MERGE|UPSERT|REPLACE\s+INTO|SELECT|WITH|VALUES|TRUNCATE|SET|"
    r"RESET|SHOW|EXPLAIN|GRANT|REVOKE|COMMENT|ANALYZE|ANALYSE|VACUUM|REINDEX|CLUSTER|LOCK|"
    r"UNLOCK|COPY|PRAGMA|BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|"
    r"REFRESH|NOTIFY|LISTEN|USE|DECLARE|OPTIMIZE|FLUSH|"
    r"(?:CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:OR\s+ALTER\s+)?(?:DEFINER\s*=\s*\S+\s+)?"
    r"(?:SQL\s+SECURITY\s+\w+\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?(?:TEMP\s+|TEMPORARY\s+)?"
    r"(?:MATERIALIZED\s+)?(?:(?:CONSTRAINT\s+)?TRIGGER|VIEW|FUNCTION|PROCEDURE|PACKAGE|"
    r"PACKAGE\s+BODY|SEQUENCE|EXTENSION|ROLE|USER|LOGIN|GROUP|SCHEMA|DATABASE|COLLATION|"
    r"POLICY|RULE|STATISTICS|SYNONYM|PUBLIC\s+SYNONYM|EVENT|AGGREGATE|OPERATOR|CAST|"
    r"PUBLICATION|SUBSCRIPTION|SERVER|TEXT\s+SEARCH|LANGUAGE|TABLESPACE|TYPE|DOMAIN))\b",
    re.IGNORECASE)
#: a trigger on a table: the table keeps it (a table rebuild must re-create it)
_CREATE_TRIGGER = re.compile(
    rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{QNAME})\s.*?\bON\s+(?P<table>{QNAME})",
    re.IGNORECASE | re.DOTALL)
_DROP_TRIGGER = re.compile(rf"^DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(?P<name>{QNAME})",
                           re.IGNORECASE)
#: a view or materialized view: a relation that is no table (an index on one is no
#: table's index)
_CREATE_VIEW = re.compile(
    rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:OR\s+ALTER\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?"
    rf"(?:DEFINER\s*=\s*\S+\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:TEMP\s+|TEMPORARY\s+)?"
    rf"(?:RECURSIVE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{QNAME})", re.IGNORECASE)
_DROP_VIEW = re.compile(r"^DROP\s+(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+EXISTS\s+)?(?P<names>.*?)"
                        r"(?:\s+(?:CASCADE|RESTRICT))?\s*$", re.IGNORECASE | re.DOTALL)
#: renaming a type or moving it to another schema changes the type of every column of
#: that type, which the model cannot follow
_TYPE_RENAME = re.compile(
    rf"^ALTER\s+(?:TYPE|DOMAIN)\s+{QNAME}\s+(?:RENAME\s+TO|SET\s+SCHEMA)\b",
    re.IGNORECASE)
#: a DROP of a type/domain/function ... CASCADE can drop columns and defaults
#: statements that change data, never a table: :data:`_HARMLESS` tried first
_DML = re.compile(r"(?:INSERT|UPDATE|DELETE|SELECT|VALUES)\b", re.IGNORECASE)
_CASCADE = re.compile(r"^DROP\b.*\bCASCADE\b", re.IGNORECASE | re.DOTALL)


def unquote(identifier: str) -> str:
    """An identifier as the database holds it: quotes removed, doubled quotes undone."""
    identifier = identifier.strip()
    if len(identifier) >= 2 and identifier[0] + identifier[-1] in ('""', "``", "[]"):
        inner = identifier[1:-1]
        if identifier[0] == '"':
            inner = inner.replace('""', '"')
        elif identifier[0] == "`":
            inner = inner.replace("``", "`")
        return inner
    return identifier


def split_qname(qname: str) -> tuple[str | None, str]:
    """``(schema, name)`` of a possibly qualified name (the last two parts)."""
    parts = [unquote(p) for p in re.findall(IDENT, qname)]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, parts[0] if parts else qname


def strip_comments(sql: str) -> str:
    """The statement without the comments and blanks it starts with."""
    return _COMMENTS.sub("", sql, count=1).strip()


def preview(sql: str, width: int = 60) -> str:
    """The statement on one line, cut to ``width`` characters, for messages."""
    text = " ".join(sql.split())
    return text if len(text) <= width else text[:width - 3] + "..."


@dataclass(frozen=True)
class SqlEffect:
    """What one raw statement may have done to the schema.

    ``kind``: ``none`` (cannot change tables), ``create`` / ``alter`` (table shape unknown),
    ``drop``, ``rename`` (``table`` -> ``new``), ``indexes`` (indexes of ``table`` unknown),
    ``drop_index`` (``index``, ``table`` or ``None``), ``view`` / ``drop_view`` (a view or
    materialized view ``table`` was created / dropped), ``trigger`` (trigger ``index`` on
    ``table``, whose definition is ``sql``) / ``drop_trigger``, ``drop_schema`` or
    ``unknown`` (anything may have changed).
    """

    kind: str
    table: TableKey | None = None
    new: TableKey | None = None
    index: str | None = None
    statement: str = ""
    #: the whole statement, where the effect keeps it (a trigger's definition)
    sql: str = ""


def analyse_statement(sql: str) -> list[SqlEffect]:
    """Effects of one SQL statement on tables (see :class:`SqlEffect`)."""
    text = strip_comments(sql)
    if not text:
        return []
    shown = preview(text)
    if _DML.match(text):  # most statements of a data dump: no need to try the rest
        return [SqlEffect("none", statement=shown)]
    if m := _CREATE_TABLE.match(text):
        if m["temp"]:
            return [SqlEffect("none", statement=shown)]
        return [SqlEffect("create", split_qname(m["name"]), statement=shown)]
    if m := _ALTER_TABLE.match(text):
        table = split_qname(m["name"])
        rename = _RENAME_TO.match(m["rest"])
        if rename:
            new = split_qname(rename["new"])
            return [SqlEffect("rename", table, (new[0] or table[0], new[1]), statement=shown)]
        return [SqlEffect("alter", table, statement=shown)]
    if m := _DROP_TABLE.match(text):
        names = [n for n in re.findall(QNAME, m["names"]) if n.strip(", ")]
        return [SqlEffect("drop", split_qname(n), statement=shown) for n in names]
    if m := _RENAME_TABLE.match(text):
        effects = []
        for pair in m["pairs"].split(","):
            parts = re.split(r"\s+TO\s+", pair.strip(), flags=re.IGNORECASE)
            if len(parts) != 2:
                return [SqlEffect("unknown", statement=shown)]
            effects.append(SqlEffect("rename", split_qname(parts[0]), split_qname(parts[1]),
                                     statement=shown))
        return effects
    if m := _CREATE_TRIGGER.match(text):
        return [SqlEffect("trigger", split_qname(m["table"]),
                          index=split_qname(m["name"])[1], statement=shown, sql=text)]
    if m := _DROP_TRIGGER.match(text):
        return [SqlEffect("drop_trigger", index=split_qname(m["name"])[1], statement=shown)]
    if m := _CREATE_VIEW.match(text):
        return [SqlEffect("view", split_qname(m["name"]), statement=shown)]
    if m := _DROP_VIEW.match(text):
        names = [n for n in re.findall(QNAME, m["names"]) if n.strip(", ")]
        return [SqlEffect("drop_view", split_qname(n), statement=shown) for n in names]
    if _TYPE_RENAME.match(text):
        return [SqlEffect("unknown", statement=shown)]
    if m := _CREATE_INDEX.match(text):
        return [SqlEffect("indexes", split_qname(m["name"]), statement=shown)]
    if m := _DROP_INDEX.match(text):
        on_table = split_qname(m["table"]) if m["table"] else None
        schema, index = split_qname(m["index"])
        return [SqlEffect("drop_index", on_table, index=index, statement=shown)]
    if m := _DROP_SCHEMA.match(text):
        return [SqlEffect("drop_schema", (unquote(m["name"]), ""), statement=shown)]
    if _CASCADE.match(text):
        return [SqlEffect("unknown", statement=shown)]
    if _HARMLESS.match(text):
        return [SqlEffect("none", statement=shown)]
    return [SqlEffect("unknown", statement=shown)]


def changes_rows_only(sql: str) -> bool:
    """Whether ``sql`` is one statement that reads or changes rows, not tables
    (``INSERT``, ``UPDATE``, ``DELETE``, ``SELECT``, ``VALUES``): :func:`analyse_sql`
    finds no effect in it. Cheaper than asking it (no copy, no preview); ``False`` for
    text with a ``;``, which may hold more statements."""
    if ";" in sql:
        return False
    comments = _COMMENTS.match(sql)
    return _DML.match(sql, comments.end() if comments else 0) is not None


def analyse_sql(sql: str) -> list[SqlEffect]:
    """Effects of every statement of a raw SQL text."""
    from ..errors import SqlSplitError
    from ..sqltext import split_statements

    if ";" not in sql:  # one statement (a statement of a split .sql file): no split
        return analyse_statement(sql.strip())
    try:
        statements = split_statements(sql)
    except SqlSplitError:  # quoting of a dialect the portable splitter does not read
        statements = [sql]  # (the provider split it already: one statement)
    effects: list[SqlEffect] = []
    for statement in statements:
        effects.extend(analyse_statement(statement))
    return effects
