"""MysqlProvider: what MySQL 8 and MariaDB 10.6+ do differently from the base provider.

* No transactional DDL: every DDL statement commits implicitly, so the engine refuses
  all-in-one mode and records a migration that fails half-way as failed.
* ``ALTER TABLE ... MODIFY`` / ``CHANGE`` restate the whole column, so ``alter_column``
  needs the column's current definition (from ``existing_*`` or the live table).
* The lock is a named user lock (``GET_LOCK``) held by its own connection.
* One PyMySQL connection per run, in autocommit mode with explicit ``BEGIN``/``COMMIT``.
* Runs of plain DML travel up to 1,000 statements per ``COM_QUERY``, the server's
  multi-statement option switched on for that query only (``MysqlDriver.send_batch``).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import (BaseProvider, Capabilities, Driver, RenderContext,
                                     SqlGenerator)

from .comparison import MysqlSchemaRules

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.schema.model import ColumnModel
    from npa_migrations.sqltext import Lexicon

    from .locking import MysqlLock

#: the one driver this provider drives (every mysql/mariadb URL is mapped to it)
DRIVER = "pymysql"
#: MySQL error numbers
ER_LOCK_WAIT_TIMEOUT = 1205
#: the statement timeout expired: MariaDB's ``max_statement_time``, MySQL's
#: ``max_execution_time``
ER_STATEMENT_TIMEOUT = {1969, 3024}
ER_BAD_DB_ERROR = 1049
#: ``SERVER_STATUS_IN_TRANS`` bit of the server status flags in every OK packet
SERVER_STATUS_IN_TRANS = 1


def normalise_url(url: "sa.engine.URL") -> "sa.engine.URL":
    """Every ``mysql`` / ``mariadb`` URL is served through PyMySQL, whatever driver it
    names (``mysql://`` means mysqlclient in SQLAlchemy; here it does not)."""
    backend = url.get_backend_name()
    if url.drivername != f"{backend}+{DRIVER}":
        return url.set(drivername=f"{backend}+{DRIVER}")
    return url


#: statements that run inside the open transaction and never commit it (see
#: :meth:`MysqlDriver.keeps_transaction`): nothing but white space and comments before the
#: keyword -- ``-- `` (with the white space MySQL requires after it), ``#`` and ``/* */``
#: comments; not an executable comment (``/*!``, ``/*M!``), which may hold anything
_KEEPS_TRANSACTION = re.compile(
    r"\s*(?:(?:--(?=\s)[^\n]*(?:\n|\Z)|#[^\n]*(?:\n|\Z)|/\*(?![!M]).*?\*/)\s*)*"
    r"(?:INSERT|UPDATE|DELETE|REPLACE|SELECT)\b", re.IGNORECASE | re.DOTALL)

#: statements that certainly commit implicitly before they run (see
#: :meth:`MysqlDriver.commits_implicitly`): a narrow list of table and index DDL, without
#: ``TEMPORARY`` (``CREATE`` / ``DROP TEMPORARY TABLE`` do not commit); nothing but white
#: space before the keyword
_COMMITS_IMPLICITLY = re.compile(
    r"\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?(?:TABLE|INDEX)"
    r"|ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE|DROP\s+(?:TABLE|INDEX|VIEW)|RENAME\s+TABLE"
    r"|TRUNCATE)\s", re.IGNORECASE)


@dataclass
class ColumnDefinition:
    """A column as ``SHOW CREATE TABLE`` prints it, split into the parts ``MODIFY``
    must restate."""

    name: str
    type_sql: str
    charset_sql: str  # " CHARACTER SET x COLLATE y" or ""
    nullable: bool
    default_sql: str | None  # "NULL", "'x'", "current_timestamp() ON UPDATE ...", ...
    auto_increment: bool
    comment_sql: str | None  # the quoted literal, e.g. "'it''s'"
    generated: bool
    extra: str  # e.g. "INVISIBLE", "CHECK (json_valid(`c`))"


# One column line of SHOW CREATE TABLE (after SQLAlchemy's MySQL reflection parser).
_COLUMN_LINE = re.compile(
    r"  `(?P<name>(?:``|[^`])+)` +"
    r"(?P<coltype>\w+)"
    r"(?:\((?P<arg>(?:\d+|\d+,\d+|(?:'(?:''|[^'])*',?)+))\))?"
    r"(?: +(?P<unsigned>UNSIGNED))?"
    r"(?: +(?P<zerofill>ZEROFILL))?"
    r"(?: +CHARACTER SET +(?P<charset>\w+))?"
    r"(?: +COLLATE +(?P<collate>\w+))?"
    r"(?: +(?P<notnull>(?:NOT )?NULL))?"
    r"(?: +DEFAULT +(?P<default>(?:NULL|'(?:''|[^'])*'|\(.+?\)|[\-\w\.\(\)]+)"
    r"(?: +ON UPDATE +[\-\w\.\(\)]+)?))?"
    r"(?: +(?:GENERATED ALWAYS +)?AS +(?P<generated>\(.*\)))?"
    r"(?: +(?P<autoincr>AUTO_INCREMENT))?"
    r"(?: +COMMENT +(?P<comment>'(?:''|[^'])*'))?"
    r"(?: +(?P<extra>.*?))?"
    r",?$", re.IGNORECASE)


def _model_column(ctx: RenderContext, table: str, column: str, schema: str | None
                  ) -> "ColumnModel | None":
    """The column in the schema an offline script replays (``ctx.schema``), if known."""
    model = ctx.schema.get(table, schema) if ctx.schema is not None else None
    return model.column(column) if model is not None and model.fully_known else None


class MysqlDriver(Driver):
    """PyMySQL in autocommit mode with explicit ``BEGIN`` / ``COMMIT``; the server's
    timeouts (``max_statement_time`` / ``max_execution_time``, ``lock_wait_timeout``),
    error 1205 as the lock timeout, and the server status flags that say whether DDL has
    committed the transaction."""

    quick_connect = "npa_mysql.quick:connect"
    #: statements that keep the transaction (plain DML) go out up to 1,000 in one
    #: ``COM_QUERY`` (:meth:`send_batch`); the server stops at the first that fails and
    #: its results say which one, so no savepoint is needed
    batch_statements = 1000
    batch_chars = 256 * 1024
    batch_names_failure = True

    def use_engine(self, engine: Any) -> None:
        driver = getattr(engine.dialect, "driver", None)
        if driver != DRIVER:
            raise ConfigurationError(
                f"npa-mysql drives {self.url.get_backend_name()} through PyMySQL; this "
                f"SQLAlchemy Engine uses '{driver}'. Create it from a "
                f"{self.url.get_backend_name()}+pymysql:// URL, or pass the URL itself.")
        super().use_engine(engine)

    def open_dbapi(self, dbapi: Any, cargs: list, cparams: dict) -> Any:
        # autocommit in the handshake (no extra round trip), and a name DBAs can see
        # connect_timeout bounds the greeting too (see _connection_class), so a server that
        # accepts TCP and never answers fails instead of hanging
        params = {"autocommit": True, "program_name": "npa-migrations",
                  "connect_timeout": self.connect_timeout, **cparams}
        return _connection_class(dbapi)(*cargs, **params)

    def connection_error(self, exc: BaseException):
        from npa_migrations.errors import DatabaseUnavailableError

        if _errno(exc) == ER_BAD_DB_ERROR:
            return DatabaseUnavailableError(
                f"Database '{self.url.database}' does not exist on {self.provider.display_url()}. "
                "Create it, or let the engine create it (ensure_created=True).")
        return super().connection_error(exc)

    def prepare_connection(self, raw: Any) -> None:
        raw.autocommit(True)
        self.provider.detect_server(raw)

    def connection_state(self, raw: Any) -> Any:
        """Autocommit and the session settings the engine changes, for a caller's own
        connection (restored when the run ends)."""
        self.provider.detect_server(raw)
        cur = raw.cursor()
        try:
            cur.execute(f"SELECT @@SESSION.{self._timeout_variable()}, "
                        "@@SESSION.lock_wait_timeout")
            timeout, lock_wait = cur.fetchone()
        finally:
            cur.close()
        return raw.get_autocommit(), timeout, lock_wait

    def restore_connection(self, raw: Any, state: Any) -> None:
        autocommit, timeout, lock_wait = state
        cur = raw.cursor()
        try:
            cur.execute(f"SET SESSION {self._timeout_variable()} = %s, "
                        "SESSION lock_wait_timeout = %s", (timeout, lock_wait))
        finally:
            cur.close()
        raw.autocommit(autocommit)

    def ensure_database(self) -> bool:
        """``CREATE DATABASE`` when the URL's database does not exist (connecting without
        a database); server defaults decide its character set and collation."""
        database = self.url.database
        if not database:
            return False
        self.provider.sql.check_identifier(database, "database")
        dbapi = self.import_dbapi()
        cargs, cparams = self.dialect.create_connect_args(self.url.set(database=None))
        cparams.pop("database", None)
        cparams.pop("db", None)
        try:
            raw = self.open_dbapi(dbapi, cargs, cparams)
        except Exception as exc:
            raise self.connection_error(exc) from exc
        try:
            cur = raw.cursor()
            cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                        (database,))
            if cur.fetchone():
                return False
            try:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.provider.sql.quote(database)}")
            except Exception as exc:
                raise ConfigurationError(
                    f"Cannot create database '{database}' on {self.provider.display_url()}: {exc}. "
                    "Create it by hand, or grant this user the CREATE privilege.") from exc
            return True
        finally:
            raw.close()

    def _timeout_variable(self) -> str:
        return "max_statement_time" if self.provider.is_mariadb else "max_execution_time"

    def set_statement_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """MariaDB: ``max_statement_time`` (seconds) limits every statement, DDL included.
        MySQL: ``max_execution_time`` (milliseconds) limits read-only ``SELECT`` only;
        MySQL has no limit for DDL or DML."""
        if seconds is None:
            return
        if seconds < 0:
            raise ConfigurationError("timeout_seconds must be >= 0 (0 means no limit).")
        if self.provider.is_mariadb:
            conn.execute(f"SET SESSION max_statement_time = {float(seconds):.6f}")
        else:
            conn.execute(f"SET SESSION max_execution_time = {int(math.ceil(seconds * 1000))}")

    def apply_ddl_lock_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """How long a statement waits for a metadata lock (DDL behind a long transaction,
        or DML behind an ``ALTER``): ``lock_wait_timeout`` in whole seconds, rounded up.
        ``None`` restores the server default. Sent only when the value changes."""
        value = None if seconds is None else max(1, math.ceil(seconds))
        if conn.session_settings.get("lock_wait_timeout") == value:
            return
        if value is None:
            conn.execute("SET SESSION lock_wait_timeout = DEFAULT")
        else:
            conn.execute(f"SET SESSION lock_wait_timeout = {value}")
        conn.session_settings["lock_wait_timeout"] = value

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        conn.execute(f"SET SESSION lock_wait_timeout = {max(1, math.ceil(seconds))}, "
                     f"SESSION innodb_lock_wait_timeout = {max(1, math.ceil(seconds))}")

    def is_statement_timeout(self, exc: BaseException) -> bool:
        """Error 1969 (MariaDB ``max_statement_time``) or 3024 (MySQL
        ``max_execution_time``)."""
        seen = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            if _errno(exc) in ER_STATEMENT_TIMEOUT:
                return True
            exc = getattr(exc, "original", None) or exc.__cause__
        return False

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Error 1205, "Lock wait timeout exceeded" (metadata or row lock)."""
        seen = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            if _errno(exc) == ER_LOCK_WAIT_TIMEOUT:
                return True
            exc = getattr(exc, "original", None) or exc.__cause__
        return False

    def transaction_open(self, conn: "DbConnection") -> bool | None:
        """Whether the server still has the explicit transaction open (from the status
        flags of the last reply, no round trip): ``False`` after DDL committed it."""
        status = getattr(conn.raw, "server_status", None)
        return None if status is None else bool(status & SERVER_STATUS_IN_TRANS)

    def keeps_transaction(self, sql: str) -> bool:
        """``INSERT``, ``UPDATE``, ``DELETE``, ``REPLACE`` and ``SELECT`` never commit
        implicitly (nor can a trigger or stored function they call), also after comments;
        anything else -- DDL, ``SET``, ``LOCK TABLES``, ``CALL``, a leading executable
        comment (``/*!``, ``/*M!``) -- may."""
        return _KEEPS_TRANSACTION.match(sql) is not None

    def commits_implicitly(self, sql: str) -> bool:
        """``CREATE [UNIQUE] TABLE`` / ``INDEX``, ``ALTER TABLE``, ``DROP TABLE`` /
        ``INDEX`` / ``VIEW``, ``RENAME TABLE`` and ``TRUNCATE`` commit the open transaction
        before they run (MySQL and MariaDB: "statements that cause an implicit commit");
        ``CREATE`` / ``DROP TEMPORARY TABLE`` and anything not listed are not claimed."""
        return _COMMITS_IMPLICITLY.match(sql) is not None

    @contextlib.contextmanager
    def batched(self, conn: "DbConnection") -> Iterator[None]:
        """MariaDB: the block's statements -- a migration's ``BEGIN``, history row,
        event-log row, the next migration's ``running`` row and ``COMMIT`` -- go to the
        server as one compound statement (``BEGIN NOT ATOMIC ... END``, parameters bound
        by PyMySQL as for any statement): one round trip instead of five, with no
        multi-statement option to switch. The server stops at the first statement that
        fails; the transaction is then rolled back, as after any failed bookkeeping (a
        ``ROLLBACK`` without one is harmless). MySQL has no anonymous compound statement
        and runs them one by one."""
        if not self.provider.compound_statements:
            yield
            return
        conn.hold()
        try:
            yield
        except BaseException:
            conn.release()  # nothing was sent; a transaction open before the block
            self._roll_back_quietly(conn)  # ends (a held COMMIT cleared in_transaction)
            raise
        held = conn.release()
        if not held:
            return
        cursor = conn.cursor
        body = ";\n".join("START TRANSACTION" if sql == self.begin_statement
                          else sql if params is None else cursor.mogrify(sql, params)
                          for sql, params in held)
        try:
            conn.execute(f"BEGIN NOT ATOMIC\n{body};\nEND")
        except BaseException:
            self._roll_back_quietly(conn)  # what ran before the failing statement
            raise

    @staticmethod
    def _roll_back_quietly(conn: "DbConnection") -> None:
        """``ROLLBACK`` whether or not a transaction is open (an error reply says
        nothing of it; without one it is harmless); a broken connection must not hide
        the error that led here."""
        try:
            conn.rollback()
        except Exception:
            pass

    def send_batch(self, conn: "DbConnection", sqls: Any) -> None:
        """The statements in one ``COM_QUERY``, each ending on a line of its own (a
        trailing ``--`` or ``#`` comment cannot swallow the ``;`` after it), with the
        server's multi-statement option switched on for this query only
        (:func:`_multi_statements`): outside a batch a text holding two statements still
        fails as it always did, in a migration's Python step too. The server runs them in
        order and stops at the first error; the results read before it tell its index.

        :raises StatementBatchError: with the failing statement's index (``None`` when
            the connection broke).
        """
        self.end_batch(conn, self._send(conn, sqls))

    def start_batch(self, conn: "DbConnection", sqls: Any, *, locate: Any = None) -> Any:
        """:meth:`send_batch` up to the first statement's result: the server goes on
        with the others while the engine prepares the next batch, and their results wait
        in the socket for :meth:`end_batch`."""
        if len(sqls) < 2:
            return super().start_batch(conn, sqls, locate=locate)
        return self._send(conn, sqls)

    def end_batch(self, conn: "DbConnection", pending: Any) -> None:
        """Read the results of the batch :meth:`start_batch` sent, then switch the
        multi-statement option off again."""
        if pending is None:
            return
        cursor, count, switch = pending
        done, error = 1, None
        try:
            while cursor.nextset():
                done += 1
        except Exception as exc:
            error = exc
        self._switched_back(conn, switch, error, done, count)

    def _send(self, conn: "DbConnection", sqls: Any) -> Any:
        """Send the batch and read the first statement's result: ``(cursor, number of
        statements, whether the option must be switched off)``; ``None`` when this
        PyMySQL cannot switch the option and the statements ran one at a time."""
        from npa_migrations.provider.driver import StatementBatchError

        raw = conn.raw
        switch = not (getattr(raw, "client_flag", 0) & _CLIENT_MULTI_STATEMENTS)
        if switch and not _multi_statements(raw, True):  # no way to switch it on here
            for index, sql in enumerate(sqls):
                try:
                    conn.execute(sql)
                except Exception as exc:
                    raise StatementBatchError(index, exc) from exc
            return None
        try:
            return conn.execute("\n;\n".join(sqls)), len(sqls), switch
        except Exception as exc:
            self._switched_back(conn, switch, exc, 0, len(sqls))
            raise AssertionError("unreachable")  # pragma: no cover

    def _switched_back(self, conn: "DbConnection", switch: bool,
                       error: BaseException | None, done: int, count: int) -> None:
        """Switch the option off (when :meth:`_send` switched it on), and raise
        ``error`` as the failure of statement ``done`` of ``count``, if any."""
        from npa_migrations.provider.driver import StatementBatchError

        raw = conn.raw
        if switch:
            try:
                _multi_statements(raw, False)
            except Exception:
                if error is None:
                    raise
        if error is not None:
            index = done if getattr(raw, "open", True) and done < count else None
            raise StatementBatchError(index, error) from error

    # locking -----------------------------------------------------------------------------


class MysqlSql(SqlGenerator):
    """``ALTER TABLE ... MODIFY`` / ``CHANGE`` restating the whole column (read from the
    live table where the operation does not say), ``RENAME TABLE``, constraints dropped by
    kind, schemas as databases, and MySQL's identifier and string rules."""

    def replace_row_sql(self, insert_sql: str) -> str | None:
        """``REPLACE INTO``: MySQL's delete-then-insert of the row with the same primary
        (or unique) key, as one statement."""
        if not insert_sql.startswith("INSERT INTO "):
            return None
        return "REPLACE" + insert_sql[len("INSERT"):]

    def reads_live_schema(self, operation: ops.MigrationOperation) -> bool:
        """Operations whose SQL depends on the live table (rendered from the operation
        alone in offline scripts)."""
        if isinstance(operation, ops.AlterColumn):
            return operation.type_ is not ops.UNCHANGED or operation.nullable is not ops.UNCHANGED
        if isinstance(operation, ops.DropConstraint):
            return operation.type_ is None
        return isinstance(operation, ops.DropSchema)

    def max_identifier_length(self) -> int:
        return 64

    def check_identifier(self, name: Any, what: str) -> str:
        """MySQL counts identifier length in characters (at most 64), allows any
        character of the Basic Multilingual Plane except NUL, and no trailing space."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"The {what} name {name!r} is empty or not a string; give it a name.")
        if len(name) > 64:
            raise ConfigurationError(
                f"The {what} name '{name}' is {len(name)} characters long; {self.name} "
                "allows at most 64. Choose a shorter name.")
        if "\x00" in name or any(ord(ch) > 0xFFFF for ch in name) or name.endswith(" "):
            raise ConfigurationError(
                f"The {what} name {name!r} cannot be used on {self.name}: names may not "
                "contain NUL or characters outside the Basic Multilingual Plane (e.g. "
                "emoji), nor end with a space. Choose another name.")
        return name

    @property
    def lexicon(self):  # type: ignore[override]
        """MySQL's lexicon, with backslash escapes unless the server's ``sql_mode`` has
        ``NO_BACKSLASH_ESCAPES``."""
        from .sqltext import lexicon_for

        return lexicon_for(self.provider.backslash_escapes)

    def split_statements(self, sql: str) -> list[str]:
        from .sqltext import split_mysql

        return split_mysql(sql, backslash_escapes=self.provider.backslash_escapes)

    def streaming_lexicon(self) -> "Lexicon":
        """:attr:`lexicon`: where no ``DELIMITER`` line can be (:meth:`needs_whole_text`),
        :meth:`split_statements` is the lexicon's split, so a large file is split a
        block at a time with it."""
        return self.lexicon

    def needs_whole_text(self, block: str) -> bool:
        """A block holding the word ``DELIMITER`` (a ``DELIMITER`` line, or the word
        in a string, a comment or a name): the file is split whole, by
        :func:`~npa_mysql.sqltext.split_mysql`."""
        from .sqltext import may_set_delimiter

        return may_set_delimiter(block)

    def utc_now(self) -> Any:
        """``UTC_TIMESTAMP()``: ``CURRENT_TIMESTAMP`` is the session's time zone."""
        import sqlalchemy as sa

        return sa.func.utc_timestamp()

    def guard_migration(self, pending: str, statements: list[str], *,
                        transactional: bool = True) -> list[str]:
        """A stored procedure that runs the statements while ``pending`` holds, created,
        called and dropped (:mod:`npa_mysql.guard`)."""
        from npa_migrations.sqltext import strip_comments

        from .guard import procedure_script

        return procedure_script(pending, statements, self.split_statements,
                                lambda sql: strip_comments(sql, self.lexicon))

    # planning: render with the live connection ---------------------------------------------
    def sql_rename_table(self, op: ops.RenameTable, ctx: RenderContext) -> list[str]:
        # RENAME keeps the table in its database only when the new name is qualified too
        return [f"RENAME TABLE {self.table_name(op.table, op.schema)} "
                f"TO {self.table_name(op.new_name, op.schema)}"]

    def sql_alter_column(self, op: ops.AlterColumn, ctx: RenderContext) -> list[str]:
        """``ALTER COLUMN ... SET/DROP DEFAULT`` and ``RENAME COLUMN`` when only those
        change; otherwise ``MODIFY COLUMN`` (``CHANGE COLUMN`` with a new name) restating
        the whole definition: the new parts from the operation, the others from
        ``existing_type`` / ``existing_nullable`` / ``existing_server_default`` /
        ``existing_comment``, or, when not given, from the live table -- offline, from the
        schema the migrations build, when the script has it. The live table also
        supplies what ``MODIFY`` would otherwise drop silently: ``AUTO_INCREMENT``, the
        comment, the character set and collation of an unchanged type, ``INVISIBLE``."""
        table = self.table_name(op.table, op.schema)
        column = self.check_identifier(op.column_name, "column")
        new_name = None if op.new_column_name is ops.UNCHANGED else op.new_column_name
        if new_name is not None:
            self.check_identifier(new_name, "column")
        type_changes = op.type_ is not ops.UNCHANGED
        null_changes = op.nullable is not ops.UNCHANGED
        default_changes = op.server_default is not ops.UNCHANGED
        comment_changes = op.comment is not ops.UNCHANGED
        if not (type_changes or null_changes or comment_changes):
            statements = []
            if default_changes:
                action = ("DROP DEFAULT" if op.server_default is None
                          else f"SET DEFAULT {self.render_default(op.server_default)}")
                statements.append(f"ALTER TABLE {table} ALTER COLUMN {self.quote(column)} "
                                  f"{action}")
            if new_name is not None:
                statements.append(f"ALTER TABLE {table} RENAME COLUMN {self.quote(column)} "
                                  f"TO {self.quote(new_name)}")
            return statements
        # the schema model is imported when a MODIFY needs it, not with the provider
        from npa_migrations.schema.model import UNKNOWN

        conn = ctx.connection
        current = self.reflect_column(conn, op.table, column, op.schema) if conn else None
        known = _model_column(ctx, op.table, column, op.schema) if current is None else None
        missing = []
        if type_changes:
            type_sql = self.compile_type(op.type_)
        elif op.existing_type is not None:
            type_sql = self.compile_type(op.existing_type)
        elif current is not None:
            type_sql = current.type_sql
        elif known is not None and known.type is not UNKNOWN:
            type_sql = self.compile_type(known.type)
        else:
            type_sql = ""
            missing.append("existing_type")
        if null_changes:
            nullable = bool(op.nullable)
        elif op.existing_nullable is not None:
            nullable = bool(op.existing_nullable)
        elif current is not None:
            nullable = current.nullable
        elif known is not None and known.nullable is not UNKNOWN:
            nullable = bool(known.nullable)
        else:
            nullable = True
            missing.append("existing_nullable")
        if missing:
            raise ConfigurationError(
                f"alter_column('{op.table}', '{column}') needs {' and '.join(missing)} on "
                f"{self.name}: ALTER TABLE ... MODIFY COLUMN restates the whole column, and "
                "its current definition cannot be read while rendering SQL offline. Pass "
                + ", ".join(f"{m}=..." for m in missing) + " (and existing_server_default=... "
                "if the column has a default) to alter_column().")
        if default_changes:
            default = (None if op.server_default is None
                       else self.render_default(op.server_default))
        elif op.existing_server_default is not None:
            default = self.render_default(op.existing_server_default)
        elif current is not None:
            default = current.default_sql
        elif known is not None and known.default not in (None, UNKNOWN):
            default = self.render_default(known.default)
        else:
            default = None  # offline without existing_server_default: the column has none
        if default is not None and default.upper() == "NULL" and not nullable:
            default = None  # NOT NULL DEFAULT NULL is invalid; the default was "none"

        parts = [type_sql]
        keep_type = not type_changes and current is not None
        if keep_type and current.charset_sql and "COLLATE" not in type_sql.upper() \
                and "CHARACTER SET" not in type_sql.upper():
            parts.append(current.charset_sql.strip())
        parts.append("NULL" if nullable else "NOT NULL")
        if default is not None:
            parts.append(f"DEFAULT {default}")
        comment = op.comment if comment_changes else op.existing_comment
        if comment_changes or current is None:
            import sqlalchemy as sa

            comment_sql = None if comment is None else self.compile_literal(sa.literal(comment))
        else:
            comment_sql = current.comment_sql
        if (current is not None and current.auto_increment) or (known is not None
                                                                 and known.autoincrement):
            parts.append("AUTO_INCREMENT")
        if comment_sql:
            parts.append(f"COMMENT {comment_sql}")
        if current is not None:
            if keep_type and current.extra:
                parts.append(current.extra)
            elif re.search(r"\bINVISIBLE\b", current.extra or "", re.IGNORECASE):
                parts.append("INVISIBLE")
        definition = " ".join(p for p in parts if p)
        if new_name is not None:
            verb = f"CHANGE COLUMN {self.quote(column)} {self.quote(new_name)}"
        else:
            verb = f"MODIFY COLUMN {self.quote(column)}"
        return [f"ALTER TABLE {table} {verb} {definition}"]

    def reflect_column(self, conn: "DbConnection", table: str, column: str,
                       schema: str | None = None) -> ColumnDefinition:
        """The column's definition from ``SHOW CREATE TABLE`` on the live connection."""
        rows = conn.query(f"SHOW CREATE TABLE {self.table_name(table, schema)}")
        ddl = rows[0][1]
        for line in ddl.splitlines():
            m = _COLUMN_LINE.match(line)
            if not m or m.group("name").replace("``", "`").lower() != column.lower():
                continue
            if m.group("generated"):
                raise ConfigurationError(
                    f"alter_column('{table}', '{column}'): '{column}' is a generated column; "
                    "change it with b.execute('ALTER TABLE ... MODIFY COLUMN ...').")
            charset = ""
            if m.group("charset"):
                charset += f" CHARACTER SET {m.group('charset')}"
            if m.group("collate"):
                charset += f" COLLATE {m.group('collate')}"
            type_sql = m.group("coltype")
            if m.group("arg"):
                type_sql += f"({m.group('arg')})"
            for flag in ("unsigned", "zerofill"):
                if m.group(flag):
                    type_sql += f" {flag.upper()}"
            return ColumnDefinition(
                name=m.group("name").replace("``", "`"), type_sql=type_sql,
                charset_sql=charset, nullable=(m.group("notnull") or "").upper() != "NOT NULL",
                default_sql=m.group("default"), auto_increment=bool(m.group("autoincr")),
                comment_sql=m.group("comment"), generated=False,
                extra=(m.group("extra") or "").strip())
        raise ConfigurationError(
            f"alter_column: table '{table}' has no column '{column}'. Check the names, and "
            "that an earlier migration created it.")

    def sql_drop_constraint(self, op: ops.DropConstraint, ctx: RenderContext) -> list[str]:
        """``DROP FOREIGN KEY`` / ``DROP INDEX`` (unique) / ``DROP PRIMARY KEY`` /
        ``DROP CHECK`` (MySQL) or ``DROP CONSTRAINT`` (MariaDB) by ``type_``. Without a
        type, it is looked up on the live table; offline, ``DROP CONSTRAINT`` (MySQL
        8.0.19+, MariaDB) drops any kind but a primary key."""
        if op.type_ is None:
            self.check_identifier(op.name, "constraint")
            conn = ctx.connection
            found = self.constraint_type(conn, op.table, op.name, op.schema) if conn else None
            if found is None:
                return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                        f"DROP CONSTRAINT {self.quote(op.name)}"]
            op = ops.DropConstraint(op.name, op.table, type_=found, schema=op.schema)
        return super().sql_drop_constraint(op, ctx)

    def constraint_type(self, conn: "DbConnection", table: str, name: str,
                        schema: str | None = None) -> str | None:
        rows = conn.query(
            "SELECT CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS "
            "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s "
            "AND CONSTRAINT_NAME = %s", (schema, table, name))
        kinds = {"FOREIGN KEY": "foreignkey", "PRIMARY KEY": "primary", "UNIQUE": "unique",
                 "CHECK": "check"}
        return kinds.get(str(rows[0][0]).upper()) if rows else None

    def sql_create_schema(self, op: ops.CreateSchema, ctx: RenderContext) -> list[str]:
        """A schema is a database in MySQL: ``CREATE DATABASE`` with the server's default
        character set and collation."""
        self.check_identifier(op.name, "schema")
        return [f"CREATE DATABASE {self.quote(op.name)}"]

    def sql_drop_schema(self, op: ops.DropSchema, ctx: RenderContext) -> list[str]:
        """``DROP DATABASE``, refused while the database still holds tables or views
        (MySQL would drop them all, unlike ``DROP SCHEMA`` elsewhere) or is the database
        being migrated. Checked on the live connection; not offline."""
        self.check_identifier(op.name, "schema")
        conn = ctx.connection
        if conn is not None:
            current = conn.query("SELECT DATABASE()")[0][0]
            if current is not None and current == op.name:
                raise ConfigurationError(
                    f"drop_schema('{op.name}'): that is the database being migrated (it holds "
                    "the history table); it cannot drop itself.")
            count = conn.query("SELECT COUNT(*) FROM information_schema.TABLES "
                               "WHERE TABLE_SCHEMA = %s", (op.name,))[0][0]
            if count:
                raise ConfigurationError(
                    f"drop_schema('{op.name}'): the database still has {count} table(s) or "
                    f"view(s), and on {self.name} DROP DATABASE would destroy them all. Drop "
                    "them first, or use b.execute('DROP DATABASE ...') on purpose.")
        return [f"DROP DATABASE {self.quote(op.name)}"]

    def bulk_insert_sql(self, op: ops.BulkInsert, table: Any, columns: list[str]) -> Any:
        """``INSERT INTO t (...) VALUES (%s, ...)`` run with ``executemany``, which PyMySQL
        sends as multi-row INSERT batches (values bound, never inlined)."""
        prep = self.dialect.identifier_preparer  # doubles % for PyMySQL's formatting
        target = prep.quote(op.table)
        if op.schema:
            target = f"{prep.quote_schema(op.schema)}.{target}"
        return self.positional_insert(op, target, [prep.quote(c) for c in columns],
                                      ["%s"] * len(columns), columns)

    def bind_value(self, value: Any) -> Any:
        """Dicts and lists go to JSON columns as JSON text (PyMySQL cannot bind them)."""
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return value


class MysqlProvider(BaseProvider):
    """MySQL 8 and MariaDB 10.6+ through PyMySQL.

    Two SQLAlchemy dialect instances are kept: :attr:`dialect` compiles statements that
    run with bound parameters (PyMySQL %-formats those, so a ``%`` in a name is doubled),
    :attr:`ddl_dialect` compiles DDL, which runs without parameters (no doubling).
    Both learn the server's version and SQL mode from the first connection.
    """

    name = "mysql"
    install_hint = "PyMySQL"
    capabilities = Capabilities(transactional_ddl=False, advisory_lock=True, schemas=True,
                                if_exists=True, alter_in_place=True, drop_column=True,
                                create_database=True)
    driver_class = MysqlDriver
    sql_class = MysqlSql
    schema_rules_class = MysqlSchemaRules

    def __init__(self, url: "sa.engine.URL"):
        super().__init__(normalise_url(url))
        if self.url.get_backend_name() == "mariadb":
            self.name = "mariadb"
        self._detect_lock = threading.Lock()
        #: server facts, known after the first connection
        self.server_version: tuple[int, ...] | None = None
        self.is_mariadb: bool = bool(self.dialect.is_mariadb)
        self.backslash_escapes = True
        #: the server runs an anonymous compound statement (MariaDB's ``BEGIN NOT
        #: ATOMIC ... END``; not in its Oracle mode, where ``BEGIN`` starts PL/SQL)
        self.compound_statements = False

    @property
    def names(self) -> set[str]:
        names = {self.name, "mysql", self.dialect.name, self.url.get_backend_name()}
        if self.is_mariadb:
            names.add("mariadb")
        return names

    # connections -------------------------------------------------------------------------
    def detect_server(self, raw: Any) -> None:
        """Learn MySQL or MariaDB, the version and the SQL mode from a connection (once
        per provider), so compiled SQL matches the server."""
        if self.server_version is not None:
            return
        with self._detect_lock:
            if self.server_version is not None:
                return
            version_text = raw.get_server_info()
            cur = raw.cursor()
            try:
                cur.execute("SELECT @@SESSION.sql_mode")
                (sql_mode,) = cur.fetchone()
            finally:
                cur.close()
            for dialect in (self.dialect, self.ddl_dialect):
                try:
                    version = dialect._parse_server_version(version_text)
                except Exception as exc:  # a mariadb:// URL pointing at MySQL
                    raise ConfigurationError(
                        f"{self.display_url()}: {exc} Use a mysql:// URL for MySQL servers."
                    ) from exc
                dialect._backslash_escapes = "NO_BACKSLASH_ESCAPES" not in (sql_mode or "")
                dialect._dispatch_for_vendor(dialect._initialize_mysql,
                                             dialect._initialize_mariadb, None)
            self.use_ddl_preparer()
            self.is_mariadb = bool(self.dialect.is_mariadb)
            self.backslash_escapes = self.ddl_dialect._backslash_escapes
            self.compound_statements = (self.is_mariadb
                                        and "ORACLE" not in (sql_mode or "").upper())
            self.server_version = version

    def tenant_url(self, url: "sa.engine.URL", schema: str) -> "sa.engine.URL":
        """A MySQL schema is a database: the target is ``url`` naming it."""
        return url.set(database=schema)

    def create_lock(self, table_name: str) -> "MysqlLock":
        from .locking import MysqlLock

        return MysqlLock(self, table_name)

    # identifiers -------------------------------------------------------------------------

_CONNECTION_CLASS: Any = None


def _connection_class(dbapi: Any) -> Any:
    """PyMySQL's ``Connection`` sharing one TLS context between connections, with a
    bounded handshake.

    PyMySQL's ``connect_timeout`` covers only the TCP connect: the server's greeting and
    the authentication are read with ``read_timeout`` (none by default), so a server that
    accepts a connection and never answers made ``npa`` wait forever. The handshake is
    read with ``connect_timeout``; the connection's own read timeout applies afterwards.

    Without TLS options recent PyMySQL (1.2) tries TLS when the server offers it and
    builds a fresh default ``SSLContext`` for every connection, which loads the system's CA
    certificates each time (tens of milliseconds). The context is the same every time,
    and ``SSLContext`` objects are meant to be shared, so one is built per process.
    Connections with TLS options of their own are untouched.
    """
    global _CONNECTION_CLASS
    base = getattr(getattr(dbapi, "connections", None), "Connection", None)
    if base is None or not hasattr(base, "_create_ssl_ctx"):
        return dbapi.connect
    if _CONNECTION_CLASS is None or not issubclass(_CONNECTION_CLASS, base):
        lock = threading.Lock()

        class Connection(base):
            _npa_shared_ctx = None

            def connect(self, sock=None):
                read_timeout = self._read_timeout
                if read_timeout is None:
                    self._read_timeout = self.connect_timeout
                try:
                    super().connect(sock)
                finally:
                    self._read_timeout = read_timeout
                if self._sock is not None:
                    self._sock.settimeout(read_timeout)
                    self._current_timeout = read_timeout

            def _create_ssl_ctx(self, sslp):
                if not (isinstance(sslp, dict) and not sslp):
                    return super()._create_ssl_ctx(sslp)
                cls = type(self)
                with lock:
                    if cls._npa_shared_ctx is None:
                        cls._npa_shared_ctx = super()._create_ssl_ctx(sslp)
                return cls._npa_shared_ctx

        _CONNECTION_CLASS = Connection
    return _CONNECTION_CLASS


#: PyMySQL's ``CLIENT.MULTI_STATEMENTS`` capability flag (the protocol's value)
_CLIENT_MULTI_STATEMENTS = 1 << 16
#: ``COM_SET_OPTION`` and its two options
_COM_SET_OPTION = 0x1B
_MULTI_STATEMENTS_ON = b"\x00\x00"
_MULTI_STATEMENTS_OFF = b"\x01\x00"


def _multi_statements(raw: Any, on: bool) -> bool:
    """Switch the server's multi-statement option on or off for the session of PyMySQL
    connection ``raw`` (``COM_SET_OPTION``, what the C API's
    ``mysql_set_server_option`` sends); ``False`` when this PyMySQL cannot send it.

    PyMySQL has no public call for it (only ``CLIENT.MULTI_STATEMENTS`` at connect, which
    would let every text sent on the connection run several statements, a migration's
    own Python steps included), so this uses two of its private methods, the ones its own
    ``query`` and ``ping`` are built on: ``_execute_command`` (one command packet) and
    ``_read_packet`` (its reply; an error reply raises). Pinned by
    providers/npa-mysql/tests/test_mysql_batches.py."""
    send = getattr(raw, "_execute_command", None)
    read = getattr(raw, "_read_packet", None)
    if send is None or read is None:
        return False
    send(_COM_SET_OPTION, _MULTI_STATEMENTS_ON if on else _MULTI_STATEMENTS_OFF)
    read()
    return True


def _errno(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None
