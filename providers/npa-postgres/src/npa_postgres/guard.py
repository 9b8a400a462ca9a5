"""Idempotent scripts on PostgreSQL: a migration guarded by the history table.

A migration becomes one ``DO`` block that runs its statements with ``EXECUTE`` only while
the history table does not record it::

    DO $npa$
    BEGIN
      IF NOT (EXISTS (SELECT * FROM npa_migrations_history WHERE ...)) THEN
        EXECUTE $npa_sql$CREATE TABLE users (...)$npa_sql$;
        EXECUTE $npa_sql$INSERT INTO npa_migrations_history ...$npa_sql$;
      END IF;
    END
    $npa$;

``EXECUTE`` of a dollar-quoted string runs any statement as written (DDL, DML, a
``CREATE FUNCTION`` with its own ``$$`` body), and the block is one transaction: the
migration and its history row take effect together, as in EF Core's idempotent scripts
for PostgreSQL. Any client runs it (psql, a driver, a GUI).

A ``DO`` block cannot hold a statement that must run outside a transaction (``CREATE
INDEX CONCURRENTLY``, a ``-- npa:no-transaction`` migration). Such a migration is guarded
with psql's own conditional instead, so that part of the script needs psql::

    SELECT NOT (EXISTS (SELECT * FROM npa_migrations_history WHERE ...)) AS npa_pending \\gset
    \\if :npa_pending
    CREATE INDEX CONCURRENTLY ix_users_email ON users (email);
    INSERT INTO npa_migrations_history ...;
    \\endif
"""

from __future__ import annotations

from typing import Callable, Iterable


def dollar_tag(base: str, texts: Iterable[str]) -> str:
    """``$base$`` -- or ``$base_<n>$`` -- that occurs in none of ``texts``."""
    texts = list(texts)
    tag, number = f"${base}$", 0
    while any(tag in text for text in texts):
        number += 1
        tag = f"${base}_{number}$"
    return tag


def do_block(pending: str, statements: list[str]) -> str:
    """The ``DO`` block running ``statements`` (single statements) while the condition
    ``pending`` holds."""
    quote = dollar_tag("npa_sql", statements)
    body = [f"    EXECUTE {quote}{sql}{quote};" for sql in statements]
    outer = dollar_tag("npa", body + [pending])
    return "\n".join([f"DO {outer}", "BEGIN", f"  IF {pending} THEN", *body, "  END IF;",
                      "END", outer])


def psql_conditional(pending: str, statements: list[str],
                     terminate: Callable[[str], str]) -> list[str]:
    """psql's ``\\gset`` / ``\\if`` around ``statements`` (each ended by ``terminate``),
    for a migration that must run outside a transaction."""
    return [f"SELECT {pending} AS npa_pending \\gset", "\\if :npa_pending",
            *map(terminate, statements), "\\endif"]
