"""Splitting SQL script text into statements, and normalising it for checksums.

A single-pass scanner rather than a parser: it only needs to know where a ``;`` is not
inside a string, a quoted identifier, a comment, a PostgreSQL dollar-quoted body,
parentheses (PostgreSQL's ``CREATE RULE ... DO ALSO (...; ...)``) or a ``BEGIN ... END``
block (triggers, procedures). It is linear in the text length, which keeps discovery of
thousands of SQL files cheap.

A split that cannot be right is an error, never a silent guess: a string, quoted name or
comment that is never closed, or a parenthesis or block that is never closed, raises
:class:`~npa_migrations.errors.SqlSplitError` naming the line where it opened (usually a
sign that the text was read with another dialect's rules, e.g. a backslash escape).

What a dialect writes differently -- comment styles, quote characters, escapes, blocks --
is a :class:`Lexicon`; providers pass theirs to :func:`tokens`, :func:`split_statements`,
:func:`strip_comments` and :func:`mask`, and keep only their truly different rules (a
``GO`` batch separator, SQL*Plus ``/`` lines) as a layer on top.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from .errors import SqlSplitError


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
    #: ``E'...'`` strings, in which a backslash escapes the next character (PostgreSQL)
    escape_strings: bool = False
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
    #: where a ``BEGIN`` opens a block: a regular expression the code of the statement
    #: before it (inside a block: since the last ``;``) must match in full
    #: (case-insensitive), e.g. SQLite's ``CREATE TRIGGER ...``, so that elsewhere
    #: ``begin`` is a name (a column called ``begin``); ``None``: wherever it does not
    #: start a transaction (``BEGIN;``, ``BEGIN TRANSACTION``)
    block_statements: str | None = None
    #: more ``(kind, regex)`` alternatives, tried before ``;`` (Oracle's ``/`` lines)
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def pattern(self) -> re.Pattern:
        """The compiled pattern of every token :func:`tokens` yields."""
        return _pattern(self, True)


#: what the portable splitter knows: ``--`` and ``/* */`` comments, ``'...'``, ``"..."``,
#: backticks, dollar quotes, ``BEGIN ... END`` blocks
PORTABLE = Lexicon()
#: the portable lexicon with ``[...]`` names
BRACKETS = Lexicon(brackets=True)

#: token kinds :func:`tokens` yields besides the ``extra`` ones
COMMENT, CODE_COMMENT, STRING, QUOTED, WORD, SEMI = (
    "comment", "code_comment", "string", "quoted", "word", "semi")


#: a ``BEGIN``, ``END`` or ``CASE`` that counts for blocks: not a part of a qualified name
#: (NEW.begin) nor of a longer name (begin_at); each alternative starts with a letter, so
#: the regex engine can skip ahead
_WORD = r"(?:B(?<![\w$.]B)EGIN|E(?<![\w$.]E)ND|C(?<![\w$.]C)ASE)(?![\w$])"
_WORDS = re.compile(_WORD, re.IGNORECASE)


@functools.lru_cache(maxsize=None)
def _pattern(lexicon: Lexicon, structure: bool) -> re.Pattern:
    # a group "<kind>_open" matches (empty) where a string or comment runs to the end;
    # without ``structure`` only comments, strings and quoted names are tokens
    escape = r"|\\." if lexicon.backslash_escapes else ""  # \ then any character
    # a string that runs to the end may end in the backslash of an escape cut off there
    # (a large file's text read so far): still the string, not code
    cut = r"\\?" if escape else ""
    single = (r"[^'\\]" if escape else "[^']") + "|''" + escape
    double = (r'[^"\\]' if escape else '[^"]') + ('|""' if lexicon.doubled_double_quotes
                                                   else "") + escape
    dash = r"--(?=[ \t\r\n]|\Z)" if lexicon.dash_comment_needs_space else "--"
    line = rf"(?:{dash}|\#)" if lexicon.hash_comments else dash
    parts = [rf"(?P<line_comment>{line}[^\n]*)"]
    if lexicon.executable_comments:
        parts.append(r"(?P<code_comment>/\*!.*?(?:\*/|(?P<code_comment_open>\Z)))")
    if lexicon.nested_comments:
        parts.append(r"(?P<nested_comment>/\*)")
    else:
        parts.append(r"(?P<block_comment>/\*.*?(?:\*/|(?P<block_comment_open>\Z)))")
    if lexicon.q_quotes:
        parts.append(r"(?P<qquote>\b[nN]?[qQ]'.)")
    if lexicon.escape_strings:
        parts.append(r"(?P<estring>[eE](?<![\w$][eE])'(?:[^'\\]|''|\\.)*"
                     r"(?:'|(?P<estring_open>\Z)))")
    parts.append(rf"(?P<single>'(?:{single})*(?:'|{cut}(?P<single_open>\Z)))")
    parts.append(rf'(?P<double>"(?:{double})*(?:"|{cut}(?P<double_open>\Z)))')
    if lexicon.backticks:
        parts.append(r"(?P<backtick>`(?:[^`]|``)*(?:`|(?P<backtick_open>\Z)))")
    if lexicon.brackets:
        parts.append(r"(?P<bracket>\[(?:[^\]]|\]\])*(?:\]|(?P<bracket_open>\Z)))")
    if lexicon.dollar_quotes:
        # not after a name character: PostgreSQL names may hold "$" (a$b$c)
        parts.append(r"(?P<dollar>\$(?<![\w$]\$)(?:[A-Za-z_][A-Za-z_0-9]*)?\$)")
    if structure:
        parts.extend(f"(?P<{kind}>{regex})" for kind, regex in lexicon.extra)
        if lexicon.blocks:
            parts.append(rf"(?P<word>{_WORD})")
        parts.append("(?P<semi>;)")
    return re.compile("\n| ".join(parts), re.VERBOSE | re.DOTALL | re.IGNORECASE | re.MULTILINE)


@functools.lru_cache(maxsize=None)
def _simple(lexicon: Lexicon, statement: bool) -> re.Pattern | None:
    """The fast path of the lexer: a pattern matching a stretch of code in which the only
    tokens are closed strings and quoted names of the simplest form (no ``E'...'``, no
    ``q'...'``, no dollar quotes), with no comment and nothing that could start one.
    With ``statement``: a whole statement up to its ``;``, with no ``;`` before it and
    parentheses that close (nested at most three deep); else a run of such text, ``;``
    and parentheses included. Every quantifier is possessive, so a stretch it cannot
    read fails at once (linear time) and the full lexer reads it instead. ``None``: the
    lexicon has tokens of its own (``extra``), which only the full lexer knows."""
    if lexicon.extra:
        return None
    special = "'\"`;()\\-/"  # quotes, ";", parentheses, "\\", comment openers
    special += "[" if lexicon.brackets else ""
    special += "$" if lexicon.dollar_quotes else ""
    special += "#" if lexicon.hash_comments else ""
    # a prefix letter would make the string another token (E'...', q'...'): not simple
    prefixes = ("eE" if lexicon.escape_strings else "") + ("qQ" if lexicon.q_quotes else "")
    code = rf"[^{re.escape(special)}]++|-(?!-)|/(?!\*)"
    atoms = [code, _closed("'", lexicon.backslash_escapes, True, prefixes),
             _closed('"', lexicon.backslash_escapes, lexicon.doubled_double_quotes)]
    if lexicon.backticks:
        atoms.append(_closed("`", False, True))
    if lexicon.brackets:
        atoms.append(r"\[[^\]]*+(?:\]\][^\]]*+)*+\]")
    atom = "|".join(atoms)
    if not statement:
        return re.compile(rf"(?:{atom}|[;()\\])*+", re.DOTALL)
    group = rf"\((?:{atom})*+\)"
    for _depth in range(2):
        group = rf"\((?:{atom}|{group})*+\)"
    return re.compile(rf"(?:{atom}|{group})*+;", re.DOTALL)


def _closed(quote: str, backslash: bool, doubled: bool, prefixes: str = "") -> str:
    """A closed ``quote``...``quote`` token as the full lexer reads it (``doubled``: a
    doubled quote stands for one; ``backslash``: a backslash escapes the next character),
    not right after one of ``prefixes``."""
    q = re.escape(quote)
    body = rf"[^{q}\\]" if backslash else rf"[^{q}]"
    escapes = ([q + q] if doubled else []) + ([r"\\."] if backslash else [])
    inner = rf"{body}*+(?:(?:{'|'.join(escapes)}){body}*+)*+" if escapes else rf"{body}*+"
    before = rf"(?<![{re.escape(prefixes)}])" if prefixes else ""
    return rf"{before}{q}{inner}{q}"


_KINDS = {"line_comment": COMMENT, "block_comment": COMMENT, "nested_comment": COMMENT,
          "code_comment": CODE_COMMENT, "single": STRING, "qquote": STRING, "dollar": STRING,
          "estring": STRING, "double": QUOTED, "backtick": QUOTED, "bracket": QUOTED}
#: what an unclosed token is, for :class:`~npa_migrations.errors.SqlSplitError`
_WHAT = {COMMENT: "comment", CODE_COMMENT: "comment", STRING: "string",
         QUOTED: "quoted name"}
_CLOSERS = {"[": "]", "{": "}", "<": ">", "(": ")"}


def tokens(text: str, lexicon: Lexicon = PORTABLE) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` of every comment, string, quoted name, block keyword and
    ``;`` of ``text`` (kinds :data:`COMMENT`, :data:`CODE_COMMENT`, :data:`STRING`,
    :data:`QUOTED`, :data:`WORD`, :data:`SEMI`, and the lexicon's ``extra`` ones); an
    unterminated string or comment runs to the end."""
    for kind, start, end, _closed in _scan(text, lexicon):
        yield kind, start, end


def comments_and_literals(text: str, lexicon: Lexicon = PORTABLE) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of every comment, string and quoted name of ``text``, in order:
    where text is not code. Cheaper than :func:`tokens` on long texts (no ``;``,
    parentheses or keywords)."""
    for _kind, start, end, _closed in _scan(text, lexicon, structure=False):
        yield start, end


def outside_tokens(text: str, positions: list[int], lexicon: Lexicon = PORTABLE
                   ) -> list[bool]:
    """For each of ``positions`` (ascending, none of them at a quote character): whether
    it is not strictly inside a comment, string or quoted name of ``text`` -- in code, or
    where a token starts. Reads the text up to the last position once, with the fast path
    over stretches of code and simple strings (a large data dump)."""
    run = _simple(lexicon, False)
    answers: list[bool] = []
    pos = 0  # outside every token; everything before it is read
    run_end = pos  # the fast path reads the text from ``pos`` to here
    inside_to = 0  # the end of the string of the run the last position fell into
    for position in positions:
        if position < inside_to:  # in that string too
            answers.append(False)
            continue
        while True:
            if run is not None and run_end <= pos:
                run_end = _run_end(run, text, pos)
            if position < run_end:
                # inside the run: in code exactly when the run, cut at the position, still
                # reaches it (cut inside a string, it stops before the string's quote).
                # The next position is read on from here, not from the run's start: a run
                # of a whole block with a position on every line is read once, not once a
                # position
                reached = position if position <= pos else _run_end(run, text, pos, position)
                if reached == position:
                    answers.append(True)
                    pos = position
                else:
                    string = next(_scan(text, lexicon, False, reached))
                    answers.append(False)
                    pos = inside_to = string[2]
                break
            # the run ends at what it cannot read; a token may start up to two letters
            # before that (E'...', Nq'...'): the full lexer reads from there, in code
            start, pos = pos, max(pos, run_end)
            while pos > start and run_end - pos < 2 and text[pos - 1].isalpha():
                pos -= 1
            token = next(_scan(text, lexicon, False, pos), None)
            if token is None or token[1] >= position:
                answers.append(True)
                break
            if token[2] > position:
                answers.append(False)
                break
            pos = token[2]
    return answers


def _run_end(run: re.Pattern | None, text: str, pos: int, end: int | None = None) -> int:
    """Where the fast path's ``run`` (:func:`_simple`) from ``pos`` stops (before
    ``end``); it matches the empty text, so it always does."""
    found = run.match(text, pos, len(text) if end is None else end) if run else None
    return found.end() if found else pos


def _scan(text: str, lexicon: Lexicon, structure: bool = True, pos: int = 0
          ) -> Iterator[tuple[str, int, int, bool]]:
    """:func:`tokens` from ``pos`` (outside every token), each with whether it is closed
    (a string or comment that runs to the end of the text is not)."""
    pattern = _pattern(lexicon, structure)
    length = len(text)
    while pos < length:
        m = pattern.search(text, pos)
        if not m:
            return
        group = m.lastgroup or ""  # every alternative of the pattern is a named group
        start, end = m.start(), m.end()
        closed = True
        if group == "dollar":
            close = text.find(m.group(0), end)
            closed = close >= 0
            end = close + len(m.group(0)) if closed else length
        elif group == "qquote":
            closer = _CLOSERS.get(text[end - 1], text[end - 1]) + "'"
            close = text.find(closer, end)
            closed = close >= 0
            end = close + 2 if closed else length
        elif group == "nested_comment":
            end = _nested_comment_end(text, end)
            closed = end >= 0
            end = end if closed else length
        elif group in _CAN_RUN_OUT:
            closed = m.group(_CAN_RUN_OUT[group]) is None
        yield _KINDS.get(group, group), start, end, closed
        pos = max(end, start + 1)


#: the token groups whose pattern has an ``<group>_open`` alternative (see :func:`_pattern`)
_CAN_RUN_OUT = {group: f"{group}_open" for group in ("code_comment", "block_comment",
                                                     "estring", "single", "double",
                                                     "backtick", "bracket")}


def _nested_comment_end(text: str, pos: int) -> int:
    """The end of a nesting ``/* ... */`` comment whose opening ends at ``pos``; -1 when
    it is never closed."""
    depth = 1
    while depth:
        close = text.find("*/", pos)
        if close < 0:
            return -1
        opened = text.find("/*", pos, close)
        if opened >= 0:
            depth, pos = depth + 1, opened + 2
        else:
            depth, pos = depth - 1, close + 2
    return pos


def split_statements(text: str, *, brackets: bool = False,
                     lexicon: Lexicon | None = None) -> list[str]:
    """Split ``text`` into statements at semicolons outside strings, quoted names,
    comments, parentheses and ``BEGIN``/``CASE ... END`` blocks.

    :param brackets: treat ``[...]`` as quoted identifiers (SQL Server).
    :param lexicon: the dialect's :class:`Lexicon` (default: :data:`PORTABLE`, or
        :data:`BRACKETS` with ``brackets``).
    :returns: statements without their terminating ``;``, stripped, empty and
        comment-only ones dropped.
    :raises SqlSplitError: a string, quoted name, comment, parenthesis or block is never
        closed; the message names the line where it opens.
    """
    lexicon = lexicon or (BRACKETS if brackets else PORTABLE)
    statements: list[str] = []
    fast = _simple(lexicon, True)
    start = 0
    while True:
        if fast is not None:
            start = _split_simple(text, start, statements, fast, lexicon)
        start = _split_from(text, start, statements, lexicon, fast is not None)
        if start < 0:
            return statements


def _split_simple(text: str, start: int, statements: list[str], fast: re.Pattern,
                  lexicon: Lexicon, spans: "list[int] | None" = None) -> int:
    """The fast path of :func:`split_statements`: from ``start`` (where a statement
    starts, outside everything), append the statements that :func:`_simple` reads
    whole and hold no ``BEGIN``, ``END`` or ``CASE``; return where the first one it
    cannot read starts. They hold no comment, so none is comment-only."""
    match = fast.match
    while True:
        found = match(text, start)
        if found is None:
            return start
        end = found.end()
        chunk = text[start:end - 1]
        if lexicon.blocks:
            lower = chunk.lower()
            if ("end" in lower or "begin" in lower or "case" in lower) \
                    and _WORDS.search(text, start, end):
                return start
        chunk = chunk.strip()
        if chunk:
            statements.append(chunk)
            if spans is not None:
                spans += (start, end - 1)
        start = end


def _split_from(text: str, start: int, statements: list[str], lexicon: Lexicon,
                stop: bool, spans: "list[int] | None" = None, partial: bool = False) -> int:
    """The full lexer's part of :func:`split_statements`, from ``start`` (where a
    statement starts, outside everything) to the end of the text, or with ``stop`` to
    the end of the first statement; returns where it stopped, -1 at the end. With
    ``partial`` the text may stop anywhere: a statement not ended by a ``;`` before
    the end raises :class:`_Incomplete` instead of being appended (or an error)."""
    inner = start  # where the current statement starts, inside a block too
    blocks: list[int] = []  # where each open BEGIN/CASE ... END starts
    parens = 0  # open "(", counted in the code between tokens
    code_from = start  # where the code not yet counted starts
    skip_to = 0  # past the CASE of an END CASE
    for kind, begin, end, closed in _scan(text, lexicon, True, start):
        if not closed:
            if partial:
                raise _Incomplete(start)
            raise _unclosed(text, begin, _WHAT.get(kind, kind))
        parens = max(0, parens + text.count("(", code_from, begin)
                     - text.count(")", code_from, begin))
        code_from = end
        if kind == WORD and not parens:
            if begin < skip_to:
                continue
            word = text[begin:end].upper()
            if word == "END":
                after = _END_CASE.match(text, end)
                if after:  # END CASE closes the CASE counted when it opened
                    skip_to = after.end()
                    if blocks:
                        blocks.pop()
                elif blocks and not _closes_control(text, end):
                    blocks.pop()
            elif word == "CASE":
                blocks.append(begin)
            elif _opens_block(text, inner, begin, end, lexicon):
                blocks.append(begin)
                inner = end
        elif kind == SEMI and not parens:
            inner = end
            if not blocks:
                _append(statements, text[start:begin], lexicon)
                if spans is not None and len(spans) < 2 * len(statements):
                    spans += (start, begin)
                if stop:
                    return end
                start = end
    if partial:
        raise _Incomplete(start)
    parens += text.count("(", code_from) - text.count(")", code_from)
    if parens > 0:
        raise _unclosed(text, _first_unclosed_parenthesis(text, lexicon), "parenthesis")
    if blocks:
        word = text[blocks[0]:blocks[0] + 5].upper().rstrip()
        raise _unclosed(text, blocks[0], f"{word} ... END block")
    _append(statements, text[start:], lexicon)
    if spans is not None and len(spans) < 2 * len(statements):
        spans += (start, len(text))
    return -1


class _Incomplete(Exception):
    """:func:`_split_from` with ``partial``: the statement starting at :attr:`start` is
    not ended in the text read so far."""

    def __init__(self, start: int):
        super().__init__(start)
        self.start = start


def split_complete(text: str, lexicon: Lexicon = PORTABLE, *, final: bool = False
                   ) -> tuple[list[str], list[int], int]:
    """The statements of ``text`` that a ``;`` ends, as :func:`split_statements` cuts
    them, for text read a piece at a time (a large file): what follows a ``;`` cannot
    change a statement before it, so these are final whatever comes next.

    :returns: ``(statements, spans, rest)``: the statements; for each, the start and end
        of the text it was cut from (``text[start:end].strip()`` is the statement), two
        numbers a statement; and where the statement not yet ended starts (``len(text)``
        when every statement is ended). Never raises for what is not closed: the rest
        holds it. With ``final`` the text is all there is: its last statement needs no
        ``;``, ``rest`` is ``len(text)``, and what is not closed raises
        :class:`~npa_migrations.errors.SqlSplitError` as :func:`split_statements` does.
    """
    statements: list[str] = []
    spans: list[int] = []
    fast = _simple(lexicon, True)
    start = 0
    try:
        while True:
            if fast is not None:
                start = _split_simple(text, start, statements, fast, lexicon, spans)
            start = _split_from(text, start, statements, lexicon, fast is not None, spans,
                                partial=not final)
            if start < 0:
                return statements, spans, len(text)
    except _Incomplete as cut:
        return statements, spans, cut.start


def _first_unclosed_parenthesis(text: str, lexicon: Lexicon) -> int:
    """Where the outermost ``(`` that is never closed opens (for the error message)."""
    opened: list[int] = []
    for position, char in enumerate(mask(text, lexicon)):
        if char == "(":
            opened.append(position)
        elif char == ")" and opened:
            opened.pop()
    return opened[0] if opened else 0


def _unclosed(text: str, position: int, what: str) -> SqlSplitError:
    """The error for a ``what`` that opens at ``position`` of ``text`` and is never
    closed, naming its line and how it starts."""
    line = text.count("\n", 0, position) + 1
    start = text[position:].split("\n", 1)[0].strip()
    shown = start if len(start) <= 50 else start[:47] + "..."
    return SqlSplitError(
        f"line {line}: a {what} opens here and is never closed: {shown}. Close it; if it "
        "is closed, the text uses a quoting rule of another database (e.g. a backslash "
        "escape), so run it on the database it was written for.", position=position)


_END_CASE = re.compile(r"\s+CASE\b", re.IGNORECASE)
#: what follows a BEGIN that starts a transaction rather than a block
_TRANSACTION = re.compile(r"\s*(?:;|\Z|(?:TRANSACTION|TRAN|WORK|DEFERRED|IMMEDIATE|EXCLUSIVE"
                          r"|ISOLATION|READ|DISTRIBUTED)\b)", re.IGNORECASE)


def _opens_block(text: str, statement_start: int, begin: int, end: int,
                 lexicon: Lexicon) -> bool:
    """Whether the ``BEGIN`` at ``begin``..``end`` opens a block: not when it starts a
    transaction (``BEGIN;``, ``BEGIN TRANSACTION``), and only in the statements
    :attr:`Lexicon.block_statements` allows (``statement_start``: where the statement
    holding it starts, inside an enclosing block too)."""
    if _TRANSACTION.match(text, end):
        return False
    if lexicon.block_statements is None:
        return True
    head = mask(text[statement_start:begin], lexicon).strip()
    return re.fullmatch(lexicon.block_statements, head, re.IGNORECASE | re.DOTALL) is not None


def _closes_control(text: str, after: int) -> bool:
    """``END IF`` / ``END LOOP`` / ``END WHILE`` / ``END REPEAT`` close statements whose
    opening keyword was not counted (``CASE`` was: see ``END CASE``)."""
    rest = text[after:after + 12].lstrip().upper()
    return rest.startswith(("IF", "LOOP", "WHILE", "REPEAT"))


def _append(statements: list[str], chunk: str, lexicon: Lexicon) -> None:
    stripped = chunk.strip()
    if stripped and strip_comments(stripped, lexicon).strip():
        statements.append(stripped)


def _comment_openers(lexicon: Lexicon) -> tuple[str, ...]:
    """What every comment of ``lexicon`` starts with."""
    return ("--", "/*", "#") if lexicon.hash_comments else ("--", "/*")


def strip_comments(text: str, lexicon: Lexicon = PORTABLE) -> str:
    """``text`` without its comments (strings, quoted names and executable comments kept)."""
    if not any(opener in text for opener in _comment_openers(lexicon)):
        return text  # no comment can start anywhere: nothing to lex (most statements)
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
    return "".join(normalised_pieces(text))


def normalised_pieces(text: str, slice_chars: int = 1 << 20) -> Iterator[str]:
    """:func:`normalise`'s text in pieces, reading about ``slice_chars`` of whole lines
    at a time: a large file's checksum then never holds a second copy of it whole."""
    normaliser = _Normaliser()
    start, length = 0, len(text)
    while start < length:
        cut = text.find("\n", start + slice_chars)
        end = length if cut < 0 else cut + 1
        yield normaliser.lines(text[start:end], end >= length)
        start = end


def normalised_stream(pieces: Iterable[str]) -> Iterator[str]:
    """:func:`normalise`'s text of the text made of ``pieces`` (cut anywhere), a piece at
    a time: the checksum of a file read a block at a time."""
    normaliser = _Normaliser()
    rest = ""
    for piece in pieces:
        text = rest + piece if rest else piece
        cut = text.rfind("\n") + 1
        rest = text[cut:]
        if cut:
            yield normaliser.lines(text[:cut], False)
    yield normaliser.lines(rest, True)


class _Normaliser:
    """:func:`normalise` of text that comes in pieces of whole lines: what it must carry
    from one piece to the next (whether a line with text was seen, blank lines since)."""

    __slots__ = ("started", "empty")

    def __init__(self) -> None:
        self.started = False
        self.empty = 0  # blank lines since the last line with text: kept only if text follows

    def lines(self, piece: str, last: bool) -> str:
        """The normalised text of ``piece`` (whole lines, ending with a line break unless
        ``last``)."""
        lines = piece.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if not last:
            lines.pop()  # the piece ends with a line break: no line starts after it here
        pieces = []
        started, empty = self.started, self.empty
        for line in lines:
            line = line.rstrip()
            if not line:
                empty += started
                continue
            if started:
                pieces.append("\n" * (empty + 1))
            pieces.append(line)
            started, empty = True, 0
        self.started, self.empty = started, empty
        return "".join(pieces)


def first_line(sql: str) -> str:
    """The first non-empty line of a statement, for error messages."""
    for line in sql.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
