"""Splitting SQL script text into statements, and normalising it for checksums.

A single-pass scanner rather than a parser: it only needs to know where a ``;`` is not
inside a string, a quoted identifier, a comment, a PostgreSQL dollar-quoted body or a
``BEGIN ... END`` block (triggers, PL/SQL). It is linear in the text length, which keeps
discovery of thousands of SQL files cheap.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
      (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?(?:\*/|\Z))
    | (?P<single>'(?:[^']|'')*(?:'|\Z))
    | (?P<double>"(?:[^"]|"")*(?:"|\Z))
    | (?P<backtick>`(?:[^`]|``)*(?:`|\Z))
    | (?P<bracket>\[[^\]]*(?:\]|\Z))
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$)
    | (?P<word>\b(?:BEGIN|END|CASE)\b)
    | (?P<semi>;)
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)


def split_statements(text: str, *, brackets: bool = False) -> list[str]:
    """Split ``text`` into statements at top-level semicolons.

    :param brackets: treat ``[...]`` as quoted identifiers (SQL Server).
    :returns: statements without their terminating ``;``, stripped, empty ones dropped.
    """
    statements: list[str] = []
    start = 0
    depth = 0  # BEGIN/CASE ... END nesting
    pos = 0
    length = len(text)
    while pos < length:
        m = _TOKEN.search(text, pos)
        if not m:
            break
        kind = m.lastgroup if m.lastgroup != "tag" else "dollar"
        if kind == "bracket" and not brackets:
            pos = m.start() + 1
            continue
        if kind == "dollar":
            tag = m.group(0)
            close = text.find(tag, m.end())
            pos = length if close < 0 else close + len(tag)
            continue
        if kind == "word":
            word = m.group(0).upper()
            if word == "END":
                if not _closes_control(text, m.end()):
                    depth = max(0, depth - 1)
            elif word == "CASE" or _opens_block(text, m.end()):
                depth += 1
        elif kind == "semi" and depth == 0:
            _append(statements, text[start:m.start()])
            start = m.end()
        pos = m.end()
    _append(statements, text[start:])
    return statements


def _opens_block(text: str, after: int) -> bool:
    """``BEGIN`` opens a block unless it starts a transaction (``BEGIN;``, ``BEGIN TRANSACTION``)."""
    rest = text[after:after + 40].lstrip().upper()
    return not (rest.startswith(";") or rest == "" or rest.startswith("TRANSACTION")
                or rest.startswith("WORK") or rest.startswith("TRAN"))


def _closes_control(text: str, after: int) -> bool:
    """``END IF`` / ``END LOOP`` / ``END WHILE`` close statements that did not open a block."""
    rest = text[after:after + 12].lstrip().upper()
    return rest.startswith(("IF", "LOOP", "WHILE", "REPEAT"))


def _append(statements: list[str], chunk: str) -> None:
    stripped = chunk.strip()
    if stripped and not _only_comments(stripped):
        statements.append(stripped)


def _only_comments(chunk: str) -> bool:
    for m in _TOKEN.finditer(chunk):
        if m.lastgroup not in ("line_comment", "block_comment"):
            return False
    without = _TOKEN.sub(lambda m: "" if m.lastgroup in ("line_comment", "block_comment")
                         else m.group(0), chunk)
    return not without.strip()


def normalise(text: str) -> str:
    """Text form used for SQL-file checksums: LF line ends, no trailing blanks per line,
    no leading/trailing blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def first_line(sql: str) -> str:
    """The first non-empty line of a statement, for error messages."""
    for line in sql.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
