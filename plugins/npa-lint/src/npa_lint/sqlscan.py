"""Checks of raw SQL: the statements of ``.sql`` migrations and ``b.execute()``.

A light, per-statement scan with regular expressions (comments and string literals
removed first): it recognises the DDL forms the rules care about --
``ALTER TABLE ... ADD/DROP/ALTER/MODIFY/CHANGE/RENAME``, ``DROP TABLE``,
``CREATE INDEX``, ``RENAME TABLE``, ``sp_rename`` -- and reports them like the builder
checks do. Statements it does not recognise are not flagged.
"""

from __future__ import annotations

import re

from npa_migrations.schema.sqlscan import split_qname, unquote

from . import rules
from .checks import VOLATILE_DEFAULT, Hit

_IDENT = r'(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)'
_QNAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
_COMMENTS_AND_STRINGS = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)

CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?(?:TEMPORARY|TEMP)\s+|UNLOGGED\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<table>{_QNAME})", re.IGNORECASE)
CREATE_INDEX = re.compile(
    rf"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?:(?P<name>{_QNAME})\s+)?ON\s+(?:ONLY\s+)?(?P<table>{_QNAME})",
    re.IGNORECASE)
DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<tables>{_QNAME}"
                        rf"(?:\s*,\s*{_QNAME})*)", re.IGNORECASE)
RENAME_TABLE = re.compile(rf"^RENAME\s+TABLE\s+(?P<table>{_QNAME})\s+TO\s+(?P<new>{_QNAME})",
                          re.IGNORECASE)
SP_RENAME = re.compile(r"^(?:EXEC(?:UTE)?\s+)?sp_rename\s+N?'(?P<old>[^']+)'\s*,\s*N?'(?P<new>[^']+)'"
                       r"(?:\s*,\s*N?'(?P<kind>\w+)')?", re.IGNORECASE)
ALTER_TABLE = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>{_QNAME})"
                         rf"\s+(?P<actions>.*)$", re.IGNORECASE | re.DOTALL)

_CONSTRAINT_WORDS = r"(?:CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK|INDEX|KEY|PARTITION|PERIOD)\b"
ADD_COLUMN = re.compile(rf"^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?!{_CONSTRAINT_WORDS})"
                        rf"(?P<column>{_IDENT})\s+(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
ADD_CONSTRAINT = re.compile(rf"^ADD\s+(?:CONSTRAINT\s+(?P<name>{_IDENT})\s+)?"
                            r"(?P<kind>PRIMARY\s+KEY|UNIQUE|FOREIGN\s+KEY|CHECK)\b(?P<rest>.*)$",
                            re.IGNORECASE | re.DOTALL)
DROP_COLUMN = re.compile(rf"^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(?!{_CONSTRAINT_WORDS}|DEFAULT\b)"
                         rf"(?P<column>{_IDENT})", re.IGNORECASE)
ALTER_TYPE = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?(?P<column>{_IDENT})\s+(?:SET\s+DATA\s+)?TYPE\b",
                        re.IGNORECASE)
SET_NOT_NULL = re.compile(rf"^ALTER\s+(?:COLUMN\s+)?(?P<column>{_IDENT})\s+SET\s+NOT\s+NULL\b",
                          re.IGNORECASE)
MODIFY = re.compile(rf"^MODIFY\s+(?:COLUMN\s+)?(?P<column>{_IDENT})", re.IGNORECASE)
CHANGE = re.compile(rf"^CHANGE\s+(?:COLUMN\s+)?(?P<column>{_IDENT})\s+(?P<new>{_IDENT})",
                    re.IGNORECASE)
RENAME_COLUMN = re.compile(rf"^RENAME\s+(?:COLUMN\s+)?(?!TO\b)(?P<column>{_IDENT})\s+TO\s+"
                           rf"(?P<new>{_IDENT})", re.IGNORECASE)
RENAME_TO = re.compile(rf"^RENAME\s+(?:TO|AS)\s+(?P<new>{_QNAME})", re.IGNORECASE)
MSSQL_ALTER_COLUMN = re.compile(rf"^ALTER\s+COLUMN\s+(?P<column>{_IDENT})\s+(?!SET\b|DROP\b|TYPE\b)",
                                re.IGNORECASE)


def strip(sql: str, *, strings: bool = False) -> str:
    """The statement without comments, with string literals emptied (kept when
    ``strings``)."""
    def replace(match: re.Match) -> str:
        if match.group(0).startswith("'"):
            return match.group(0) if strings else "''"
        return " "

    return _COMMENTS_AND_STRINGS.sub(replace, sql).strip()


def table_key(qname: str) -> tuple[str | None, str]:
    """``(schema, table)`` of a possibly quoted, possibly qualified name."""
    schema, name = split_qname(qname)
    return (unquote(schema) if schema else None, unquote(name))


def split_actions(text: str) -> list[str]:
    """The comma-separated actions of an ``ALTER TABLE``, split at top-level commas."""
    actions, depth, start = [], 0, 0
    for pos, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            actions.append(text[start:pos].strip())
            start = pos + 1
    actions.append(text[start:].strip())
    return [a for a in actions if a]


def created_tables(sql: str) -> list[tuple[str | None, str]]:
    """Tables a statement creates (they are new: nothing uses them yet)."""
    match = CREATE_TABLE.match(strip(sql))
    return [table_key(match["table"])] if match else []


def scan(sql: str, dialect: str) -> list[Hit]:
    """The rule hits of one SQL statement on a database of ``dialect``."""
    text = strip(sql)
    match = ALTER_TABLE.match(text)
    if match:
        table = table_key(match["table"])
        hits: list[Hit] = []
        for action in split_actions(match["actions"]):
            hits += _alter_action(action, table, dialect)
        return hits
    match = CREATE_INDEX.match(text)
    if match:
        if dialect != "postgresql" or match["concurrently"]:
            return []
        table = table_key(match["table"])
        name = unquote(match["name"]) if match["name"] else "(unnamed)"
        return [Hit(rules.CREATE_INDEX_NOT_CONCURRENTLY.id,
                    f"CREATE INDEX {name} on existing table '{_show(table)}' without "
                    "CONCURRENTLY blocks every INSERT, UPDATE and DELETE on the table until "
                    "the index is built.", table,
                    "Write CREATE INDEX CONCURRENTLY and mark the migration "
                    "'-- npa:no-transaction' (first line of the file).")]
    match = DROP_TABLE.match(text)
    if match:
        names = re.findall(_QNAME, match["tables"])
        return [Hit(rules.DROP_TABLE.id,
                    f"DROP TABLE '{_show(table_key(n))}' loses all of its rows for good and "
                    "breaks running application code that still uses it.", table_key(n))
                for n in names]
    match = RENAME_TABLE.match(text)
    if match:
        table = table_key(match["table"])
        return [_rename_table(table, unquote(split_qname(match["new"])[1]))]
    match = SP_RENAME.match(strip(sql, strings=True))
    if match:
        old = table_key(match["old"]) if (match["kind"] or "").upper() != "COLUMN" else None
        if old is not None:
            return [_rename_table(old, match["new"])]
        parts = match["old"].split(".")
        table = table_key(".".join(parts[:-1])) if len(parts) > 1 else None
        return [_rename_column(table, unquote(parts[-1]), match["new"])] if table else []
    return []


def _show(table: tuple[str | None, str]) -> str:
    return f"{table[0]}.{table[1]}" if table[0] else table[1]


def _rename_table(table, new: str) -> Hit:
    return Hit(rules.RENAME_TABLE.id,
               f"Renaming table '{_show(table)}' to '{new}' breaks every running instance of "
               "the application that still uses the old name.", table)


def _rename_column(table, column: str, new: str) -> Hit:
    return Hit(rules.RENAME_COLUMN.id,
               f"Renaming column '{column}' of '{_show(table)}' to '{new}' breaks every running "
               "instance of the application that still uses the old name.", table)


def _rewrite(table, what: str, fix: str | None = None) -> Hit:
    return Hit(rules.REWRITE_LARGE_TABLE.id, f"{what} on '{_show(table)}'", table, fix)


def _alter_action(action: str, table, dialect: str) -> list[Hit]:
    match = ADD_CONSTRAINT.match(action)
    if match:
        kind = " ".join(match["kind"].upper().split())
        if kind in ("FOREIGN KEY", "CHECK"):
            if re.search(r"\bNOT\s+VALID\b", match["rest"], re.IGNORECASE):
                return []
            return [_rewrite(table, f"ADD {kind} checks every existing row while holding a "
                                    "lock that blocks writes",
                             "PostgreSQL: add it NOT VALID, then VALIDATE CONSTRAINT in a "
                             "later migration.")]
        if re.search(r"\bUSING\s+INDEX\b", match["rest"], re.IGNORECASE):
            return []
        return [_rewrite(table, f"ADD {kind} builds a unique index over every row while "
                                "holding a lock that blocks writes",
                         "PostgreSQL: CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT "
                         "... USING INDEX.")]
    match = ADD_COLUMN.match(action)
    if match:
        column, rest = unquote(match["column"]), match["rest"]
        hits = []
        has_default = re.search(r"\bDEFAULT\b", rest, re.IGNORECASE)
        generated = re.search(r"\b(GENERATED|IDENTITY|AUTO_INCREMENT|AUTOINCREMENT|SERIAL|"
                              r"BIGSERIAL|SMALLSERIAL)\b", rest, re.IGNORECASE)
        if re.search(r"\bNOT\s+NULL\b", rest, re.IGNORECASE) and not has_default \
                and not generated:
            hits.append(Hit(rules.ADD_NOT_NULL_COLUMN.id,
                            f"ADD COLUMN '{column}' NOT NULL without a DEFAULT to existing "
                            f"table '{_show(table)}' fails as soon as the table has rows "
                            "(MySQL instead fills in an implicit value silently).", table))
        if dialect == "postgresql" and (generated or (has_default
                                                     and VOLATILE_DEFAULT.search(rest))):
            hits.append(_rewrite(table, f"ADD COLUMN '{column}' with a per-row default "
                                        "rewrites every row under an ACCESS EXCLUSIVE lock"))
        return hits
    match = DROP_COLUMN.match(action)
    if match:
        column = unquote(match["column"])
        return [Hit(rules.DROP_COLUMN.id,
                    f"DROP COLUMN '{column}' of '{_show(table)}' loses its data for good and "
                    "breaks running application code that still reads or writes it.", table)]
    match = RENAME_TO.match(action)
    if match:
        return [_rename_table(table, unquote(split_qname(match["new"])[1]))]
    match = RENAME_COLUMN.match(action)
    if match:
        return [_rename_column(table, unquote(match["column"]), unquote(match["new"]))]
    match = CHANGE.match(action)
    if match:
        hits = [_rewrite(table, f"CHANGE COLUMN '{unquote(match['column'])}' rebuilds the "
                                "table")]
        if unquote(match["column"]) != unquote(match["new"]):
            hits.append(_rename_column(table, unquote(match["column"]), unquote(match["new"])))
        return hits
    match = ALTER_TYPE.match(action)
    if match:
        return [_rewrite(table, f"Changing the type of column '{unquote(match['column'])}' "
                                "rewrites every row under a lock that blocks reads and writes")]
    match = SET_NOT_NULL.match(action)
    if match:
        return [_rewrite(table, f"SET NOT NULL on column '{unquote(match['column'])}' scans "
                                "every row while holding a lock that blocks writes")]
    match = MODIFY.match(action)
    if match:
        return [_rewrite(table, f"MODIFY COLUMN '{unquote(match['column'])}' rebuilds the "
                                "table")]
    if dialect == "mssql":
        match = MSSQL_ALTER_COLUMN.match(action)
        if match:
            return [_rewrite(table, f"ALTER COLUMN '{unquote(match['column'])}' changes every "
                                    "row under a schema-modification lock")]
    return []
