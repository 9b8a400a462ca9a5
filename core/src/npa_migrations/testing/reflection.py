"""Asserting real database state: SQLAlchemy reflection and rows, on an engine of its own.

The ``npa_db`` fixture is a :class:`ReflectedDatabase`. Each call opens a fresh
``Inspector`` (inspectors cache), so what it returns is the state right now. Names are
compared exactly as given: SQLAlchemy quotes them where needed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Iterable

from .provision import owned

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..provider.base import BaseProvider


class ReflectedDatabase:
    """The test database seen through SQLAlchemy.

    :ivar url: the test database URL.
    :ivar engine: a SQLAlchemy engine on it (no pooling).
    :ivar provider: the provider under test.
    :ivar history_table: the history table the suite's executors use.
    :ivar engine_tables: every table the engine itself keeps (history, lock, event log).
    """

    def __init__(self, url: "sa.engine.URL", engine: "sa.engine.Engine",
                 provider: "BaseProvider", history_table: str, engine_tables: set[str]):
        self.url = url
        self.engine = engine
        self.provider = provider
        self.history_table = history_table
        self.engine_tables = set(engine_tables) | {history_table}

    # reflection --------------------------------------------------------------------------
    def inspector(self) -> "sa.Inspector":
        import sqlalchemy as sa

        return sa.inspect(self.engine)

    def tables(self, schema: str | None = None) -> set[str]:
        """Suite-owned tables (named with the prefix), without the engine's own tables
        (history, lock, event log); in a suite-owned schema, every table."""
        names = self.inspector().get_table_names(schema=schema)
        return {n for n in names if (schema or owned(n)) and n not in self.engine_tables}

    def all_tables(self, schema: str | None = None) -> set[str]:
        """Every table the database reports (also ones the suite does not own)."""
        return set(self.inspector().get_table_names(schema=schema))

    def schemas(self) -> set[str]:
        return set(self.inspector().get_schema_names())

    def columns(self, table: str, schema: str | None = None) -> dict[str, Any]:
        """Reflected columns by name, in table order (``type``, ``nullable``, ``default``)."""
        return {c["name"]: c for c in self.inspector().get_columns(table, schema=schema)}

    def column_names(self, table: str, schema: str | None = None) -> list[str]:
        return list(self.columns(table, schema))

    def primary_key(self, table: str, schema: str | None = None) -> list[str]:
        pk = self.inspector().get_pk_constraint(table, schema=schema)
        return list(pk.get("constrained_columns") or [])

    def indexes(self, table: str, schema: str | None = None) -> dict[str, Any]:
        """Reflected indexes by name (``column_names``, ``unique``)."""
        return {i["name"]: i for i in self.inspector().get_indexes(table, schema=schema)
                if i["name"]}

    def foreign_keys(self, table: str, schema: str | None = None) -> list[Any]:
        """Reflected foreign keys (``name``, ``constrained_columns``, ``referred_table``,
        ``referred_columns``, ``options``)."""
        return list(self.inspector().get_foreign_keys(table, schema=schema))

    def foreign_key(self, table: str, name: str, schema: str | None = None) -> Any:
        for fk in self.foreign_keys(table, schema):
            if fk.get("name") == name:
                return fk
        return None

    def unique_constraints(self, table: str, schema: str | None = None) -> dict[str, Any]:
        return {u["name"]: u for u in self.inspector().get_unique_constraints(table, schema=schema)
                if u["name"]}

    def unique_names(self, table: str, schema: str | None = None) -> set[str]:
        """Names of unique constraints and unique indexes (databases report a unique
        constraint as either or both)."""
        names = set(self.unique_constraints(table, schema))
        names |= {n for n, i in self.indexes(table, schema).items() if i.get("unique")}
        return names

    def check_constraints(self, table: str, schema: str | None = None) -> dict[str, Any]:
        return {c["name"]: c for c in self.inspector().get_check_constraints(table, schema=schema)
                if c["name"]}

    # rows --------------------------------------------------------------------------------
    def table(self, name: str, *columns: str, schema: str | None = None) -> "sa.TableClause":
        """A lightweight ``sa.table`` construct (names are quoted by SQLAlchemy)."""
        import sqlalchemy as sa

        return sa.table(name, *[sa.column(c) for c in columns], schema=schema)

    def insert(self, table: str, *rows: dict, schema: str | None = None) -> None:
        """Insert rows and commit (bound parameters)."""
        if not rows:
            return
        columns = list(rows[0])
        with self.engine.begin() as conn:
            conn.execute(self.table(table, *columns, schema=schema).insert(), list(rows))

    def assert_insert_rejected(self, table: str, row: dict, schema: str | None = None) -> None:
        """The database refuses ``row`` (a constraint violation); nothing is inserted."""
        import sqlalchemy as sa

        try:
            self.insert(table, row, schema=schema)
        except sa.exc.DBAPIError:
            return
        raise AssertionError(f"inserting {row!r} into {table!r} was accepted; the database "
                             "should have rejected it")

    def rows(self, table: str, columns: Iterable[str], *, order_by: str | None = None,
             schema: str | None = None) -> list[tuple]:
        """Rows of ``columns``, ordered by ``order_by`` (default: the first column)."""
        import sqlalchemy as sa

        columns = list(columns)
        t = self.table(table, *columns, schema=schema)
        order = t.c[order_by or columns[0]]
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(*t.c).order_by(order))]

    def count(self, table: str, schema: str | None = None) -> int:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(
                self.table(table, schema=schema))).scalar_one()

    def delete(self, table: str, schema: str | None = None, **where: Any) -> None:
        import sqlalchemy as sa

        t = self.table(table, *where, schema=schema)
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(sa.and_(*[t.c[k] == v for k, v in where.items()])))

    def scalar(self, sql: str, **params: Any) -> Any:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def quote(self, name: str) -> str:
        """An identifier quoted for raw SQL in this database's dialect."""
        return self.engine.dialect.identifier_preparer.quote(name)

    # history -----------------------------------------------------------------------------
    def history(self) -> list[dict]:
        """Rows of the history table as dicts, in applied order (``[]`` if it is absent)."""
        import sqlalchemy as sa

        if self.history_table not in self.all_tables():
            return []
        columns = [c["name"] for c in self.inspector().get_columns(self.history_table)]
        t = self.table(self.history_table, *columns)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*t.c).order_by(t.c.applied_at, t.c.migration_id))
            result = [dict(r._mapping) for r in rows]
        for row in result:
            row["success"] = _as_bool(row.get("success"))
            row["applied_at"] = _as_datetime(row.get("applied_at"))
        return result

    def applied(self) -> list[str]:
        """Ids recorded as successfully applied, in applied order."""
        return [r["migration_id"] for r in self.history() if r["success"]]

    def recorded(self) -> dict[str, bool]:
        """Every id in the history with its success flag."""
        return {r["migration_id"]: r["success"] for r in self.history()}

    def snapshot(self) -> dict:
        """Everything the suite owns, for "nothing changed" assertions: tables with
        their columns, indexes and row counts, and the history rows."""
        state: dict[str, Any] = {}
        for table in sorted(self.tables()):
            state[table] = (self.column_names(table), sorted(self.indexes(table)),
                            self.count(table))
        state["<history>"] = [(r["migration_id"], r["success"], r["checksum"])
                              for r in self.history()]
        return state


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "y", "yes")
    return bool(value)


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


__all__ = ["ReflectedDatabase"]
