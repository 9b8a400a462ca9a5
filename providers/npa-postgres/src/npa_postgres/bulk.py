"""``bulk_insert`` through ``COPY ... FROM STDIN`` (psycopg 3's ``cursor.copy()``).

The rows are streamed from the operation's list or iterator straight into one ``COPY``
(psycopg flushes its buffer every few dozen kilobytes, so memory stays flat); values
travel as COPY data, never as SQL text.

COPY reads each value with the column type's input function, while an ``INSERT`` binds a
typed parameter and applies the assignment cast. The two agree for most pairs of Python
type and column type, but not all (an aware ``datetime`` into a ``timestamp`` column is
converted to the session time zone by INSERT, while COPY drops the offset; a ``float``
into an ``integer`` column is rounded by INSERT, refused by COPY; a ``bool`` into a
``text`` column is ``'true'`` through INSERT, ``'t'`` through COPY). So the column types
are read from the catalog first, and a row holding a value whose pair is not known to
give the same result (:data:`COPY_SAFE`) goes through the ``INSERT`` path instead: the
running COPY is ended, such rows are inserted with ``executemany`` in batches, and a new
COPY carries on with the next row that is safe again. Everything stays in the
migration's transaction and in the order of the rows.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import itertools
import decimal
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterable

from npa_migrations.rows import row_extractor

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

#: rows per ``executemany`` of the rows that take the INSERT path
INSERT_BATCH = 10_000
#: rows read and type-checked at a time
CHECK_BATCH = 1_000

_NONE = type(None)
_INTEGERS = (int, str)
_TEXT = (str, int)

#: column type (``pg_type.typname``; a domain's base type) -> Python types whose values
#: COPY's text input turns into exactly what an INSERT's bound parameter gives. ``None``
#: is safe everywhere; a type not listed accepts ``str`` only (both paths then run the
#: type's input function on the same text).
COPY_SAFE: dict[str, tuple[type, ...]] = {
    "int2": _INTEGERS, "int4": _INTEGERS, "int8": _INTEGERS, "oid": _INTEGERS,
    "numeric": (int, decimal.Decimal, str),
    "float4": (int, str),
    "float8": (int, float, str),
    "text": _TEXT, "varchar": _TEXT, "bpchar": _TEXT, "name": _TEXT, "citext": _TEXT,
    "bool": (bool, str),
    "date": (dt.date, str),
    "timestamp": (dt.date, str),          # + naive datetime, see COPY_SAFE_IF
    "timestamptz": (dt.datetime, dt.date, str),
    "time": (str,),                       # + naive time, see COPY_SAFE_IF
    "interval": (dt.timedelta, str),
    "uuid": (uuid.UUID, str),
    "bytea": (bytes, bytearray, memoryview, str),
}


def _naive(value: Any) -> bool:
    return value.tzinfo is None


#: (column type, Python type) -> test of the value: safe only when it passes
COPY_SAFE_IF: dict[tuple[str, type], Callable[[Any], bool]] = {
    ("timestamp", dt.datetime): _naive,
    ("time", dt.time): _naive,
}

#: the base type of each column of a table (domains resolved one level)
COLUMN_TYPES_SQL = (
    "SELECT a.attname, COALESCE(b.typname, t.typname) FROM pg_attribute a "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_type b ON b.oid = NULLIF(t.typbasetype, 0) "
    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped")


class CopyRows:
    """The parameters of a bulk insert that runs as ``COPY``: what
    :meth:`~npa_postgres.provider.PostgresProvider.execute_many` needs (the target, the
    columns, the fallback ``INSERT``) and the rows, not yet read. Iterating it yields the
    rows as tuples in column order."""

    __slots__ = ("target", "columns", "insert_sql", "rows", "convert")

    def __init__(self, target: str, columns: list[str], insert_sql: str, rows: Iterable[Any],
                 convert: Callable[[Any], Any] | None = None):
        self.target = target
        self.columns = columns
        self.insert_sql = insert_sql
        self.rows = rows
        self.convert = convert

    def __iter__(self):
        return map(self.extractor(), self.rows)

    def extractor(self) -> Callable[[Any], tuple]:
        """row -> tuple of its values in column order (a missing key is ``None``, as in
        the INSERT path)."""
        return row_extractor(self.columns, self.convert)


def column_types(conn: "DbConnection", target: str, columns: list[str]) -> list[str | None]:
    """The type name of each of ``columns`` in the table ``target`` (quoted), ``None``
    where the table or column is not found (the COPY then fails with the server's
    message)."""
    found = dict(conn.query(COLUMN_TYPES_SQL, (target,)))
    return [found.get(column) for column in columns]


def _allowed(types: list[str | None]) -> list[frozenset]:
    return [frozenset(COPY_SAFE.get(t or "", (str,))) | {_NONE} for t in types]


def safety(types: list[str | None]) -> Callable[[tuple], bool]:
    """A test of one row's values: whether COPY gives what INSERT would. Verdicts are
    cached per tuple of Python types, so the test of a row costs one lookup."""
    allowed = _allowed(types)
    verdicts: dict[tuple, Any] = {}

    def classify(signature: tuple) -> Any:
        checks = []
        for index, (kind, ok) in enumerate(zip(signature, allowed)):
            if kind in ok:
                continue
            test = COPY_SAFE_IF.get((types[index] or "", kind))
            if test is None:
                return False
            checks.append((index, test))
        return tuple(checks) if checks else True

    def is_safe(values: tuple) -> bool:
        signature = tuple(map(type, values))
        verdict = verdicts.get(signature)
        if verdict is None:
            verdict = verdicts[signature] = classify(signature)
        if verdict is True or verdict is False:
            return verdict
        return all(test(values[index]) for index, test in verdict)

    return is_safe


def batch_safety(types: list[str | None]) -> Callable[[list], bool]:
    """A test of a batch of rows at once, column by column (``zip`` and ``set`` run in
    C, so a batch of safe rows costs a few tens of nanoseconds a value): whether every
    row is safe. ``False`` sends the batch to the row-by-row test."""
    allowed = _allowed(types)
    conditional: dict[int, dict[type, Callable[[Any], bool]]] = {}
    for (name, kind), test in COPY_SAFE_IF.items():
        for index, column_type in enumerate(types):
            if column_type == name:
                conditional.setdefault(index, {})[kind] = test

    def batch_safe(batch: list) -> bool:
        for index, column in enumerate(zip(*batch)):
            kinds = set(map(type, column))
            if kinds <= allowed[index]:
                continue
            tests = conditional.get(index, {})
            for kind in kinds - allowed[index]:
                test = tests.get(kind)
                if test is None or not all(test(v) for v in column if type(v) is kind):
                    return False
        return True

    return batch_safe


def copy_rows(conn: "DbConnection", copy_sql: str, source: CopyRows) -> None:
    """Stream ``source`` into ``copy_sql`` (``COPY t (cols) FROM STDIN``); rows COPY
    cannot load like an INSERT would go through ``source.insert_sql`` (see module).

    Rows are read :data:`CHECK_BATCH` at a time (memory stays bounded); a batch whose
    values are all safe is written as it is, any other batch row by row, each row to
    the COPY or (ending the COPY first) to the INSERT, so the table receives the rows in
    their order."""
    types = column_types(conn, source.target, source.columns)
    batch_safe = batch_safety(types)
    is_safe = safety(types)
    values = map(source.extractor(), iter(source.rows))
    cursor = conn.raw.cursor()
    copying: "contextlib.AbstractContextManager | None" = None
    write: Callable[[Any], None] = _no_write
    inserts: list = []

    def start_copy() -> Callable[[Any], None]:
        nonlocal copying
        if inserts:
            cursor.executemany(source.insert_sql, inserts)
            inserts.clear()
        manager = cursor.copy(copy_sql)
        copy = manager.__enter__()
        copying = manager
        return copy.write_row

    def end_copy() -> None:
        nonlocal copying, write
        if copying is not None:
            done, copying, write = copying, None, _no_write
            done.__exit__(None, None, None)

    try:
        while True:
            batch = list(itertools.islice(values, CHECK_BATCH))
            if not batch:
                break
            if batch_safe(batch):
                if copying is None:
                    write = start_copy()
                collections.deque(map(write, batch), 0)
                continue
            for row in batch:
                if is_safe(row):
                    if copying is None:
                        write = start_copy()
                    write(row)
                else:
                    end_copy()
                    inserts.append(row)
                    if len(inserts) >= INSERT_BATCH:
                        cursor.executemany(source.insert_sql, inserts)
                        inserts.clear()
        end_copy()
        if inserts:
            cursor.executemany(source.insert_sql, inserts)
    except BaseException as exc:
        if copying is not None:  # psycopg ends the COPY with the error, then re-raises
            copying.__exit__(type(exc), exc, exc.__traceback__)
        raise
    finally:
        cursor.close()


def _no_write(row: Any) -> None:  # pragma: no cover - never called while no COPY runs
    raise RuntimeError("no COPY in progress")


__all__ = ["COPY_SAFE", "COPY_SAFE_IF", "CopyRows", "copy_rows"]
