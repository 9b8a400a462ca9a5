"""Reading the live schema with SQLAlchemy reflection, on the engine's own connection.

Reflection runs on the DB-API connection the run already holds (through a small proxy
whose ``commit``/``rollback``/``close`` do nothing, so SQLAlchemy can never end the
migration's transaction). That is what lets post-execution verification see the
migration's changes before it commits, and it uses exactly the driver and connection
settings of the provider: the SQLAlchemy dialect is the provider's own
(``provider.dialect.name`` + ``provider.dialect.driver``), never a default driver
SQLAlchemy would pick for the bare URL. What a database reports differently from what
its migrations declare is corrected by the provider's
:class:`~npa_migrations.provider.comparison.SchemaRules`, never here.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Iterable

from .model import (CheckModel, ColumnModel, ForeignKeyModel, IndexModel, SchemaModel,
                           TableKey, TableModel, UniqueModel, fold)

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..provider.connection import DbConnection
    from ..provider.base import BaseProvider


class _BorrowedConnection:
    """A DB-API connection lent to SQLAlchemy: transaction control and close are no-ops."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Any):
        object.__setattr__(self, "_raw", raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def reflection_url(provider: "BaseProvider") -> "sa.engine.URL":
    """The provider's URL with the driver of the provider's own dialect."""
    dialect = provider.dialect
    url = provider.url
    driver = getattr(dialect, "driver", None)
    name = getattr(dialect, "name", None) or url.get_backend_name()
    if driver:
        return url.set(drivername=f"{name}+{driver}")
    return url


def reflection_engine(provider: "BaseProvider", raw: Any) -> "sa.engine.Engine":
    """An SQLAlchemy engine whose only connection is ``raw`` (borrowed, never closed)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    borrowed = _BorrowedConnection(raw)
    return sa.create_engine(reflection_url(provider), creator=lambda: borrowed,
                            poolclass=StaticPool, pool_reset_on_return=None,
                            **provider.schema_rules.reflection_options())


def _call(method, *args, **kwargs) -> dict:
    try:
        return method(*args, **kwargs)
    except NotImplementedError:
        return {}


class LiveSchemaReader:
    """Reads tables of the live database into :class:`~npa_migrations.schema.model.TableModel`
    objects, on one connection of the run (engine created once, inspector per read).

    :param ignore: table names never read (the engine's own history, lock and log tables).
    """

    def __init__(self, provider: "BaseProvider", conn: "DbConnection",
                 ignore: Iterable[str] = ()):
        self.provider = provider
        self.rules = provider.schema_rules
        self.conn = conn
        self.ignore = {fold(n) for n in ignore if n}
        self._engine: "sa.engine.Engine | None" = None

    @property
    def engine(self) -> "sa.engine.Engine":
        if self._engine is None:
            self._engine = reflection_engine(self.provider, self.conn.raw)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def default_schema(self) -> str | None:
        """The connection's default schema, as its reflection names it."""
        import sqlalchemy as sa

        if not hasattr(self, "_default_schema"):
            try:
                with self.engine.connect() as connection:
                    self._default_schema = sa.inspect(connection).default_schema_name
            except Exception:  # a dialect that cannot tell
                self._default_schema = None
        return self._default_schema

    def ignored(self, name: str) -> bool:
        return fold(name) in self.ignore

    def read(self, schemas: Iterable[str | None] = (None,),
             tables: Iterable[TableKey] | None = None) -> SchemaModel:
        """Every table of ``schemas``, or only ``tables`` if given, as a closed model.
        Reading given tables costs queries for those tables only, however many the
        database holds; the provider reads them itself where it can
        (:meth:`~npa_migrations.provider.comparison.SchemaRules.read_tables`)."""
        import sqlalchemy as sa
        from sqlalchemy.engine.reflection import ObjectKind, ObjectScope

        wanted: dict[str | None, list[str] | None] = {}
        model = SchemaModel()
        if tables is None:
            wanted = {schema: None for schema in schemas}
        else:
            named: dict[str | None, list[str]] = {}
            for schema, name in tables:
                if not self.ignored(name):
                    named.setdefault(schema, []).append(name)
            for schema, given in named.items():
                read = self.rules.read_tables(self.conn, schema, list(dict.fromkeys(given)))
                if read is None:
                    wanted[schema] = given
                    continue
                for table in read:
                    model.tables[table.key] = table
            if not wanted:
                return model
        with self.engine.connect() as connection, warnings.catch_warnings():
            # "Did not recognize type ..." (extension types): such a column is not compared
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            inspector = sa.inspect(connection)
            for schema, names in wanted.items():
                kw: dict[str, Any] = {"schema": schema, "kind": ObjectKind.ANY,
                                      "scope": ObjectScope.ANY}
                if names is None:
                    chosen = [n for n in inspector.get_table_names(schema=schema)
                              if not self.ignored(n)]
                    columns = (_call(inspector.get_multi_columns, filter_names=chosen, **kw)
                               if chosen else {})
                else:
                    columns = self._existing_columns(inspector, kw, names)
                if not columns:
                    continue
                # names given: SQLAlchemy takes them as they are, without listing tables
                kw["filter_names"] = [name for _, name in columns]
                read = self._read_schema(inspector, kw, columns)
                self.rules.correct_reflected(read, connection, schema)
                for table in read:
                    model.tables[table.key] = table
        return model

    def _existing_columns(self, inspector: "sa.Inspector", kw: dict,
                          names: list[str]) -> dict:
        """The columns of the tables of ``names`` that exist, keyed by the names as the
        database holds them. Reading the columns is what tells a table exists (no
        look-up of its own per table); a listing of the schema is read only for names not
        found exactly (a database that folded an unquoted name, or a dropped table)."""
        wanted = [n for n in dict.fromkeys(names) if not self.ignored(n)]
        if not wanted:
            return {}
        columns = _call(inspector.get_multi_columns, filter_names=wanted, **kw)
        found = {name for _, name in columns}
        missing = {fold(n) for n in wanted if n not in found}
        if missing:
            spelled = [n for n in inspector.get_table_names(schema=kw["schema"])
                       if fold(n) in missing and n not in found and not self.ignored(n)]
            if spelled:
                columns.update(_call(inspector.get_multi_columns, filter_names=spelled, **kw))
        return columns

    def _read_schema(self, inspector: "sa.Inspector", kw: dict, columns: dict
                     ) -> list[TableModel]:
        def read(category: str, method) -> dict:
            if category in self.rules.reflected_by_rules:
                return {}
            return _call(method, **kw)

        pks = read("primary_key", inspector.get_multi_pk_constraint)
        indexes = read("indexes", inspector.get_multi_indexes)
        uniques = read("uniques", inspector.get_multi_unique_constraints)
        fks = read("foreign_keys", inspector.get_multi_foreign_keys)
        checks = read("checks", inspector.get_multi_check_constraints)
        n = self.rules.reflected_name
        result = []
        for key, cols in columns.items():
            _, name = key
            table = TableModel(name=name, schema=kw["schema"])
            for col in cols:
                table.columns[n(col["name"])] = ColumnModel(
                    name=n(col["name"]), type=col["type"], nullable=bool(col["nullable"]),
                    default=col.get("default"), autoincrement=bool(col.get("autoincrement")),
                    identity=bool(col.get("identity")), comment=col.get("comment"))
            pk = pks.get(key) or {}
            table.primary_key = tuple(map(n, pk.get("constrained_columns") or ()))
            table.primary_key_name = n(pk.get("name"))
            table_uniques = uniques.get(key) or []
            duplicate_indexes = {fold(n(u.get("duplicates_index"))) for u in table_uniques
                                 if u.get("duplicates_index")}
            for u in table_uniques:
                table.uniques.append(UniqueModel(n(u.get("name")),
                                                 tuple(map(n, u["column_names"]))))
            for fk in fks.get(key) or []:
                options = fk.get("options") or {}
                table.foreign_keys.append(ForeignKeyModel(
                    n(fk.get("name")), tuple(map(n, fk["constrained_columns"])),
                    fk.get("referred_schema"), n(fk["referred_table"]),
                    tuple(map(n, fk["referred_columns"])),
                    options.get("ondelete"), options.get("onupdate")))
            for index in indexes.get(key) or []:
                if not index.get("name") or index.get("duplicates_constraint"):
                    continue
                if fold(n(index["name"])) in duplicate_indexes:
                    continue
                table.indexes[n(index["name"])] = IndexModel(
                    n(index["name"]), tuple(map(n, _index_columns(index))),
                    bool(index.get("unique")), _index_where(index))
            for check in checks.get(key) or []:
                table.checks.append(CheckModel(n(check.get("name")), check.get("sqltext")))
            result.append(table)
        return result


def _index_where(index: dict) -> str | None:
    """A reflected partial index's predicate (SQLAlchemy's ``<dialect>_where`` option)."""
    for key, value in (index.get("dialect_options") or {}).items():
        if key.endswith("_where") and value is not None:
            return str(value)
    return None


def _index_columns(index: dict) -> list[str]:
    names = list(index.get("column_names") or [])
    expressions = index.get("expressions") or []
    return [n if n is not None else (expressions[i] if i < len(expressions) else "?")
            for i, n in enumerate(names)]
