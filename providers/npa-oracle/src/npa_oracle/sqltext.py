"""Oracle SQL text: splitting scripts the way SQL*Plus does, PL/SQL detection, literals.

Oracle differs from the portable splitter in :mod:`npa_migrations.sqltext`:

* A **PL/SQL unit** -- an anonymous block (``DECLARE`` / ``BEGIN``) or ``CREATE [OR
  REPLACE] FUNCTION | PROCEDURE | PACKAGE [BODY] | TRIGGER | TYPE [BODY] | LIBRARY | JAVA``
  -- contains ``;`` inside and must keep its final ``END;`` when it is sent to the
  database. As in SQL*Plus, it ends at a line holding only ``/`` (or at the end of the
  text).
* Every other statement ends at a top-level ``;`` or a ``/`` line, and is sent *without*
  the ``;`` (Oracle rejects a trailing semicolon: ORA-00933 / ORA-00911).
* Strings may use the alternative quoting ``q'[...]'`` (also ``{}``, ``<>``, ``()`` or any
  other delimiter character), in which a quote does not end the string.
"""

from __future__ import annotations

import re

from npa_migrations import sqltext as core

#: Oracle's lexicon: ``--`` and ``/* */`` comments, '...' and ``q'[...]'`` strings,
#: "..." names (no doubled quote inside), and SQL*Plus ``/`` lines
ORACLE = core.Lexicon(doubled_double_quotes=False, backticks=False, dollar_quotes=False,
                      q_quotes=True, blocks=False,
                      extra=(("slash", r"^[ \t]*/[ \t]*(?:\r?\n|\Z)"),))

#: how a PL/SQL unit starts (after comments)
_PLSQL_START = re.compile(
    r"""^\s*(?:
          DECLARE\b | BEGIN\b | <<
        | CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:NON)?EDITIONABLE\s+)?
          (?:FUNCTION|PROCEDURE|PACKAGE|TRIGGER|TYPE|LIBRARY|JAVA)\b
        )""",
    re.IGNORECASE | re.VERBOSE)

_ENDS_WITH_END = re.compile(r"\bEND(?:\s+(?:\"[^\"]+\"|[A-Za-z][\w$#]*))?\s*;?\s*\Z",
                            re.IGNORECASE)


def strip_comments(text: str) -> str:
    """``text`` without comments (strings and quoted identifiers kept)."""
    return core.strip_comments(text, ORACLE)


def is_plsql(sql: str) -> bool:
    """Whether ``sql`` is a PL/SQL unit (sent with its final ``;``, ended by ``/`` in
    SQL*Plus scripts)."""
    return bool(_PLSQL_START.match(strip_comments(sql)))


def ends_with_end(sql: str) -> bool:
    """Whether ``sql`` (comments ignored) ends with ``END`` [name] [``;``]."""
    return bool(_ENDS_WITH_END.search(strip_comments(sql).rstrip()))


def finish_plsql(sql: str) -> str:
    """A PL/SQL unit as the database wants it: ending ``END [name];`` (the portable
    splitter strips that semicolon)."""
    text = sql.rstrip()
    if not text.endswith(";") and ends_with_end(text):
        text += ";"
    return text


def split_oracle(text: str) -> list[str]:
    """Split ``text`` into statements the way SQL*Plus does (see the module docstring).

    :returns: stripped statements; plain SQL without its terminating ``;``, PL/SQL
        units with their final ``END;``; comment-only chunks dropped.
    """
    statements: list[str] = []
    start = 0
    plsql: bool | None = None  # decided at the statement's first ";" or "/" line
    for kind, begin, end in core.tokens(text, ORACLE):
        if kind not in (core.SEMI, "slash"):
            continue
        if plsql is None:
            plsql = is_plsql(text[start:begin])
        if kind == "slash":
            _append(statements, text[start:begin], plsql)
            start, plsql = end, None
        elif not plsql:
            _append(statements, text[start:begin], False)
            start, plsql = end, None
    _append(statements, text[start:], None)
    return statements


def _append(statements: list[str], chunk: str, plsql: bool | None) -> None:
    stripped = chunk.strip()
    if not stripped or not strip_comments(stripped).strip():
        return
    if plsql is None:
        plsql = is_plsql(stripped)
    statements.append(finish_plsql(stripped) if plsql else stripped.rstrip(";").rstrip())


def literal(text: str) -> str:
    """``text`` as an Oracle string literal (quotes doubled); for dynamic SQL in PL/SQL."""
    return "'" + text.replace("'", "''") + "'"


def ignore_errors(sql: str, *codes: int) -> str:
    """A PL/SQL block that runs ``sql`` with ``EXECUTE IMMEDIATE`` and ignores the given
    ORA- error numbers (e.g. ``942``: the table does not exist), re-raising every other.

    Oracle has no ``IF [NOT] EXISTS`` before 23ai; this is its idiom.
    """
    if not codes:
        raise ValueError("ignore_errors() needs at least one ORA- error number")
    condition = " AND ".join(f"SQLCODE != -{int(code)}" for code in codes)
    return ("BEGIN\n"
            f"  EXECUTE IMMEDIATE {literal(sql)};\n"
            "EXCEPTION\n"
            "  WHEN OTHERS THEN\n"
            f"    IF {condition} THEN\n"
            "      RAISE;\n"
            "    END IF;\n"
            "END;")


def guarded_block(pending: str, statements: list[str]) -> str:
    """One migration of an idempotent script: a PL/SQL block that runs ``statements``
    (each split the SQL*Plus way first: a bulk insert's script holds one ``INSERT`` per
    row) with ``EXECUTE IMMEDIATE`` while the condition ``pending`` holds. DDL commits on
    its own; the script's ``COMMIT`` after the block commits the rest. A statement longer
    than a PL/SQL string literal holds (32,767 bytes) fails when the block runs."""
    body = [f"    EXECUTE IMMEDIATE {literal(piece)};"
            for text in statements for piece in split_oracle(text)]
    return "\n".join(["DECLARE", "  npa_pending NUMBER;", "BEGIN",
                      f"  SELECT COUNT(*) INTO npa_pending FROM dual WHERE {pending};",
                      "  IF npa_pending = 1 THEN", *body, "  END IF;", "END;"])
