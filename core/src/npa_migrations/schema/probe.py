"""Did an interrupted DDL statement take effect? Ask the live schema.

When a run dies while a statement that commits on its own is under way (DDL on MySQL,
MariaDB or Oracle; any statement of a migration that runs outside a transaction), the
history cannot say whether it took effect. For the common DDL statements the answer is
visible in the schema: ``CREATE TABLE t`` took effect if ``t`` exists, ``ALTER TABLE t
ADD COLUMN c`` if ``t.c`` exists, ``DROP INDEX i`` if ``i`` is gone. :func:`probe_for`
reads a statement into such a :class:`Probe`; :meth:`Probe.took_effect` asks the
database. Statements whose outcome the schema cannot show (a data change, a type change,
a function) give no probe: the caller falls back on what the migration's operations
declare, or asks a human.

A statement that can safely run again (``CREATE OR REPLACE``, ``IF NOT EXISTS``,
``IF EXISTS``) needs no answer: its probe says to run it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .model import fold, same_name
from .sqlscan import IDENT, QNAME, split_qname, strip_comments, unquote

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

#: a check against an SQLAlchemy inspector: ``True`` when the statement's effect is there
Check = Callable[["sa.Inspector"], bool]

_FLAGS = re.IGNORECASE | re.DOTALL
_IDEMPOTENT = re.compile(r"^CREATE\s+OR\s+REPLACE\b|\bIF\s+(?:NOT\s+)?EXISTS\b", _FLAGS)
_CREATE_TABLE = re.compile(rf"^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?P<t>{QNAME})", _FLAGS)
_DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?P<names>{QNAME}(?:\s*,\s*{QNAME})*)", _FLAGS)
_CREATE_INDEX = re.compile(
    rf"^CREATE\s+(?:UNIQUE\s+)?(?:CLUSTERED\s+|NONCLUSTERED\s+)?INDEX\s+(?:CONCURRENTLY\s+)?"
    rf"(?P<i>{QNAME})\s+ON\s+(?:ONLY\s+)?(?P<t>{QNAME})", _FLAGS)
_DROP_INDEX = re.compile(
    rf"^DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?P<i>{QNAME})(?:\s+ON\s+(?P<t>{QNAME}))?\s*$",
    _FLAGS)
_RENAME_TABLE = re.compile(rf"^RENAME\s+TABLE\s+(?P<t>{QNAME})\s+TO\s+(?P<u>{QNAME})\s*$",
                           _FLAGS)
_ALTER_TABLE = re.compile(rf"^ALTER\s+TABLE\s+(?:ONLY\s+)?(?P<t>{QNAME})\s+(?P<action>.+)$",
                          _FLAGS)
_CREATE_VIEW = re.compile(rf"^CREATE\s+(?:MATERIALIZED\s+)?VIEW\s+(?P<v>{QNAME})", _FLAGS)
_DROP_VIEW = re.compile(rf"^DROP\s+(?P<m>MATERIALIZED\s+)?VIEW\s+(?P<v>{QNAME})\s*$", _FLAGS)
_CREATE_SCHEMA = re.compile(rf"^CREATE\s+(?:SCHEMA|DATABASE)\s+(?P<s>{IDENT})", _FLAGS)
_DROP_SCHEMA = re.compile(rf"^DROP\s+(?:SCHEMA|DATABASE)\s+(?P<s>{IDENT})", _FLAGS)

# one action of ALTER TABLE t ...
_RENAME_TO = re.compile(rf"^RENAME\s+TO\s+(?P<u>{QNAME})\s*$", _FLAGS)
_RENAME_COLUMN = re.compile(
    rf"^RENAME\s+(?:COLUMN\s+)?(?P<a>{IDENT})\s+TO\s+(?P<b>{IDENT})\s*$", _FLAGS)
_CHANGE_COLUMN = re.compile(rf"^CHANGE\s+(?:COLUMN\s+)?(?P<a>{IDENT})\s+(?P<b>{IDENT})\s", _FLAGS)
_ADD_CONSTRAINT = re.compile(rf"^ADD\s+CONSTRAINT\s+(?P<n>{IDENT})", _FLAGS)
_ADD_INDEX = re.compile(
    rf"^ADD\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?(?:INDEX|KEY)\s+(?P<n>{IDENT})", _FLAGS)
_ADD_UNIQUE = re.compile(rf"^ADD\s+UNIQUE\s+(?P<n>{IDENT})\s*\(", _FLAGS)
_ADD_PRIMARY = re.compile(r"^ADD\s+PRIMARY\s+KEY\b", _FLAGS)
_ADD_COLUMN = re.compile(rf"^ADD\s+(?:COLUMN\s+)?\(?\s*(?P<c>{IDENT})", _FLAGS)
_DROP_CONSTRAINT = re.compile(
    rf"^DROP\s+(?:CONSTRAINT|FOREIGN\s+KEY|CHECK|INDEX|KEY)\s+(?P<n>{IDENT})\s*$", _FLAGS)
_DROP_PRIMARY = re.compile(r"^DROP\s+PRIMARY\s+KEY\s*$", _FLAGS)
_DROP_COLUMN = re.compile(rf"^DROP\s+(?:COLUMN\s+)?(?P<c>{IDENT})\s*$", _FLAGS)
_NOT_A_COLUMN = {"constraint", "primary", "foreign", "unique", "check", "index", "key",
                 "fulltext", "spatial", "partition", "period", "system"}


@dataclass(frozen=True)
class Probe:
    """What one statement leaves in the schema.

    :ivar check: asks an inspector whether the statement's effect is there; ``None`` for
        a statement that can safely run again.
    :ivar describe: what is checked, for messages (``"table orders exists"``).
    """

    check: Check | None
    describe: str

    @property
    def rerun_safe(self) -> bool:
        """Running the statement again does no harm (``IF [NOT] EXISTS``, ``OR REPLACE``)."""
        return self.check is None

    def took_effect(self, inspector: "sa.Inspector") -> bool:
        """Whether the effect is there (``False`` for a statement safe to run again)."""
        return False if self.check is None else bool(self.check(inspector))


def probe_for(sql: str) -> Probe | None:
    """The probe of one DDL statement, or ``None`` when the schema cannot show whether it
    took effect (a data change, a type change, a statement this scan does not read)."""
    text = strip_comments(sql).rstrip().rstrip(";").strip()
    if not text:
        return None
    if _IDEMPOTENT.search(text.split("(", 1)[0]):
        return Probe(None, "the statement can run again")
    if m := _CREATE_TABLE.match(text):
        key = split_qname(m["t"])
        return Probe(lambda i: _table_exists(i, key), f"table {_show(key)} exists")
    if m := _DROP_TABLE.match(text):
        keys = [split_qname(n) for n in re.findall(QNAME, m["names"])]
        return Probe(lambda i: not any(_table_exists(i, k) for k in keys),
                     "table(s) " + ", ".join(map(_show, keys)) + " dropped")
    if m := _CREATE_INDEX.match(text):
        table, index = split_qname(m["t"]), split_qname(m["i"])[1]
        return Probe(lambda i: _index_exists(i, table, index),
                     f"index {index} on {_show(table)} exists")
    if m := _DROP_INDEX.match(text):
        schema, index = split_qname(m["i"])
        on_table = split_qname(m["t"]) if m["t"] else None
        return Probe(lambda i: not _index_anywhere(i, schema, on_table, index),
                     f"index {index} dropped")
    if m := _RENAME_TABLE.match(text):
        return _renamed(split_qname(m["t"]), split_qname(m["u"]))
    if m := _CREATE_VIEW.match(text):
        key = split_qname(m["v"])
        return Probe(lambda i: _view_exists(i, key), f"view {_show(key)} exists")
    if m := _DROP_VIEW.match(text):
        key = split_qname(m["v"])
        return Probe(lambda i: not _view_exists(i, key), f"view {_show(key)} dropped")
    if m := _CREATE_SCHEMA.match(text):
        name = unquote(m["s"])
        return Probe(lambda i: _schema_exists(i, name), f"schema {name} exists")
    if m := _DROP_SCHEMA.match(text):
        name = unquote(m["s"])
        return Probe(lambda i: not _schema_exists(i, name), f"schema {name} dropped")
    if m := _ALTER_TABLE.match(text):
        return _alter_table(split_qname(m["t"]), m["action"].strip())
    return None


def _alter_table(table: tuple, action: str) -> Probe | None:
    if m := _RENAME_TO.match(action):
        renamed = split_qname(m["u"])
        return _renamed(table, (renamed[0] or table[0], renamed[1]))
    if m := _RENAME_COLUMN.match(action) or _CHANGE_COLUMN.match(action):
        old, new = unquote(m["a"]), unquote(m["b"])
        return Probe(lambda i: _has_column(i, table, new) and (
            same_name(old, new) or not _has_column(i, table, old)),
            f"column {_show(table)}.{new} exists instead of {old}")
    if m := _ADD_CONSTRAINT.match(action) or _ADD_INDEX.match(action) \
            or _ADD_UNIQUE.match(action):
        name = unquote(m["n"])
        return Probe(lambda i: _constraint_exists(i, table, name),
                     f"constraint {name} on {_show(table)} exists")
    if _ADD_PRIMARY.match(action):
        return Probe(lambda i: bool(_read(i, "get_pk_constraint", table).get(
            "constrained_columns")), f"primary key of {_show(table)} exists")
    if m := _DROP_CONSTRAINT.match(action):
        name = unquote(m["n"])
        return Probe(lambda i: not _constraint_exists(i, table, name),
                     f"constraint {name} on {_show(table)} dropped")
    if _DROP_PRIMARY.match(action):
        return Probe(lambda i: not _read(i, "get_pk_constraint", table).get(
            "constrained_columns"), f"primary key of {_show(table)} dropped")
    if (m := _ADD_COLUMN.match(action)) and fold(unquote(m["c"])) not in _NOT_A_COLUMN \
            and "," not in action.split("(", 1)[0]:
        column = unquote(m["c"])
        return Probe(lambda i: _has_column(i, table, column),
                     f"column {_show(table)}.{column} exists")
    if (m := _DROP_COLUMN.match(action)) and fold(unquote(m["c"])) not in _NOT_A_COLUMN:
        column = unquote(m["c"])
        return Probe(lambda i: not _has_column(i, table, column),
                     f"column {_show(table)}.{column} dropped")
    return None


def _renamed(old: tuple, new: tuple) -> Probe:
    return Probe(lambda i: _table_exists(i, new) and not _table_exists(i, old),
                 f"table {_show(old)} renamed to {_show(new)}")


# reading the live schema ------------------------------------------------------------------
def _show(key: tuple) -> str:
    schema, name = key
    return f"{schema}.{name}" if schema else name


def _names(found: list[str], name: str) -> bool:
    return name in found or any(same_name(n, name) for n in found)


def _table_exists(inspector: "sa.Inspector", key: tuple) -> bool:
    schema, name = key
    return _names(inspector.get_table_names(schema=schema), name)


def _real_name(inspector: "sa.Inspector", key: tuple) -> str | None:
    schema, name = key
    for found in inspector.get_table_names(schema=schema):
        if found == name or same_name(found, name):
            return found
    return None


def _read(inspector: "sa.Inspector", method: str, key: tuple) -> dict:
    name = _real_name(inspector, key)
    if name is None:
        return {}
    return getattr(inspector, method)(name, schema=key[0]) or {}


def _read_list(inspector: "sa.Inspector", method: str, key: tuple) -> list[dict]:
    name = _real_name(inspector, key)
    if name is None:
        return []
    try:
        return list(getattr(inspector, method)(name, schema=key[0]) or [])
    except NotImplementedError:
        return []


def _has_column(inspector: "sa.Inspector", key: tuple, column: str) -> bool:
    return _names([c["name"] for c in _read_list(inspector, "get_columns", key)], column)


def _index_exists(inspector: "sa.Inspector", key: tuple, index: str) -> bool:
    names = [i.get("name") for i in _read_list(inspector, "get_indexes", key)]
    names += [u.get("name") for u in _read_list(inspector, "get_unique_constraints", key)]
    return _names([n for n in names if n], index)


def _index_anywhere(inspector: "sa.Inspector", schema: str | None, table: tuple | None,
                    index: str) -> bool:
    if table is not None:
        return _index_exists(inspector, table, index)
    return any(_index_exists(inspector, (schema, name), index)
               for name in inspector.get_table_names(schema=schema))


def _constraint_exists(inspector: "sa.Inspector", key: tuple, name: str) -> bool:
    found = [c.get("name") for method in ("get_foreign_keys", "get_unique_constraints",
                                           "get_check_constraints", "get_indexes")
             for c in _read_list(inspector, method, key)]
    found.append(_read(inspector, "get_pk_constraint", key).get("name"))
    return _names([n for n in found if n], name)


def _view_exists(inspector: "sa.Inspector", key: tuple) -> bool:
    schema, name = key
    views = list(inspector.get_view_names(schema=schema))
    try:
        views += list(inspector.get_materialized_view_names(schema=schema))
    except NotImplementedError:
        pass
    return _names(views, name)


def _schema_exists(inspector: "sa.Inspector", name: str) -> bool:
    return _names(inspector.get_schema_names(), name)
