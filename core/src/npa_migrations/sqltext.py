"""Splitting SQL script text into statements, and normalising it for checksums.

A single-pass scanner rather than a parser: it only needs to know where a ``;`` is not
inside a string, a quoted identifier, a comment, a PostgreSQL dollar-quoted body or a
``BEGIN ... END`` block (triggers, procedures). It is linear in the text length, which
keeps discovery of thousands of SQL files cheap.

What a dialect writes differently -- comment styles, quote characters, escapes, blocks --
is a :class:`Lexicon`; providers pass theirs to :func:`tokens`, :func:`split_statements`,
:func:`strip_comments` and :func:`mask`, and keep only their truly different rules (a
``GO`` batch separator, SQL*Plus ``/`` lines) as a layer on top.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Lexicon:
    """How one SQL dialect writes comments, strings and quoted names: what a splitter must
    step over. The defaults are the portable lexicon (:data:`PORTABLE`)."""

    #: ``--`` starts a comment only before white space or the end (MySQL)
    dash_comment_needs_space: bool = False
    #: ``#`` starts a line comment (MySQL)
    hash_comments: bool = False
    #: ``/* ... */`` comments nest (T-SQL)
    nested_comments: bool = False
    #: ``/*! ... */`` is code, not a comment (MySQL executable comments)
    executable_comments: bool = False
    #: a backslash escapes the next character inside ``'...'`` and ``"..."`` (MySQL)
    backslash_escapes: bool = False
    #: a doubled ``""`` stands for ``"`` inside ``"..."`` (not in Oracle)
    doubled_double_quotes: bool = True
    #: ```...``` quotes names (MySQL, SQLite)
    backticks: bool = True
    #: ``[...]`` quotes names (SQL Server)
    brackets: bool = False
    #: PostgreSQL ``$tag$ ... $tag$`` bodies
    dollar_quotes: bool = True
    #: Oracle ``q'[...]'`` alternative quoting
    q_quotes: bool = False
    #: ``BEGIN ... END`` and ``CASE ... END`` are kept whole (no split inside them)
    blocks: bool = True
    #: more ``(kind, regex)`` alternatives, tried before ``;`` (Oracle's ``/`` lines)
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def pattern(self) -> re.Pattern:
        return _pattern(self)


#: what the portable splitter knows: ``--`` and ``/* */`` comments, ``'...'``, ``"..."``,
#: backticks, dollar quotes, ``BEGIN ... END`` blocks
PORTABLE = Lexicon()
#: the portable lexicon with ``[...]`` names
BRACKETS = Lexicon(brackets=True)

#: token kinds :func:`tokens` yields besides the ``extra`` ones
COMMENT, CODE_COMMENT, STRING, QUOTED, WORD, SEMI = (
    "comment", "code_comment", "string", "quoted", "word", "semi")


@functools.lru_cache(maxsize=None)
def _pattern(lexicon: Lexicon) -> re.Pattern:
    escape = r"|\\." if lexicon.backslash_escapes else ""  # \ then any character
    single = (r"[^'\\]" if escape else "[^']") + "|''" + escape
    double = (r'[^"\\]' if escape else '[^"]') + ('|""' if lexicon.doubled_double_quotes
                                                   else "") + escape
    dash = r"--(?=[ \t\r\n]|\Z)" if lexicon.dash_comment_needs_space else "--"
    line = rf"(?:{dash}|\#)" if lexicon.hash_comments else dash
    parts = [rf"(?P<line_comment>{line}[^\n]*)"]
    if lexicon.executable_comments:
        parts.append(r"(?P<code_comment>/\*!.*?(?:\*/|\Z))")
    if lexicon.nested_comments:
        parts.append(r"(?P<nested_comment>/\*)")
    else:
        parts.append(r"(?P<block_comment>/\*.*?(?:\*/|\Z))")
    if lexicon.q_quotes:
        parts.append(r"(?P<qquote>\b[nN]?[qQ]'.)")
    parts.append(rf"(?P<single>'(?:{single})*(?:'|\Z))")
    parts.append(rf'(?P<double>"(?:{double})*(?:"|\Z))')
    if lexicon.backticks:
        parts.append(r"(?P<backtick>`(?:[^`]|``)*(?:`|\Z))")
    if lexicon.brackets:
        parts.append(r"(?P<bracket>\[(?:[^\]]|\]\])*(?:\]|\Z))")
    if lexicon.dollar_quotes:
        # not after a name character: PostgreSQL names may hold "$" (a$b$c)
        parts.append(r"(?P<dollar>(?<![\w$])\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)")
    parts.extend(f"(?P<{kind}>{regex})" for kind, regex in lexicon.extra)
    if lexicon.blocks:
        parts.append(r"(?P<word>\b(?:BEGIN|END|CASE)\b)")
    parts.append("(?P<semi>;)")
    return re.compile("\n| ".join(parts), re.VERBOSE | re.DOTALL | re.IGNORECASE | re.MULTILINE)


_KINDS = {"line_comment": COMMENT, "block_comment": COMMENT, "nested_comment": COMMENT,
          "code_comment": CODE_COMMENT, "single": STRING, "qquote": STRING, "dollar": STRING,
          "double": QUOTED, "backtick": QUOTED, "bracket": QUOTED}
_CLOSERS = {"[": "]", "{": "}", "<": ">", "(": ")"}


def tokens(text: str, lexicon: Lexicon = PORTABLE) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of every comment, string, quoted name, block keyword and
    ``;`` of ``text`` (kinds :data:`COMMENT`, :data:`CODE_COMMENT`, :data:`STRING`,
    :data:`QUOTED`, :data:`WORD`, :data:`SEMI`, and the lexicon's ``extra`` ones); an
    unterminated string or comment runs to the end."""
    pattern = lexicon.pattern
    pos, length = 0, len(text)
    while pos < length:
        m = pattern.search(text, pos)
        if not m:
            return
        group = m.lastgroup
        start, end = m.start(), m.end()
        if group == "dollar":
            close = text.find(m.group(0), end)
            end = length if close < 0 else close + len(m.group(0))
        elif group == "qquote":
            closer = _CLOSERS.get(text[end - 1], text[end - 1]) + "'"
            close = text.find(closer, end)
            end = length if close < 0 else close + 2
        elif group == "nested_comment":
            end = _nested_comment_end(text, end)
        yield _KINDS.get(group, group), start, end
        pos = max(end, start + 1)


def _nested_comment_end(text: str, pos: int) -> int:
    depth = 1
    while depth:
        close = text.find("*/", pos)
        if close < 0:
            return len(text)
        opened = text.find("/*", pos, close)
        if opened >= 0:
            depth, pos = depth + 1, opened + 2
        else:
            depth, pos = depth - 1, close + 2
    return pos


def split_statements(text: str, *, brackets: bool = False,
                     lexicon: Lexicon | None = None) -> list[str]:
    """Split ``text`` into statements at top-level semicolons.

    :param brackets: treat ``[...]`` as quoted identifiers (SQL Server).
    :param lexicon: the dialect's :class:`Lexicon` (default: :data:`PORTABLE`, or
        :data:`BRACKETS` with ``brackets``).
    :returns: statements without their terminating ``;``, stripped, empty and
        comment-only ones dropped.
    """
    lexicon = lexicon or (BRACKETS if brackets else PORTABLE)
    statements: list[str] = []
    start = 0
    depth = 0  # BEGIN/CASE ... END nesting
    skip_to = 0  # past the CASE of an END CASE
    for kind, begin, end in tokens(text, lexicon):
        if kind == WORD:
            if begin < skip_to:
                continue
            word = text[begin:end].upper()
            if word == "END":
                after = _END_CASE.match(text, end)
                if after:  # END CASE closes the CASE counted when it opened
                    skip_to = after.end()
                    depth = max(0, depth - 1)
                elif not _closes_control(text, end):
                    depth = max(0, depth - 1)
            elif word == "CASE" or _opens_block(text, end):
                depth += 1
        elif kind == SEMI and depth == 0:
            _append(statements, text[start:begin], lexicon)
            start = end
    _append(statements, text[start:], lexicon)
    return statements


_END_CASE = re.compile(r"\s+CASE\b", re.IGNORECASE)


def _opens_block(text: str, after: int) -> bool:
    """``BEGIN`` opens a block unless it starts a transaction (``BEGIN;``, ``BEGIN TRANSACTION``)."""
    rest = text[after:after + 40].lstrip().upper()
    return not (rest.startswith(";") or rest == "" or rest.startswith("TRANSACTION")
                or rest.startswith("WORK") or rest.startswith("TRAN"))


def _closes_control(text: str, after: int) -> bool:
    """``END IF`` / ``END LOOP`` / ``END WHILE`` / ``END REPEAT`` close statements whose
    opening keyword was not counted (``CASE`` was: see ``END CASE``)."""
    rest = text[after:after + 12].lstrip().upper()
    return rest.startswith(("IF", "LOOP", "WHILE", "REPEAT"))


def _append(statements: list[str], chunk: str, lexicon: Lexicon) -> None:
    stripped = chunk.strip()
    if stripped and strip_comments(stripped, lexicon).strip():
        statements.append(stripped)


def strip_comments(text: str, lexicon: Lexicon = PORTABLE) -> str:
    """``text`` without its comments (strings, quoted names and executable comments kept)."""
    out = []
    pos = 0
    for kind, begin, end in tokens(text, lexicon):
        if kind == COMMENT:
            out.append(text[pos:begin])
            pos = end
    out.append(text[pos:])
    return "".join(out)


def mask(text: str, lexicon: Lexicon = PORTABLE) -> str:
    """``text`` with comments and the inside of strings and quoted names replaced by
    spaces (line breaks kept), so positions stay the same and only code is left to
    search; the quotes themselves are kept (a string is not "only comments")."""
    out = list(text)
    for kind, begin, end in tokens(text, lexicon):
        if kind == COMMENT:
            first, last = begin, end
        elif kind in (STRING, QUOTED):
            first, last = begin + 1, end
            if end - begin > 1 and text[end - 1] in "'\"`]$":
                last = end - 1
        else:
            continue
        for k in range(first, last):
            if out[k] not in "\r\n":
                out[k] = " "
    return "".join(out)


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
