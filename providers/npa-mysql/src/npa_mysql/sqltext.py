"""Splitting MySQL / MariaDB script text into statements.

MySQL differs from the portable splitter in :mod:`npa_migrations.sqltext`: ``#`` starts
a comment, ``--`` is a comment only when followed by white space, backslash escapes work
inside '...' and "..." strings (unless the server runs with ``NO_BACKSLASH_ESCAPES``), and
double quotes delimit strings, not identifiers. ``/*! ... */`` executable comments are statements, not comments.
``BEGIN ... END`` bodies of triggers and procedures are kept whole, as in the core splitter. The ``DELIMITER`` command of the
``mysql`` client is not SQL and is not supported: pass a routine as one ``execute()``.
"""

from __future__ import annotations

import re

_TOKEN = r"""
      (?P<line_comment>(?:--(?=[ \t\r\n]|\Z)|\#)[^\n]*)
    | (?P<exec_comment>/\*!.*?(?:\*/|\Z))
    | (?P<block_comment>/\*.*?(?:\*/|\Z))
    | (?P<single>'(?:{single})*(?:'|\Z))
    | (?P<double>"(?:{double})*(?:"|\Z))
    | (?P<backtick>`(?:[^`]|``)*(?:`|\Z))
    | (?P<word>\b(?:BEGIN|END|CASE)\b)
    | (?P<semi>;)
"""
_FLAGS = re.VERBOSE | re.DOTALL | re.IGNORECASE
_WITH_BACKSLASH = re.compile(_TOKEN.format(single=r"[^'\\]|\\.|''", double=r'[^"\\]|\\.|""'),
                             _FLAGS)
_NO_BACKSLASH = re.compile(_TOKEN.format(single=r"[^']|''", double=r'[^"]|""'), _FLAGS)
_END_CASE = re.compile(r"\s+CASE\b", re.IGNORECASE)


def split_mysql(text: str, *, backslash_escapes: bool = True) -> list[str]:
    """Split ``text`` at top-level semicolons; returns stripped statements without
    their ``;``, comment-only chunks dropped."""
    token = _WITH_BACKSLASH if backslash_escapes else _NO_BACKSLASH
    statements: list[str] = []
    start = pos = depth = 0
    while True:
        m = token.search(text, pos)
        if not m:
            break
        kind = m.lastgroup
        if kind == "word":
            word = m.group(0).upper()
            if word == "END":
                after = _END_CASE.match(text, m.end())
                if after:  # END CASE closes the CASE counted when it opened
                    depth = max(0, depth - 1)
                    pos = after.end()
                    continue
                if not _closes_control(text, m.end()):
                    depth = max(0, depth - 1)
            elif word == "CASE" or _opens_block(text, m.end()):
                depth += 1
        elif kind == "semi" and depth == 0:
            _append(statements, text[start:m.start()], token)
            start = m.end()
        pos = m.end()
    _append(statements, text[start:], token)
    return statements


def _opens_block(text: str, after: int) -> bool:
    """``BEGIN`` opens a compound block unless it starts a transaction."""
    rest = text[after:after + 40].lstrip().upper()
    return not (rest == "" or rest.startswith((";", "WORK", "TRANSACTION")))


def _closes_control(text: str, after: int) -> bool:
    """``END IF`` / ``END LOOP`` / ``END WHILE`` / ``END REPEAT`` / ``END CASE`` close
    statements whose opening keyword was not counted (``CASE`` was)."""
    rest = text[after:after + 12].lstrip().upper()
    return rest.startswith(("IF", "LOOP", "WHILE", "REPEAT"))


def _append(statements: list[str], chunk: str, token: re.Pattern) -> None:
    stripped = chunk.strip()
    if not stripped:
        return
    for m in token.finditer(stripped):
        if m.lastgroup not in ("line_comment", "block_comment"):
            statements.append(stripped)
            return
    without = token.sub(lambda m: "" if m.lastgroup in ("line_comment", "block_comment")
                        else m.group(0), stripped)
    if without.strip():
        statements.append(stripped)
