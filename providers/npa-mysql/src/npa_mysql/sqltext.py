"""Splitting MySQL / MariaDB script text into statements.

The core splitter (:func:`npa_migrations.sqltext.split_statements`) does the work with
MySQL's :class:`~npa_migrations.sqltext.Lexicon`: ``#`` starts a comment, ``--`` is a
comment only when followed by white space, backslash escapes work inside '...' and "..."
strings (unless the server runs with ``NO_BACKSLASH_ESCAPES``), double quotes delimit
strings, not identifiers, and ``/*! ... */`` executable comments are statements, not
comments. ``BEGIN ... END`` bodies of triggers and procedures are kept whole.

The one rule of MySQL's own is a layer on top: the ``mysql`` client's ``DELIMITER``
command. After a line ``DELIMITER $$`` statements end at ``$$`` (and are sent whole, with
the semicolons inside them) until a line ``DELIMITER ;``; the ``DELIMITER`` lines
themselves are not sent.
"""

from __future__ import annotations

import re

from npa_migrations.sqltext import Lexicon, mask, split_statements, strip_comments

#: MySQL / MariaDB with backslash escapes (the server default)
MYSQL = Lexicon(dash_comment_needs_space=True, hash_comments=True, executable_comments=True,
                backslash_escapes=True, dollar_quotes=False)
#: ``sql_mode`` with ``NO_BACKSLASH_ESCAPES``
MYSQL_NO_BACKSLASH = Lexicon(dash_comment_needs_space=True, hash_comments=True,
                             executable_comments=True, dollar_quotes=False)

_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(?P<delimiter>\S+)[ \t]*(?:\r?\n|\Z)",
                        re.IGNORECASE | re.MULTILINE)


def split_mysql(text: str, *, backslash_escapes: bool = True) -> list[str]:
    """Split ``text`` at top-level semicolons (or at the delimiter a ``DELIMITER`` line
    set); returns stripped statements without their delimiter, comment-only chunks
    dropped."""
    lexicon = MYSQL if backslash_escapes else MYSQL_NO_BACKSLASH
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
