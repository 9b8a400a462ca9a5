"""Idempotent scripts on MySQL and MariaDB: a migration guarded by the history table in a
stored procedure.

MySQL has no anonymous blocks (MariaDB's ``BEGIN NOT ATOMIC`` is MariaDB's own), so each
migration becomes a short-lived procedure, created, called and dropped, whose body runs
the statements only while the history table does not record the migration::

    DROP PROCEDURE IF EXISTS npa_idempotent_migration;
    DELIMITER //
    CREATE PROCEDURE npa_idempotent_migration()
    BEGIN
      IF NOT (EXISTS (SELECT * FROM npa_migrations_history WHERE ...)) THEN
        CREATE TABLE users (...);
        INSERT INTO npa_migrations_history ...;
      END IF;
    END//
    DELIMITER ;
    CALL npa_idempotent_migration();
    DROP PROCEDURE npa_idempotent_migration;

The ``DELIMITER`` lines are the ``mysql`` / ``mariadb`` client's (npa's own splitter
reads them too). The script needs the ``CREATE ROUTINE`` privilege, and statements a
stored program may not hold -- ``CREATE``/``ALTER``/``DROP`` of a procedure, function,
trigger or event, ``LOCK TABLES``, ``LOAD DATA``, ``USE`` -- cannot be guarded: such a
migration is refused with the statement named. DDL commits implicitly on MySQL, so a
script that fails half way through a migration leaves that migration half applied, as
``npa migrate up`` would on this database.
"""

from __future__ import annotations

import re
from typing import Callable

from npa_migrations.errors import ConfigurationError
from npa_migrations.sqltext import first_line

#: the procedure each migration of an idempotent script runs in
PROCEDURE = "npa_idempotent_migration"
#: delimiters the ``CREATE PROCEDURE`` may end with, the first one not in its body wins
DELIMITERS = ("//", "$$", ";;", "%%")
#: statements a stored procedure cannot hold
_NOT_IN_PROCEDURE = re.compile(
    r"^\s*(?:(?:CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?"
    r"(?:AGGREGATE\s+)?(?:PROCEDURE|FUNCTION|TRIGGER|EVENT)\b|LOCK\s+TABLES?\b|"
    r"UNLOCK\s+TABLES?\b|LOAD\s+(?:DATA|XML)\b|USE\b|DELIMITER\b)", re.IGNORECASE)


def procedure_script(pending: str, statements: list[str], split: Callable[[str], list[str]],
                     strip_comments: Callable[[str], str]) -> list[str]:
    """The lines of the script that run ``statements`` (each split by ``split``) in a
    procedure while the condition ``pending`` holds."""
    sql = [piece for text in statements for piece in split(text)]
    for piece in sql:
        if _NOT_IN_PROCEDURE.match(strip_comments(piece)):
            raise ConfigurationError(
                f"its statement '{first_line(piece)}' cannot run inside a stored procedure, "
                "which is how an idempotent script guards a migration on MySQL/MariaDB. "
                "Apply it with 'npa migrate up', or write a script without --idempotent "
                "for the range that holds it (--from / --target).")
    delimiter = next((d for d in DELIMITERS if not any(d in piece for piece in sql)), None)
    if delimiter is None:
        raise ConfigurationError(
            "its statements hold every delimiter an idempotent script can end a "
            f"procedure with ({', '.join(DELIMITERS)}).")
    body = "\n".join(f"    {piece};" for piece in sql)
    return [f"DROP PROCEDURE IF EXISTS {PROCEDURE};",
            f"DELIMITER {delimiter}",
            f"CREATE PROCEDURE {PROCEDURE}()\nBEGIN\n  IF {pending} THEN\n{body}\n"
            f"  END IF;\nEND{delimiter}",
            "DELIMITER ;",
            f"CALL {PROCEDURE}();",
            f"DROP PROCEDURE {PROCEDURE};"]
