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
from functools import cache

#: ``(schema, name)``; schema ``None`` is the connection's default schema
TableKey = tuple["str | None", str]

#: one identifier, bare or quoted
IDENT = r'(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[^\s.,;()"`\[]+)'
QNAME = rf"{IDENT}(?:\s*\.\s*{IDENT})*"
_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)+", re.DOTALL)

#: the statement forms the scan reads, ``name: (pattern, flags)``, each compiled the first
#: time a statement's first word leads to it (:func:`_form`): a run whose migrations only
#: create tables and indexes compiles only the CREATE forms
_FORMS: dict[str, tuple[str, int]] = {
    "create_table": (
        rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?P<temp>(?:GLOBAL\s+|LOCAL\s+)?(?:TEMP|TEMPORARY)\s+)?"
        rf"(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{QNAME})",
        re.IGNORECASE),
    "alter_table": (
        rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<name>{QNAME})(?P<rest>.*)$",
        re.IGNORECASE | re.DOTALL),
    "rename_to": (rf"^\s*RENAME\s+TO\s+(?P<new>{QNAME})\s*$", re.IGNORECASE),
    "drop_table": (r"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<names>.*?)"
                   r"(?:\s+(?:CASCADE|RESTRICT|PURGE)(?:\s+CONSTRAINTS)?)*\s*$",
                   re.IGNORECASE | re.DOTALL),
    "rename_table": (r"^RENAME\s+TABLE\s+(?P<pairs>.*)$", re.IGNORECASE | re.DOTALL),
    "create_index": (
        rf"^CREATE\s+(?:UNIQUE\s+)?(?:CLUSTERED\s+|NONCLUSTERED\s+)?INDEX\s+.*?\bON\s+(?:ONLY\s+)?"
        rf"(?P<name>{QNAME})", re.IGNORECASE | re.DOTALL),
    "drop_index": (
        rf"^DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?(?P<index>{QNAME})"
        rf"(?:\s+ON\s+(?P<table>{QNAME}))?", re.IGNORECASE),
    "drop_schema": (rf"^DROP\s+SCHEMA\s+(?:IF\s+EXISTS\s+)?(?P<name>{IDENT})", re.IGNORECASE),
    # statements that cannot change the shape of a table
    "harmless": (
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
        re.IGNORECASE),
    # a trigger on a table: the table keeps it (a table rebuild must re-create it)
    "create_trigger": (
        rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?TRIGGER\s+"
        rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{QNAME})\s.*?\bON\s+(?P<table>{QNAME})",
        re.IGNORECASE | re.DOTALL),
    "drop_trigger": (rf"^DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(?P<name>{QNAME})", re.IGNORECASE),
    # a view or materialized view: a relation that is no table (an index on one is no
    # table's index)
    "create_view": (
        rf"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:OR\s+ALTER\s+)?(?:ALGORITHM\s*=\s*\w+\s+)?"
        rf"(?:DEFINER\s*=\s*\S+\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:TEMP\s+|TEMPORARY\s+)?"
        rf"(?:RECURSIVE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?"
        rf"(?P<name>{QNAME})", re.IGNORECASE),
    "drop_view": (r"^DROP\s+(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+EXISTS\s+)?(?P<names>.*?)"
                  r"(?:\s+(?:CASCADE|RESTRICT))?\s*$", re.IGNORECASE | re.DOTALL),
    # renaming a type or moving it to another schema changes the type of every column of
    # that type, which the model cannot follow
    "type_rename": (rf"^ALTER\s+(?:TYPE|DOMAIN)\s+{QNAME}\s+(?:RENAME\s+TO|SET\s+SCHEMA)\b",
                    re.IGNORECASE),
    # a DROP of a type/domain/function ... CASCADE can drop columns and defaults
    "cascade": (r"^DROP\b.*\bCASCADE\b", re.IGNORECASE | re.DOTALL),
}
#: statements that change data, never a table: tried before any form (most statements of
#: a data dump are these)
_DML = re.compile(r"(?:INSERT|UPDATE|DELETE|SELECT|VALUES)\b", re.IGNORECASE)


@cache
def _form(name: str) -> re.Pattern[str]:
    """The compiled pattern of one of :data:`_FORMS`."""
    pattern, flags = _FORMS[name]
    return re.compile(pattern, flags)


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
    reader = _READERS.get(text.split(None, 1)[0].upper())
    effects = reader(text, shown) if reader else None
    if effects is not None:
        return effects
    if _form("harmless").match(text):
        return [SqlEffect("none", statement=shown)]
    return [SqlEffect("unknown", statement=shown)]


def _read_create(text: str, shown: str) -> list[SqlEffect] | None:
    if m := _form("create_table").match(text):
        if m["temp"]:
            return [SqlEffect("none", statement=shown)]
        return [SqlEffect("create", split_qname(m["name"]), statement=shown)]
    if m := _form("create_trigger").match(text):
        return [SqlEffect("trigger", split_qname(m["table"]),
                          index=split_qname(m["name"])[1], statement=shown, sql=text)]
    if m := _form("create_view").match(text):
        return [SqlEffect("view", split_qname(m["name"]), statement=shown)]
    if m := _form("create_index").match(text):
        return [SqlEffect("indexes", split_qname(m["name"]), statement=shown)]
    return None


def _read_alter(text: str, shown: str) -> list[SqlEffect] | None:
    if m := _form("alter_table").match(text):
        table = split_qname(m["name"])
        rename = _form("rename_to").match(m["rest"])
        if rename:
            new = split_qname(rename["new"])
            return [SqlEffect("rename", table, (new[0] or table[0], new[1]), statement=shown)]
        return [SqlEffect("alter", table, statement=shown)]
    if _form("type_rename").match(text):
        return [SqlEffect("unknown", statement=shown)]
    return None


def _read_drop(text: str, shown: str) -> list[SqlEffect] | None:
    if m := _form("drop_table").match(text):
        names = [n for n in re.findall(QNAME, m["names"]) if n.strip(", ")]
        return [SqlEffect("drop", split_qname(n), statement=shown) for n in names]
    if m := _form("drop_trigger").match(text):
        return [SqlEffect("drop_trigger", index=split_qname(m["name"])[1], statement=shown)]
    if m := _form("drop_view").match(text):
        names = [n for n in re.findall(QNAME, m["names"]) if n.strip(", ")]
        return [SqlEffect("drop_view", split_qname(n), statement=shown) for n in names]
    if m := _form("drop_index").match(text):
        on_table = split_qname(m["table"]) if m["table"] else None
        schema, index = split_qname(m["index"])
        return [SqlEffect("drop_index", on_table, index=index, statement=shown)]
    if m := _form("drop_schema").match(text):
        return [SqlEffect("drop_schema", (unquote(m["name"]), ""), statement=shown)]
    if _form("cascade").match(text):
        return [SqlEffect("unknown", statement=shown)]
    return None


def _read_rename(text: str, shown: str) -> list[SqlEffect] | None:
    if m := _form("rename_table").match(text):
        effects = []
        for pair in m["pairs"].split(","):
            parts = re.split(r"\s+TO\s+", pair.strip(), flags=re.IGNORECASE)
            if len(parts) != 2:
                return [SqlEffect("unknown", statement=shown)]
            effects.append(SqlEffect("rename", split_qname(parts[0]), split_qname(parts[1]),
                                     statement=shown))
        return effects
    return None


#: the forms a statement may have, by its first word (every form of :data:`_FORMS` but
#: ``harmless`` starts with one of these words), each reader trying them in turn and
#: returning ``None`` when none matches
_READERS = {"CREATE": _read_create, "ALTER": _read_alter, "DROP": _read_drop,
            "RENAME": _read_rename}


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
