"""A small tokenizer for SQLite's stored ``CREATE TABLE`` / ``CREATE INDEX`` text.

SQLite keeps some facts about a table only in the text of its ``CREATE TABLE``
statement: constraint names, ``CHECK`` bodies, column collations, generated-column
expressions and ``AUTOINCREMENT``. SQLAlchemy's SQLite reflection finds these with
regular expressions that break on quoted names holding quotes, spaces or keywords, so the
rebuild reads them with this tokenizer instead (everything the ``PRAGMA`` functions
report is still taken from them, through SQLAlchemy's inspector).

The tokenizer knows SQLite's lexical rules that matter here: the four identifier quote
styles (``"x"``, ``[x]``, ```x```, and ``'x'`` where an identifier is expected), string
literals, comments, and parentheses. It does not validate SQL: the text was accepted by
SQLite already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache


@cache
def _token_pattern() -> re.Pattern[str]:
    """The tokenizer's pattern, compiled when a table's text is first read: its
    all-of-Unicode word class takes several milliseconds to compile, which every run that
    rebuilds no table would otherwise pay at start-up."""
    return re.compile(r"""
      (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>'(?:[^']|'')*'?)
    | (?P<quoted>"(?:[^"]|"")*"?|\[[^\]]*\]?|`(?:[^`]|``)*`?)
    | (?P<word>[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*)
    | (?P<number>\.?[0-9][A-Za-z0-9_.]*)
    | (?P<op>.)
    """, re.VERBOSE | re.DOTALL)


#: keywords that start a column constraint (SQLite ``column-constraint``)
_COLUMN_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK",
                            "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"}
#: keywords that start a table constraint
_TABLE_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is space, string, quoted, word, number or op."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        """The token as an upper-case keyword (``""`` unless it is a bare word)."""
        return self.text.upper() if self.kind == "word" else ""

    def is_op(self, char: str) -> bool:
        return self.kind == "op" and self.text == char


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql`` without whitespace and comments."""
    tokens = []
    for match in _token_pattern().finditer(sql):
        kind = match.lastgroup
        if kind != "space":
            tokens.append(Token(kind, match.group(), match.start(), match.end()))
    return tokens


def identifier(token: Token) -> str:
    """The name a token spells, with SQLite's quoting removed."""
    text = token.text
    if token.kind == "quoted":
        if text.startswith("["):
            return text[1:-1]
        quote = text[0]
        return text[1:-1].replace(quote * 2, quote)
    if token.kind == "string":
        return text[1:-1].replace("''", "'")
    return text


def fold(name: str) -> str:
    """SQLite's case folding of identifiers (ASCII letters only)."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def matching_paren(tokens: list[Token], open_index: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``open_index`` (last token if unbalanced)."""
    depth = 0
    for index in range(open_index, len(tokens)):
        if tokens[index].is_op("("):
            depth += 1
        elif tokens[index].is_op(")"):
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1


def split_top_level(tokens: list[Token]) -> list[list[Token]]:
    """Split tokens at commas outside parentheses."""
    items: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
        if depth == 0 and token.is_op(","):
            items.append([])
        else:
            items[-1].append(token)
    return [item for item in items if item]


def names_used(sql: str) -> set[str]:
    """Folded identifiers (bare or quoted) that appear in ``sql``; bare words followed by
    ``(`` are function calls and left out. Used to tell whether an expression (a CHECK
    body, an index expression, a view) mentions a column or table."""
    tokens = tokenize(sql)
    used = set()
    for index, token in enumerate(tokens):
        if token.kind == "quoted":
            used.add(fold(identifier(token)))
        elif token.kind == "word":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or not following.is_op("("):
                used.add(fold(token.text))
    return used


def index_expression_names(sql: str) -> set[str]:
    """Folded names mentioned by a ``CREATE INDEX`` statement after ``ON <table>``: its
    column list, expressions and ``WHERE`` clause."""
    for token in tokenize(sql):
        if token.is_op("("):
            return names_used(sql[token.start:])
    return set()


@dataclass
class ForeignKeyText:
    """What the text says about one foreign key: its name and deferral."""

    name: str | None
    columns: tuple[str, ...]  # folded
    referent: str  # folded
    deferrable: bool | None = None
    initially: str | None = None


@dataclass
class TableText:
    """Facts about a table that SQLite keeps only in its ``CREATE TABLE`` text.

    Column keys are folded names (SQLite compares identifiers case-insensitively).
    """

    collations: dict[str, str] = field(default_factory=dict)
    #: folded column -> generated-column expression text
    generated: dict[str, str] = field(default_factory=dict)
    autoincrement: bool = False
    primary_key_name: str | None = None
    #: folded column tuple -> constraint name (``None`` when unnamed)
    unique_names: dict[tuple[str, ...], str | None] = field(default_factory=dict)
    #: ``(name, sql)`` of every CHECK constraint, column-level ones included
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    foreign_keys: list[ForeignKeyText] = field(default_factory=list)

    def foreign_key(self, columns: tuple[str, ...], referent: str) -> ForeignKeyText | None:
        """The text of the foreign key on ``columns`` to ``referent`` (both folded)."""
        for fk in self.foreign_keys:
            if fk.columns == columns and fk.referent == referent:
                return fk
        return None


def scan_create_table(sql: str) -> TableText:
    """Read constraint names, CHECK bodies, collations, generated expressions and
    AUTOINCREMENT from a stored ``CREATE TABLE`` statement."""
    result = TableText()
    tokens = tokenize(sql)
    start = next((i for i, t in enumerate(tokens) if t.is_op("(")), None)
    if start is None:
        return result
    end = matching_paren(tokens, start)
    for item in split_top_level(tokens[start + 1:end]):
        if item[0].upper in _TABLE_CONSTRAINT_WORDS and not _is_column_named_like_keyword(item):
            _scan_table_constraint(sql, item, result)
        else:
            _scan_column(sql, item, result)
    return result


def _is_column_named_like_keyword(item: list[Token]) -> bool:
    """``"check" TEXT`` is a column; a bare ``CHECK (`` is a constraint. SQLite only lets
    the constraint keywords start a table constraint when followed by what they need."""
    first = item[0].upper
    second = item[1] if len(item) > 1 else None
    if second is None:
        return True
    if first == "CONSTRAINT":
        return False
    if first in ("PRIMARY", "FOREIGN"):
        return second.upper != "KEY"
    return not second.is_op("(")  # UNIQUE (...), CHECK (...)


def _paren_body(sql: str, item: list[Token], open_index: int) -> tuple[str, int]:
    close = matching_paren(item, open_index)
    return sql[item[open_index].end:item[close].start].strip(), close


def _column_list(item: list[Token], open_index: int) -> tuple[tuple[str, ...], int]:
    close = matching_paren(item, open_index)
    groups = split_top_level(item[open_index + 1:close])
    return tuple(fold(identifier(group[0])) for group in groups), close


def _deferral(item: list[Token], index: int, fk: ForeignKeyText) -> None:
    """Read ``[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]`` after REFERENCES."""
    stop = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES",
            "GENERATED", "AS", "FOREIGN"}
    while index < len(item) and item[index].upper not in stop:
        word = item[index].upper
        if word == "DEFERRABLE":
            fk.deferrable = not (index > 0 and item[index - 1].upper == "NOT")
        elif word == "INITIALLY" and index + 1 < len(item):
            fk.initially = item[index + 1].upper
        index += 1


def _scan_table_constraint(sql: str, item: list[Token], result: TableText) -> None:
    name = None
    index = 0
    if item[0].upper == "CONSTRAINT" and len(item) > 2:
        name = identifier(item[1])
        index = 2
    word = item[index].upper
    if word == "PRIMARY":
        result.primary_key_name = name
    elif word == "UNIQUE":
        opening = next(i for i in range(index, len(item)) if item[i].is_op("("))
        columns, _ = _column_list(item, opening)
        result.unique_names[columns] = name
    elif word == "CHECK":
        body, _ = _paren_body(sql, item, index + 1)
        result.checks.append((name, body))
    elif word == "FOREIGN":
        opening = next(i for i in range(index, len(item)) if item[i].is_op("("))
        columns, close = _column_list(item, opening)
        ref = close + 1
        while ref < len(item) and item[ref].upper != "REFERENCES":
            ref += 1
        if ref + 1 < len(item):
            fk = ForeignKeyText(name, columns, fold(identifier(item[ref + 1])))
            _deferral(item, ref + 2, fk)
            result.foreign_keys.append(fk)


def _scan_column(sql: str, item: list[Token], result: TableText) -> None:
    column = fold(identifier(item[0]))
    pending: str | None = None  # name given by CONSTRAINT <name> to the next constraint
    index = 1
    while index < len(item):
        token = item[index]
        word = token.upper
        if token.is_op("("):  # type arguments or a parenthesised default
            index = matching_paren(item, index) + 1
            continue
        if word == "CONSTRAINT" and index + 1 < len(item):
            pending = identifier(item[index + 1])
            index += 2
            continue
        if word == "DEFAULT":
            index += 1
            if index < len(item) and item[index].kind == "op" and item[index].text in "+-":
                index += 1
            if index < len(item) and item[index].is_op("("):
                index = matching_paren(item, index)
            index += 1
            continue
        if word == "PRIMARY":
            result.primary_key_name = pending
            pending = None
        elif word == "AUTOINCREMENT":
            result.autoincrement = True
        elif word == "UNIQUE":
            result.unique_names[(column,)] = pending
            pending = None
        elif word == "CHECK" and index + 1 < len(item) and item[index + 1].is_op("("):
            body, close = _paren_body(sql, item, index + 1)
            result.checks.append((pending, body))
            pending = None
            index = close + 1
            continue
        elif word == "COLLATE" and index + 1 < len(item):
            result.collations[column] = identifier(item[index + 1])
            index += 2
            continue
        elif word == "AS" and index + 1 < len(item) and item[index + 1].is_op("("):
            body, close = _paren_body(sql, item, index + 1)
            result.generated[column] = body
            index = close + 1
            continue
        elif word == "REFERENCES" and index + 1 < len(item):
            fk = ForeignKeyText(pending, (column,), fold(identifier(item[index + 1])))
            _deferral(item, index + 2, fk)
            result.foreign_keys.append(fk)
            pending = None
        index += 1
