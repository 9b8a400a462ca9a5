"""Reading the live schema with SQLAlchemy reflection, on the engine's own connection.

Reflection runs on the DB-API connection the run already holds (through a small proxy
whose ``commit``/``rollback``/``close`` do nothing, so SQLAlchemy can never end the
migration's transaction). That is what lets post-execution verification see the
migration's changes before it commits, and it uses exactly the driver and connection
settings of the provider: the SQLAlchemy dialect is the provider's own
(``provider.dialect.name`` + ``provider.dialect.driver``, e.g. ``postgresql+psycopg``),
never a default driver SQLAlchemy would pick for the bare URL.
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
    kwargs: dict[str, Any] = {}
    if getattr(provider.dialect, "driver", None) in ("psycopg", "psycopg2"):
        kwargs["use_native_hstore"] = False  # no type lookups on the borrowed connection
    return sa.create_engine(reflection_url(provider), creator=lambda: borrowed,
                            poolclass=StaticPool, pool_reset_on_return=None, **kwargs)


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
        """The connection's default schema (``public``, the MySQL database, ...)."""
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
        """Every table of ``schemas`` (or only ``tables``, if given) as a closed model."""
        import sqlalchemy as sa

        model = SchemaModel()
        wanted: dict[str | None, list[str] | None] = {}
        if tables is None:
            for schema in schemas:
                wanted[schema] = None
        else:
            for schema, name in tables:
                wanted.setdefault(schema, []).append(name)
        with self.engine.connect() as connection, warnings.catch_warnings():
            # "Did not recognize type ..." (extension types): such a column is not compared
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            inspector = sa.inspect(connection)
            for schema, names in wanted.items():
                existing = inspector.get_table_names(schema=schema)
                if names is None:
                    chosen = [n for n in existing if not self.ignored(n)]
                else:
                    folded = {fold(n) for n in names}
                    chosen = [n for n in existing if (n in names or fold(n) in folded)
                              and not self.ignored(n)]
                if not chosen:
                    continue
                for table in self._read_schema(inspector, schema, chosen):
                    model.tables[table.key] = table
        return model

    def _read_schema(self, inspector: "sa.Inspector", schema: str | None,
                     names: list[str]) -> list[TableModel]:
        kw = {"schema": schema, "filter_names": names}
        columns = _call(inspector.get_multi_columns, **kw)
        pks = _call(inspector.get_multi_pk_constraint, **kw)
        indexes = _call(inspector.get_multi_indexes, **kw)
        uniques = _call(inspector.get_multi_unique_constraints, **kw)
        fks = _call(inspector.get_multi_foreign_keys, **kw)
        checks = _call(inspector.get_multi_check_constraints, **kw)
        mysql = self.provider.dialect.name in ("mysql", "mariadb")
        n = self.provider.reflected_name
        result = []
        for key, cols in columns.items():
            _, name = key
            table = TableModel(name=name, schema=schema)
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
            table_fks = fks.get(key) or []
            for fk in table_fks:
                options = fk.get("options") or {}
                table.foreign_keys.append(ForeignKeyModel(
                    n(fk.get("name")), tuple(map(n, fk["constrained_columns"])),
                    fk.get("referred_schema"), n(fk["referred_table"]),
                    tuple(map(n, fk["referred_columns"])),
                    options.get("ondelete"), options.get("onupdate")))
            fk_columns = {tuple(fold(c) for c in f.columns) for f in table.foreign_keys}
            for index in indexes.get(key) or []:
                if not index.get("name") or index.get("duplicates_constraint"):
                    continue
                if fold(n(index["name"])) in duplicate_indexes:
                    continue
                cols_ = tuple(map(n, _index_columns(index)))
                if (mysql and not index.get("unique")
                        and tuple(fold(c) for c in cols_) in fk_columns
                        and any(same_prefix(index["name"], f) for f in table.foreign_keys)):
                    continue  # the index MySQL creates for a foreign key by itself
                table.indexes[n(index["name"])] = IndexModel(n(index["name"]), cols_,
                                                             bool(index.get("unique")),
                                                             _index_where(index))
            for check in checks.get(key) or []:
                table.checks.append(CheckModel(n(check.get("name")), check.get("sqltext")))
            result.append(table)
        return result


def same_prefix(index_name: str, fk: ForeignKeyModel) -> bool:
    """MySQL names the index it creates for a foreign key after the constraint, or after
    the first column when the constraint has a generated name."""
    names = {fold(fk.name)} | {fold(fk.columns[0])} if fk.columns else {fold(fk.name)}
    return fold(index_name) in names


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
