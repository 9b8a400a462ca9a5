"""Checking a provider's own reading of tables against SQLAlchemy's inspector.

A provider that answers post-execution verification from its catalog
(:meth:`~npa_migrations.provider.comparison.SchemaRules.read_tables`) must report what
the inspector path reports. :func:`both_readings` reads the same tables both ways on one
connection and :func:`shape` spells a table as the comparison sees it (types through the
provider's rules, since a catalog may keep its own type text), so a test asserts the two
are equal for tables of every shape its database has (:func:`assert_same_readings`,
on a database made by :func:`database_with`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator

from ..schema.compare import Comparator
from ..schema.live import LiveSchemaReader

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.base import BaseProvider
    from ..provider.connection import DbConnection
    from ..schema.model import TableModel


def shape(table: "TableModel", comparator: Comparator) -> dict:
    """What verification compares of ``table``, spelled so two readings compare exactly
    (foreign-key actions are left to the caller: reflection may not see every one)."""
    rules = comparator.rules
    columns = {}
    for column in table.columns.values():
        text = comparator.type_text(column.type)
        columns[column.name] = (rules.normalise_type(text) if text else None,
                                bool(column.nullable), rules.normalise_default(column.default),
                                column.comment, bool(column.autoincrement), column.identity)
    return {
        "columns": columns,
        "primary key": (tuple(table.primary_key), table.primary_key_name),
        "indexes": sorted((i.name, i.columns, i.unique, rules.normalise_predicate(i.where))
                          for i in table.indexes.values()),
        "uniques": sorted((u.name or "", u.columns) for u in table.uniques),
        "foreign keys": sorted((f.name or "", f.columns, f.referred_schema or "",
                                f.referred_table, f.referred_columns)
                               for f in table.foreign_keys),
        "checks": sorted((c.name or "", c.sqltext) for c in table.checks),
    }


def both_readings(provider: "BaseProvider", conn: "DbConnection", names: list[str]
                  ) -> tuple[list["TableModel"], dict[str, "TableModel | None"]]:
    """``names`` read by the provider's catalog (a list, in the order given) and by the
    inspector (by name), on ``conn``."""
    rules = provider.schema_rules
    catalog = rules.read_tables(conn, None, names)
    assert catalog is not None, "the provider does not read these tables itself"
    setattr(rules, "read_tables", lambda *args: None)  # this instance: the inspector
    try:
        model = LiveSchemaReader(provider, conn).read(tables=[(None, n) for n in names])
    finally:
        delattr(rules, "read_tables")
    return catalog, {name: model.get(name) for name in names}


def assert_same_readings(provider: "BaseProvider", conn: "DbConnection", names: list[str]
                         ) -> tuple[list["TableModel"], dict[str, "TableModel | None"]]:
    """Assert that the catalog and the inspector read ``names`` alike (:func:`shape`);
    returns both readings for further checks."""
    comparator = Comparator(provider)
    catalog, inspected = both_readings(provider, conn, names)
    assert [t.name for t in catalog] == names
    for table in catalog:
        expected = inspected[table.name]
        assert expected is not None, f"the inspector does not find {table.name}"
        assert shape(table, comparator) == shape(expected, comparator), table.name
    return catalog, inspected


@contextlib.contextmanager
def database_with(url: str, statements: list[str]
                  ) -> Iterator[tuple["BaseProvider", "DbConnection"]]:
    """The provider of ``url`` and a connection on which ``statements`` ran."""
    from ..engine.target import DatabaseTarget

    target = DatabaseTarget(url)
    conn = target.connect()
    try:
        for sql in statements:
            conn.execute(sql)
        yield target.provider, conn
    finally:
        conn.close()
