"""Splitting MySQL / MariaDB script text into statements.

The core splitter (:func:`npa_migrations.sqltext.split_statements`) does the work with
MySQL's :class:`~npa_migrations.sqltext.Lexicon`: ``#`` starts a comment, ``--`` is a
comment only when followed by white space, backslash escapes work inside '...' and "..."
strings (unless the server runs with ``NO_BACKSLASH_ESCAPES``), double quotes delimit
strings, not identifiers, and ``/*! ... */`` executable comments are statements, not
comments. ``BEGIN ... END`` bodies of stored programs are kept whole; elsewhere ``begin``
is a name (a column may be called so) or starts a transaction.

The one rule of MySQL's own is a layer on top: the ``mysql`` client's ``DELIMITER``
command. After a line ``DELIMITER $$`` statements end at ``$$`` (and are sent whole, with
the semicolons inside them) until a line ``DELIMITER ;``; the ``DELIMITER`` lines
themselves are not sent. A text without the word ``DELIMITER`` (:func:`may_set_delimiter`)
is split by the lexicon alone, which is what lets a large ``.sql`` file be split a block
at a time (``MysqlSql.streaming_lexicon``); a file with the word is split whole.
"""

from __future__ import annotations

import re

from npa_migrations.sqltext import Lexicon, mask, split_statements, strip_comments

#: where a ``BEGIN`` opens a block: the body of a stored program, a compound statement
#: at the start of a statement (MariaDB's ``[label:] BEGIN NOT ATOMIC``, or one nested in
#: a body, also after ``THEN`` / ``ELSE`` / ``DO`` / ``LOOP`` / ``REPEAT``); elsewhere it
#: starts a transaction or is a name (``begin`` is not reserved)
BLOCK_STATEMENTS = (r"CREATE\b.*\b(?:PROCEDURE|FUNCTION|TRIGGER|EVENT)\b.*"
                    r"|(?:.*\b(?:THEN|ELSE|DO|LOOP|REPEAT)\s*)?(?:[A-Za-z_$][\w$]*\s*:)?")
#: MySQL / MariaDB with backslash escapes (the server default)
MYSQL = Lexicon(dash_comment_needs_space=True, hash_comments=True, executable_comments=True,
                backslash_escapes=True, dollar_quotes=False, block_statements=BLOCK_STATEMENTS)
#: ``sql_mode`` with ``NO_BACKSLASH_ESCAPES``
MYSQL_NO_BACKSLASH = Lexicon(dash_comment_needs_space=True, hash_comments=True,
                             executable_comments=True, dollar_quotes=False,
                             block_statements=BLOCK_STATEMENTS)


def lexicon_for(backslash_escapes: bool) -> Lexicon:
    """:data:`MYSQL`, or :data:`MYSQL_NO_BACKSLASH` for a server whose ``sql_mode`` has
    ``NO_BACKSLASH_ESCAPES``."""
    return MYSQL if backslash_escapes else MYSQL_NO_BACKSLASH


_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(?P<delimiter>\S+)[ \t]*(?:\r?\n|\Z)",
                        re.IGNORECASE | re.MULTILINE)


#: the word, anywhere: without it there is no ``DELIMITER`` line
_DELIMITER_WORD = re.compile("DELIMITER", re.IGNORECASE)


def may_set_delimiter(text: str) -> bool:
    """Whether ``text`` may hold a ``DELIMITER`` line: it has the word somewhere (in a
    string, a comment or a name too). Without it, :func:`split_mysql` is
    :func:`~npa_migrations.sqltext.split_statements` with MySQL's lexicon, so a large
    file can be split a block at a time with that lexicon alone."""
    return _DELIMITER_WORD.search(text) is not None


def split_mysql(text: str, *, backslash_escapes: bool = True) -> list[str]:
    """Split ``text`` at top-level semicolons (or at the delimiter a ``DELIMITER`` line
    set); returns stripped statements without their delimiter, comment-only chunks
    dropped."""
    lexicon = lexicon_for(backslash_escapes)
    if not may_set_delimiter(text):  # no DELIMITER line can hide: mask() holds
        return split_statements(text, lexicon=lexicon)  # 8 bytes a character (a dump)
    masked = mask(text, lexicon)
    commands = list(_DELIMITER.finditer(masked))
    if not commands:
        return split_statements(text, lexicon=lexicon)
    statements: list[str] = []
    delimiter, start = ";", 0
    for command in [*commands, None]:
        end = command.start() if command else len(text)
        if delimiter == ";":
            statements.extend(split_statements(text[start:end], lexicon=lexicon))
        else:
            piece_start = start
            while True:
                found = masked.find(delimiter, piece_start, end)
                stop = end if found < 0 else found
                chunk = text[piece_start:stop].strip()
                if chunk and strip_comments(chunk, lexicon).strip():
                    statements.append(chunk)
                if found < 0:
                    break
                piece_start = found + len(delimiter)
        if command:
            delimiter, start = command.group("delimiter"), command.end()
    return statements
