"""A fake python-oracledb connection for the lock, history and transaction code paths.

It records every call and answers as Oracle does where these paths depend on it:

* transactions: ``autocommit``; DML opens a transaction (``transaction_in_progress``)
  that ``commit()`` keeps and ``rollback()`` undoes; a DDL statement commits what is
  pending first, even when it then fails (Oracle's implicit commit);
* tables: ``CREATE TABLE`` creates one; ``SELECT 1 FROM t WHERE 1 = 0`` fails with
  ORA-00942 until then; rows of ``INSERT`` / ``DELETE`` / ``UPDATE`` / ``SELECT`` as
  SQLAlchemy compiles them for the engine's own tables;
* ``DBMS_LOCK``: ``ALLOCATE_UNIQUE`` gives a handle per name (or fails to compile with
  ORA-06550 / PLS-00201 without the grant), ``REQUEST`` returns 0 / 1 (held by another
  session) / 4 (held by this one) or a forced code, ``RELEASE`` 0 / 4; a session's locks
  end with it;
* errors carry ``args[0].code`` / ``.message`` like ``oracledb.DatabaseError``.

Only here is a fake allowed: everything else is checked against SQL parsers, golden
files, or a real server.
"""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace
from typing import Any


class FakeDatabaseError(Exception):
    def __init__(self, code: int, message: str):
        full = f"ORA-{code:05d}: {message}"
        super().__init__(SimpleNamespace(code=code, message=full, full_code=f"ORA-{code:05d}"))

    def __str__(self) -> str:
        return self.args[0].message


class FakeVar:
    def __init__(self, type_: Any, size: int | None = None):
        self.type = type_
        self.size = size
        self.value = None

    def getvalue(self):
        return self.value

    def setvalue(self, position, value):
        self.value = value


_IDENT = r'(?:"[^"]+"|[\w$#]+)'
_NAME = rf"{_IDENT}(?:\.{_IDENT})?"


def _norm(name: str) -> str:
    name = name.split(".")[-1]
    return name[1:-1] if name.startswith('"') else name.upper()


class FakeServer:
    """The database: tables, rows, user locks; shared by its connections."""

    def __init__(self, *, dbms_lock: bool = True, version: str = "19.24.0.0.0",
                 max_identifier_length: int = 128):
        self.dbms_lock = dbms_lock
        self.version = version
        self.max_identifier_length = max_identifier_length
        self.tables: dict[str, list[dict]] = {}
        self.locks: dict[str, "FakeConnection"] = {}   # handle -> holding session
        self.handles: dict[str, str] = {}              # lock name -> handle
        self.request_code: int | None = None           # force a REQUEST return code
        self.holder_row: tuple | None = None           # answer of the holder query
        self.fail: dict[str, tuple[int, str]] = {}     # SQL substring -> ORA error
        self.connections: list[FakeConnection] = []
        self.log: list[tuple[int, str, Any]] = []      # (session, sql or call, params)
        self._ids = itertools.count(1)

    def connect(self, *args, **kwargs) -> "FakeConnection":
        conn = FakeConnection(self, next(self._ids), kwargs)
        self.connections.append(conn)
        return conn

    def statements(self, session: int | None = None) -> list[str]:
        return [sql for s, sql, _ in self.log if session is None or s == session]


class FakeConnection:
    def __init__(self, server: FakeServer, session: int, params: dict):
        self.server = server
        self.session = session
        self.params = params
        self.autocommit = False
        self.outputtypehandler = None
        self.call_timeout = 0
        self.version = server.version
        self.max_identifier_length = server.max_identifier_length
        self.module = self.action = self.client_identifier = None
        self.closed = False
        self._undo: list = []

    @property
    def transaction_in_progress(self) -> bool:
        return bool(self._undo)

    def cursor(self) -> "FakeCursor":
        return FakeCursor(self)

    def commit(self) -> None:
        self.server.log.append((self.session, "<commit>", None))
        self._undo.clear()

    def rollback(self) -> None:
        self.server.log.append((self.session, "<rollback>", None))
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def ping(self) -> None:
        self.server.log.append((self.session, "<ping>", None))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.log.append((self.session, "<close>", None))
        self.rollback()
        for handle, holder in list(self.server.locks.items()):
            if holder is self:
                del self.server.locks[handle]

    # statements ------------------------------------------------------------------------------
    def run(self, sql: str, params: Any) -> list[tuple]:
        server = self.server
        server.log.append((self.session, sql, params))
        text = " ".join(sql.split())
        upper = text.upper()
        ddl = re.match(r"(CREATE|ALTER|DROP|RENAME|TRUNCATE|COMMENT|GRANT|REVOKE)\b", upper) \
            and not upper.startswith("ALTER SESSION")
        if ddl:
            self._undo.clear()  # the implicit commit before a DDL statement
        for fragment, (code, message) in server.fail.items():
            if fragment in sql:
                raise FakeDatabaseError(code, message)
        if "DBMS_LOCK." in upper:
            return self._dbms_lock(upper, params)
        if upper.startswith("SELECT SYS_CONTEXT"):
            return [("APP",)]
        if "FROM V$LOCK" in upper:
            if server.holder_row is None:
                raise FakeDatabaseError(942, "table or view does not exist")
            return [server.holder_row]
        m = re.match(rf"SELECT 1 FROM ({_NAME}) WHERE 1 = 0$", text)
        if m:
            if _norm(m.group(1)) not in server.tables:
                raise FakeDatabaseError(942, "table or view does not exist")
            return []
        m = re.match(rf"CREATE TABLE ({_NAME})", text)
        if m:
            name = _norm(m.group(1))
            if name in server.tables:
                raise FakeDatabaseError(955, "name is already used by an existing object")
            server.tables[name] = []
            return []
        m = re.match(rf"LOCK TABLE ({_NAME}) IN EXCLUSIVE MODE NOWAIT$", text)
        if m:
            self._dml(lambda: None)
            return []
        m = re.match(rf"INSERT INTO ({_NAME}) \((.+?)\) VALUES \((.+)\)$", text)
        if m:
            return self._insert(_norm(m.group(1)), m.group(2), m.group(3), params)
        m = re.match(rf"SELECT (.+?) FROM ({_NAME})(?: WHERE (.+?))?(?: ORDER BY .+)?$", text)
        if m and _norm(m.group(2)) in server.tables:
            rows = [r for r in server.tables[_norm(m.group(2))]
                    if self._where(r, m.group(3), params)]
            columns = [_norm(c.strip().split(".")[-1]) for c in m.group(1).split(",")]
            return [tuple(r.get(c) for c in columns) for r in rows]
        m = re.match(rf"DELETE FROM ({_NAME})(?: WHERE (.+))?$", text)
        if m:
            table = server.tables.get(_norm(m.group(1)), [])
            gone = [r for r in table if self._where(r, m.group(2), params)]
            for row in gone:
                table.remove(row)
            self._dml(lambda: table.extend(gone))
            return []
        m = re.match(rf"UPDATE ({_NAME}) SET (.+?) WHERE (.+)$", text)
        if m:
            table = server.tables.get(_norm(m.group(1)), [])
            sets = [s.split("=") for s in m.group(2).split(", ")]
            for row in [r for r in table if self._where(r, m.group(3), params)]:
                old = dict(row)
                for column, bind in sets:
                    row[_norm(column.strip())] = params[bind.strip()[1:]]
                self._dml(lambda row=row, old=old: (row.clear(), row.update(old)))
            return []
        return []

    def _dml(self, undo) -> None:
        if self.autocommit:
            return
        self._undo.append(undo)

    def _insert(self, name: str, columns: str, values: str, params: Any) -> list:
        table = self.server.tables.get(name)
        if table is None:
            raise FakeDatabaseError(942, "table or view does not exist")
        names = [_norm(c.strip()) for c in columns.split(",")]
        binds = [v.strip() for v in values.split(",")]
        if isinstance(params, dict):
            row = {c: params[b[1:]] for c, b in zip(names, binds)}
        else:
            row = dict(zip(names, params))
        key = next(iter(row))
        unique = name in ("NPA_MIGRATIONS_HISTORY", "NPA_MIGRATIONS_LOCK")
        if unique and any(r.get(key) == row[key] for r in table):
            raise FakeDatabaseError(1, "unique constraint violated")
        table.append(row)
        self._dml(lambda: table.remove(row))
        return []

    @staticmethod
    def _where(row: dict, where: str | None, params: Any) -> bool:
        if not where:
            return True
        for part in where.split(" AND "):
            column, bind = [p.strip() for p in part.split("=")]
            column = _norm(column.split(".")[-1])
            value = params[bind[1:]] if bind.startswith(":") else int(bind)
            if row.get(column) != value:
                return False
        return True

    def _dbms_lock(self, upper: str, params: dict) -> list:
        server = self.server
        if not server.dbms_lock:
            raise FakeDatabaseError(
                6550, "line 2, column 3:\nPLS-00201: identifier 'DBMS_LOCK' must be declared"
                      "\nORA-06550: line 2, column 3:\nPL/SQL: Statement ignored")
        if "ALLOCATE_UNIQUE" in upper:
            name = params["name"]
            handle = server.handles.setdefault(name, f"1073741{len(server.handles):03d}")
            params["handle"].value = handle
        elif "REQUEST" in upper:
            handle = params["handle"]
            holder = server.locks.get(handle)
            if server.request_code is not None:
                code = server.request_code
            elif holder is None:
                server.locks[handle] = self
                code = 0
            elif holder is self:
                code = 4
            else:
                code = 1
            params["result"].value = code
        elif "RELEASE" in upper:
            handle = params["handle"]
            if server.locks.get(handle) is self:
                del server.locks[handle]
                params["result"].value = 0
            else:
                params["result"].value = 4
        return []


class FakeCursor:
    arraysize = 100

    def __init__(self, conn: FakeConnection):
        self.conn = conn
        self._rows: list[tuple] = []
        self.input_sizes: tuple | None = None

    def execute(self, sql: str, params: Any = None):
        self._rows = self.conn.run(sql, params)
        return self

    def executemany(self, sql: str, rows: list) -> None:
        self.conn.server.log.append((self.conn.session, "<executemany>", (sql, list(rows),
                                                                          self.input_sizes)))
        for row in rows:
            self.conn.run(sql, row)

    def setinputsizes(self, *sizes) -> None:
        self.input_sizes = sizes

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def var(self, type_: Any, size: int | None = None, arraysize: int | None = None):
        return FakeVar(type_, size)

    def close(self) -> None:
        pass
