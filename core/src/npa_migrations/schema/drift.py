"""Schema drift: the expected schema compared with the live one, and post-execution
verification of each migration.

* :func:`detect_drift` -- ``npa migrate drift``: the schema replayed from the applied
  migrations (or an application's ``MetaData``) against the live database.
* :class:`Verifier` -- after each migration of a run (option ``verify``), reflect only the
  tables it touched and compare the objects its operations declared; a mismatch is a
  :class:`VerificationError` naming the operation that did not do what it said.
* :func:`drift_problems` -- option ``check_drift``: drift as validation problems, so an
  ``execute()`` reports them with every other validation error and applies nothing.

Types are compared through the provider's SQLAlchemy dialect: both sides are compiled by
its type compiler (``String(100)`` and a reflected ``VARCHAR(100)`` are the same) and
known synonyms are folded (``INT``/``INTEGER``, ``DECIMAL``/``NUMERIC``, MySQL display
widths, ``FLOAT``/``DOUBLE PRECISION`` on PostgreSQL, ...). Server defaults are
normalised per provider (quotes, parentheses, PostgreSQL ``::`` casts, ``now()`` and
``CURRENT_TIMESTAMP``, ``true``/``1``, number formatting).
"""

from __future__ import annotations

import decimal
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import NpaError
from .model import (UNKNOWN, Claim, ColumnModel, SchemaModel, TableModel,
                           build_expected, fold, same_name)

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.connection import DbConnection
    from ..engine.executor import MigrationExecutor
    from ..migration import MigrationScript
    from ..operations import MigrationOperation
    from ..provider.base import BaseProvider


class VerificationError(NpaError):
    """Post-execution verification found that an operation did not do what it said."""

    exit_code = 1
    label = "Verification found"

    def __init__(self, message: str, differences: list["Difference"] | None = None):
        self.differences = list(differences or [])
        super().__init__(message)


# --------------------------------------------------------------------------------------
# differences
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """One difference between the expected and the live schema.

    :ivar kind: e.g. ``missing table``, ``extra column``, ``changed type``,
        ``changed nullability``, ``changed default``, ``missing index``,
        ``extra constraint``, ``changed primary key``.
    :ivar table: the table, schema-qualified when not in the default schema.
    :ivar object_type: ``table``, ``column``, ``index``, ``primary key``, ``unique
        constraint``, ``foreign key`` or ``check constraint``.
    :ivar object: the column / index / constraint name (``None`` for a table).
    :ivar expected: what the migrations (or the model) say, as text (``None``: absent).
    :ivar actual: what the database has, as text (``None``: absent).
    :ivar key: the :data:`~npa_migrations.schema.model.Claim` this difference concerns.
    """

    kind: str
    table: str
    object_type: str
    object: str | None
    expected: str | None
    actual: str | None
    key: tuple = field(compare=False, repr=False, default=())

    @property
    def where(self) -> str:
        """``table.object`` (or the table alone), as printed."""
        return f"{self.table}.{self.object}" if self.object else self.table

    @property
    def detail(self) -> str:
        """What was expected and what the database has, as printed."""
        if self.kind.startswith("missing"):
            return f"expected {self.expected}, not in the database" if self.expected else \
                "expected, not in the database"
        if self.kind.startswith("extra"):
            return (f"{self.actual} in the database, not expected" if self.actual else
                    "in the database, not expected")
        return f"expected {self.expected}, database has {self.actual}"

    @property
    def label(self) -> str:
        """``kind`` with the precise object type, e.g. ``missing unique constraint``."""
        verb, _, noun = self.kind.partition(" ")
        if noun in ("type", "nullability", "default", "comment") or noun == self.object_type:
            return self.kind
        return f"{verb} {self.object_type}"

    def __str__(self) -> str:
        return f"{self.label} {self.where}: {self.detail}"

    def line(self, width: int = 0) -> str:
        """One report line: kind, table.object, detail."""
        return f"{self.label:<24} {self.where:<{max(width, 1)}}  {self.detail}"

    def to_json(self) -> dict:
        """One entry of ``differences`` in ``npa migrate drift --json``."""
        return {"kind": self.kind, "label": self.label, "table": self.table,
                "object_type": self.object_type, "object": self.object,
                "expected": self.expected, "actual": self.actual, "message": str(self)}


@dataclass
class DriftReport:
    """What :func:`detect_drift` found.

    :ivar database: the database (password hidden).
    :ivar expected_from: where the expected schema came from.
    :ivar differences: every difference, one per object.
    :ivar not_compared: what the expected schema does not know, and why (raw SQL).
    """

    database: str
    expected_from: str
    differences: list[Difference] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)

    @property
    def has_drift(self) -> bool:
        """``True`` when there is at least one difference."""
        return bool(self.differences)

    def lines(self) -> list[str]:
        """The human report of ``npa migrate drift``, one line per difference."""
        out = []
        if self.differences:
            out.append(f"Schema drift in {self.database} (expected: {self.expected_from}):")
            width = max(len(d.where) for d in self.differences)
            out += ["  " + d.line(width) for d in self.differences]
        else:
            out.append(f"No drift: {self.database} matches {self.expected_from}.")
        if self.not_compared:
            out.append("Not compared (the expected schema cannot tell):")
            out += [f"  {line}" for line in self.not_compared]
        if self.differences:
            n = len(self.differences)
            out.append(f"{n} difference{'s' if n != 1 else ''}.")
        return out

    def to_json(self) -> dict:
        """The ``npa migrate drift --json`` document."""
        return {"database": self.database, "expected_from": self.expected_from,
                "drift": self.has_drift,
                "differences": [d.to_json() for d in self.differences],
                "not_compared": list(self.not_compared)}


# --------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------

_TYPE_SYNONYMS = {
    "INT": "INTEGER", "INT4": "INTEGER", "INT8": "BIGINT", "INT2": "SMALLINT",
    "BOOL": "BOOLEAN", "DECIMAL": "NUMERIC", "DEC": "NUMERIC",
    "CHARACTER VARYING": "VARCHAR", "CHARACTER": "CHAR",
    "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
    "TIME WITHOUT TIME ZONE": "TIME", "TIME WITH TIME ZONE": "TIMETZ",
    "DOUBLE": "DOUBLE PRECISION", "FLOAT8": "DOUBLE PRECISION", "FLOAT4": "REAL",
    "NATIONAL CHARACTER VARYING": "NVARCHAR", "NCHAR VARYING": "NVARCHAR",
}
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "MEDIUMINT", "INTEGER", "BIGINT"}
_TYPE_SHAPE = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_ ]*?)\s*(?:\((?P<args>[^()]*)\))?"
                         r"(?P<rest>(?:\s+[A-Z][A-Z ]*)?)$")


def normalise_type_text(text: str, dialect: str) -> str:
    """Canonical spelling of a compiled type for ``dialect`` (see module docs)."""
    t = text.upper()
    t = re.sub(r"\s+(?:CHARACTER\s+SET|CHARSET|COLLATE)\s+\S+", "", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"\s*,\s*", ",", t)
    t = re.sub(r"\s*\(\s*", "(", t)
    t = re.sub(r"\s*\)", ")", t)
    m = _TYPE_SHAPE.match(t)
    if not m:
        return t
    name = m["name"].strip()
    args = m["args"]
    rest = m["rest"].strip()
    full = f"{name} {rest}".strip() if rest and not rest.startswith(("UNSIGNED", "ZEROFILL")) \
        else name
    if full in _TYPE_SYNONYMS:
        name, rest = _TYPE_SYNONYMS[full], ""
    elif name in _TYPE_SYNONYMS:
        name = _TYPE_SYNONYMS[name]
    if dialect in ("mysql", "mariadb"):
        if name == "TINYINT" and args == "1" and not rest:
            return "BOOLEAN"
        if name in _INTEGER_TYPES:
            args = None
        if name == "JSON":  # MariaDB stores JSON as LONGTEXT (with a json_valid check)
            name = "LONGTEXT"
        if name == "NUMERIC" and args is None:
            args = "10,0"
    elif dialect == "postgresql":
        if name == "FLOAT":
            name, args = ("REAL" if args and args.isdigit() and int(args) <= 24
                          else "DOUBLE PRECISION"), None
        if name in ("DOUBLE PRECISION", "REAL"):
            args = None
        if name == "TIMESTAMP" and args == "6":
            args = None
    elif dialect == "oracle":
        if name == "NUMBER" and args in ("38,0", "*,0"):
            name, args = "INTEGER", None
    elif dialect == "mssql":
        if name == "FLOAT" and args == "53":
            args = None
    out = name + (f"({args})" if args is not None else "")
    return f"{out} {rest}".strip() if rest else out


_CAST = re.compile(r"::\s*(?:\"[^\"]+\"|[A-Za-z_][\w ]*?)(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"
                   r"(?:\[\])?\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_NOW = {"now()", "current_timestamp", "current_timestamp()", "getdate()", "sysdate",
        "systimestamp", "localtimestamp", "localtimestamp()", "statement_timestamp()",
        "transaction_timestamp()", "sysdatetime()", "datetime('now')"}


def _outer_parens(text: str) -> bool:
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for n, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and n < len(text) - 1:
            return False
    return True


def normalise_default_text(text: Any) -> str | None:
    """Canonical form of a server default's SQL text; ``None`` for no default."""
    if text is None:
        return None
    s = str(text).strip()
    while True:
        before = s
        while _outer_parens(s):
            s = s[1:-1].strip()
        s = _CAST.sub("", s).strip()
        if s == before:
            break
    if len(s) >= 2 and s[0] == "'" and s[-1] == "'" and "'" not in s[1:-1].replace("''", ""):
        inner = s[1:-1].replace("''", "'")
        if _NUMBER.match(inner.strip()):
            return _number(inner.strip())
        return "'" + inner + "'"
    if len(s) >= 3 and s[:2].upper() == "N'" and s[-1] == "'":
        return "'" + s[2:-1].replace("''", "'") + "'"
    if _NUMBER.match(s):
        return _number(s)
    low = re.sub(r"\s+", "", s.lower())
    if low in ("null",):
        return None
    if low in ("true", "'t'"):
        return "1"
    if low in ("false", "'f'"):
        return "0"
    if low in _NOW:
        return "current_timestamp"
    return low.replace('"', "").replace("`", "")


_PREDICATE_CAST = re.compile(r"::\s*(?:\"[^\"]+\"|[a-z_][\w ]*?)(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"
                             r"(?:\[\])?(?=[\s)=<>!,]|$)")


def normalise_predicate(text: Any) -> str | None:
    """Canonical form of a partial index's ``WHERE`` predicate, for comparing what a
    migration declares with what the database reports (PostgreSQL adds parentheses and
    ``::type`` casts): lower case, without casts, parentheses, quotes and white space.
    ``None`` for no predicate."""
    if text is None:
        return None
    s = _PREDICATE_CAST.sub("", str(text).lower())
    return re.sub(r"[\s()\"`\[\]]", "", s).replace("!=", "<>") or None


def _number(text: str) -> str:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return text
    if value == value.to_integral_value():
        return str(value.quantize(decimal.Decimal(1)))
    return format(value.normalize(), "f")


# --------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------

class Comparator:
    """Compares an expected :class:`SchemaModel` with a live one for one provider."""

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider
        self.dialect = provider.dialect
        self.dialect_name = provider.dialect.name

    # text forms --------------------------------------------------------------------------
    def type_text(self, type_: Any) -> str | None:
        if type_ is UNKNOWN or type_ is None:
            return None
        import sqlalchemy as sa

        if isinstance(type_, type):
            type_ = type_()
        if isinstance(type_, sa.types.NullType):
            return None
        try:
            return self.dialect.type_compiler_instance.process(type_)
        except Exception:  # a type this dialect cannot compile (no length on MySQL, ...)
            return None

    def same_type(self, expected: Any, actual: Any) -> tuple[bool, str | None, str | None]:
        exp, act = self.type_text(expected), self.type_text(actual)
        if exp is None or act is None:
            return True, exp, act
        same = (normalise_type_text(exp, self.dialect_name)
                == normalise_type_text(act, self.dialect_name))
        return same, exp, act

    def expected_default_text(self, default: Any) -> str | None:
        if default is None or default is UNKNOWN:
            return None
        try:
            return self.provider.render_default(default)
        except Exception:
            return str(getattr(default, "arg", default))

    def same_default(self, expected: ColumnModel, actual: ColumnModel
                     ) -> tuple[bool, str | None, str | None]:
        exp_text = self.expected_default_text(expected.default)
        act_text = actual.default if actual.default is not UNKNOWN else None
        exp, act = normalise_default_text(exp_text), normalise_default_text(act_text)
        if exp == act:
            return True, exp_text, act_text
        if exp is None and act is not None and (
                "nextval(" in act or actual.identity
                or (expected.autoincrement and actual.autoincrement)):
            return True, exp_text, act_text  # a sequence / identity behind autoincrement
        return False, exp_text, act_text

    # schema ------------------------------------------------------------------------------
    def compare(self, expected: SchemaModel, live: SchemaModel,
                ignore: Iterable[str] = ()) -> list[Difference]:
        ignored = {fold(n) for n in ignore if n}
        differences: list[Difference] = []
        matched: set = set()
        for exp in sorted(expected.tables.values(), key=_table_order):
            if fold(exp.name) in ignored:
                continue
            act = live.get(exp.name, exp.schema)
            if act is not None:
                matched.add(act.key)
            differences += self.compare_table(exp, act)
        if not expected.open_world:
            for act in sorted(live.tables.values(), key=_table_order):
                if act.key in matched or fold(act.name) in ignored:
                    continue
                differences += self.compare_table(None, act)
        return differences

    def compare_table(self, exp: TableModel | None, act: TableModel | None) -> list[Difference]:
        """Differences of one table; ``None`` on one side means the table is absent."""
        if exp is None and act is None:
            return []
        t = exp or act
        schema, name, display = t.schema, t.name, t.display
        if exp is None:
            return [Difference("extra table", display, "table", None, None,
                               f"{len(act.columns)} column(s)",
                               (schema, name, "table", None, None))]
        if act is None:
            if exp.maybe_absent:
                return []
            return [Difference("missing table", display, "table", None,
                               f"{len(exp.columns)} column(s)" if exp.columns else "table",
                               None, (schema, name, "table", None, None))]
        out: list[Difference] = []

        def diff(kind, object_type, obj, expected, actual, category, attr=None):
            out.append(Difference(kind, display, object_type, obj, expected, actual,
                                  (schema, name, category, obj, attr)))

        self._columns(exp, act, diff)
        self._primary_key(exp, act, diff)
        self._indexes_and_uniques(exp, act, diff)
        self._foreign_keys(exp, act, diff)
        self._checks(exp, act, diff)
        return out

    def _describe_column(self, col: ColumnModel) -> str:
        text = self.type_text(col.type) or "?"
        if col.nullable is not UNKNOWN:
            text += " NULL" if col.nullable else " NOT NULL"
        return text

    def _columns(self, exp: TableModel, act: TableModel, diff) -> None:
        exp_pk = {fold(c) for c in exp.primary_key} if exp.primary_key is not UNKNOWN else set()
        act_pk = {fold(c) for c in act.primary_key} if act.primary_key is not UNKNOWN else set()
        seen = set()
        for col in exp.columns.values():
            live = act.column(col.name)
            if live is None:
                diff("missing column", "column", col.name, self._describe_column(col), None,
                     "column", "exists")
                continue
            seen.add(live.name)
            if col.type is not UNKNOWN:
                same, e, a = self.same_type(col.type, live.type)
                if not same:
                    diff("changed type", "column", col.name, e, a, "column", "type")
            if col.nullable is not UNKNOWN:
                exp_null = bool(col.nullable) and fold(col.name) not in exp_pk
                act_null = bool(live.nullable) and fold(live.name) not in act_pk
                if exp_null != act_null:
                    diff("changed nullability", "column", col.name,
                         "NULL" if exp_null else "NOT NULL", "NULL" if act_null else "NOT NULL",
                         "column", "nullable")
            if col.default is not UNKNOWN:
                same, e, a = self.same_default(col, live)
                if not same:
                    diff("changed default", "column", col.name, e or "no default",
                         a or "no default", "column", "default")
            if (col.comment is not UNKNOWN and live.comment is not UNKNOWN
                    and self.dialect.supports_comments
                    and (col.comment or None) != (live.comment or None)):
                diff("changed comment", "column", col.name, _comment_text(col.comment),
                     _comment_text(live.comment), "column", "comment")
        if "columns" in exp.known:
            for live in act.columns.values():
                if live.name not in seen and exp.column(live.name) is None:
                    diff("extra column", "column", live.name, None,
                         self._describe_column(live), "column", "exists")

    def _primary_key(self, exp: TableModel, act: TableModel, diff) -> None:
        if exp.primary_key is UNKNOWN:
            return
        e = tuple(fold(c) for c in exp.primary_key)
        a = tuple(fold(c) for c in act.primary_key or ())
        if e == a:
            return
        show = lambda cols: f"({', '.join(cols)})" if cols else None  # noqa: E731
        if not a:
            diff("missing primary key", "primary key", None, show(exp.primary_key), None,
                 "primary_key")
        elif not e:
            if "primary_key" in exp.known:
                diff("extra primary key", "primary key", None, None, show(act.primary_key),
                     "primary_key")
        else:
            diff("changed primary key", "primary key", None, show(exp.primary_key),
                 show(act.primary_key), "primary_key")

    def _indexes_and_uniques(self, exp: TableModel, act: TableModel, diff) -> None:
        cols = lambda c: tuple(fold(x) for x in c)  # noqa: E731
        show = lambda c: f"({', '.join(c)})"  # noqa: E731
        used_indexes: set[str] = set()
        used_uniques: set[int] = set()
        live_uniques = list(enumerate(act.uniques))
        for index in exp.indexes.values():
            live = act.index(index.name)
            if live is not None:
                used_indexes.add(live.name)
                if cols(live.columns) != cols(index.columns) or bool(live.unique) != bool(
                        index.unique) or normalise_predicate(live.where) != normalise_predicate(
                        index.where):
                    diff("changed index", "index", index.name, _index_text(index),
                         _index_text(live), "index")
                continue
            if index.unique:
                found = [n for n, u in live_uniques if same_name(u.name, index.name)]
                if found:
                    used_uniques.add(found[0])
                    continue
            diff("missing index", "index", index.name, _index_text(index), None, "index")
        for unique in exp.uniques:
            match = None
            if unique.name:
                match = next((n for n, u in live_uniques if n not in used_uniques
                              and same_name(u.name, unique.name)), None)
                if match is None:
                    live = act.index(unique.name)
                    if live is not None and live.unique:
                        used_indexes.add(live.name)
                        continue
            if match is None:
                match = next((n for n, u in live_uniques if n not in used_uniques
                              and (u.name is None or not unique.name
                                   or "uniques" not in exp.known)
                              and sorted(cols(u.columns)) == sorted(cols(unique.columns))),
                             None)
            if match is None and not unique.name:
                live = next((i for i in act.indexes.values() if i.unique
                             and i.name not in used_indexes
                             and sorted(cols(i.columns)) == sorted(cols(unique.columns))), None)
                if live is not None:
                    used_indexes.add(live.name)
                    continue
            if match is None:
                diff("missing constraint", "unique constraint",
                     unique.name or show(unique.columns), f"UNIQUE {show(unique.columns)}",
                     None, "unique")
                continue
            used_uniques.add(match)
            live_unique = act.uniques[match]
            if cols(live_unique.columns) != cols(unique.columns) and sorted(
                    cols(live_unique.columns)) != sorted(cols(unique.columns)):
                diff("changed constraint", "unique constraint", unique.name,
                     f"UNIQUE {show(unique.columns)}", f"UNIQUE {show(live_unique.columns)}",
                     "unique")
        if "indexes" in exp.known:
            for live in act.indexes.values():
                if live.name in used_indexes or exp.index(live.name) is not None:
                    continue
                if live.unique and any(sorted(cols(u.columns)) == sorted(cols(live.columns))
                                       for u in exp.uniques):
                    continue
                diff("extra index", "index", live.name, None, _index_text(live), "index")
        if "uniques" in exp.known:
            for n, live in live_uniques:
                if n in used_uniques:
                    continue
                if live.name and exp.index(live.name) is not None:
                    continue
                diff("extra constraint", "unique constraint", live.name or show(live.columns),
                     None, f"UNIQUE {show(live.columns)}", "unique")

    def _foreign_keys(self, exp: TableModel, act: TableModel, diff) -> None:
        def shape(fk):
            return (tuple(fold(c) for c in fk.columns), fold(fk.referred_table),
                    tuple(fold(c) for c in fk.referred_columns))

        used: set[int] = set()
        for fk in exp.foreign_keys:
            match = None
            if fk.name:
                match = next((n for n, f in enumerate(act.foreign_keys)
                              if n not in used and same_name(f.name, fk.name)), None)
            if match is None:
                match = next((n for n, f in enumerate(act.foreign_keys) if n not in used
                              and (not fk.name or f.name is None or "foreign_keys" not in exp.known)
                              and shape(f) == shape(fk)), None)
            label = fk.name or f"({', '.join(fk.columns)})"
            if match is None:
                diff("missing constraint", "foreign key", label, _fk_text(fk), None,
                     "foreign_key")
                continue
            used.add(match)
            live = act.foreign_keys[match]
            if shape(live) != shape(fk) or _action(live.ondelete) != _action(fk.ondelete) or \
                    _action(live.onupdate) != _action(fk.onupdate):
                diff("changed constraint", "foreign key", label, _fk_text(fk), _fk_text(live),
                     "foreign_key")
        if "foreign_keys" in exp.known:
            for n, live in enumerate(act.foreign_keys):
                if n not in used:
                    diff("extra constraint", "foreign key",
                         live.name or f"({', '.join(live.columns)})", None, _fk_text(live),
                         "foreign_key")

    def _checks(self, exp: TableModel, act: TableModel, diff) -> None:
        used: set[int] = set()
        for check in exp.checks:
            if not check.name:
                continue
            match = next((n for n, c in enumerate(act.checks) if same_name(c.name, check.name)),
                         None)
            if match is None:
                diff("missing constraint", "check constraint", check.name,
                     f"CHECK ({check.sqltext})", None, "check")
            else:
                used.add(match)
        if "checks" not in exp.known or any(not c.name for c in exp.checks):
            return
        for n, live in enumerate(act.checks):
            if n in used or not live.name:
                continue
            if "json_valid" in (live.sqltext or "").lower():
                continue  # MariaDB's own check behind a JSON column
            diff("extra constraint", "check constraint", live.name, None,
                 f"CHECK ({live.sqltext})", "check")


def _table_order(table: TableModel):
    return (table.schema or "", table.name)


def _index_text(index) -> str:
    where = f" WHERE {index.where}" if index.where else ""
    return f"{'UNIQUE ' if index.unique else ''}({', '.join(index.columns)}){where}"


def _comment_text(comment: str | None) -> str:
    return repr(comment) if comment else "no comment"


def _fk_text(fk) -> str:
    target = f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else \
        fk.referred_table
    text = f"({', '.join(fk.columns)}) -> {target}({', '.join(fk.referred_columns)})"
    if _action(fk.ondelete):
        text += f" ON DELETE {_action(fk.ondelete)}"
    if _action(fk.onupdate):
        text += f" ON UPDATE {_action(fk.onupdate)}"
    return text


def _action(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.upper().split())
    return None if value in ("NO ACTION", "RESTRICT") else value


# --------------------------------------------------------------------------------------
# the drift command and check_drift
# --------------------------------------------------------------------------------------

def engine_tables(executor: "MigrationExecutor") -> set[str]:
    """The engine's own tables, never reported."""
    options = executor.options
    names = {options.history_table, options.lock_table,
             getattr(options, "log_table", None)}
    return {n for n in names if n}


def load_model(spec: str) -> Any:
    """``module:attr`` -> a SQLAlchemy ``MetaData`` (or an object with ``.metadata``)."""
    import importlib
    import os
    import sys

    import sqlalchemy as sa

    from ..errors import ConfigurationError

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigurationError(f"--model '{spec}' must be 'module:attribute', e.g. "
                                 "'myapp.models:metadata' or 'myapp.models:Base'.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigurationError(f"--model: cannot import module '{module_name}': "
                                 f"{type(exc).__name__}: {exc}") from exc
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ConfigurationError(f"--model: module '{module_name}' has no attribute "
                                     f"'{attr}'.")
        value = getattr(value, part)
    if not isinstance(value, sa.MetaData):
        value = getattr(value, "metadata", value)
    if not isinstance(value, sa.MetaData):
        raise ConfigurationError(f"--model: '{spec}' is not a SQLAlchemy MetaData (nor an "
                                 "object with a .metadata attribute, like a declarative Base).")
    return value


def expected_model(executor: "MigrationExecutor", rows: dict) -> SchemaModel:
    return build_expected(executor.discover(), rows, executor.provider.names)


def _schemas(expected: SchemaModel) -> list[str | None]:
    schemas: list[str | None] = [None]
    for schema, _ in expected.tables:
        if schema is not None and schema not in schemas:
            schemas.append(schema)
    return schemas


def compare_live(executor: "MigrationExecutor", conn: "DbConnection",
                 expected: SchemaModel) -> list[Difference]:
    from .live import LiveSchemaReader

    ignore = engine_tables(executor)
    reader = LiveSchemaReader(executor.provider, conn, ignore)
    try:
        if any(schema is not None for schema, _ in expected.tables):
            expected.use_default_schema(reader.default_schema())
        live = reader.read(_schemas(expected))
    finally:
        reader.close()
    return Comparator(executor.provider).compare(expected, live, ignore)


def detect_drift(executor: "MigrationExecutor", model: Any = None) -> DriftReport:
    """Compare the live database with the applied migrations, or with ``model`` (a
    ``MetaData`` or a ``"module:attr"`` string naming one)."""
    conn = executor._connect()
    try:
        if model is not None:
            metadata = load_model(model) if isinstance(model, str) else model
            expected = SchemaModel.from_metadata(metadata, executor.provider.dialect.name)
            source = (f"model {model}" if isinstance(model, str)
                      else f"the given MetaData ({len(expected.tables)} tables)")
        else:
            rows = executor._read_history(conn)
            expected = expected_model(executor, rows)
            n = sum(1 for r in rows.values() if r.success)
            source = f"{n} applied migration{'s' if n != 1 else ''}"
        differences = compare_live(executor, conn, expected)
    finally:
        conn.close()
    return DriftReport(executor.provider.display_url(), source, differences,
                       expected.not_compared())


def drift_problems(executor: "MigrationExecutor", conn: "DbConnection", rows: dict) -> list:
    """Drift as validation problems (option ``check_drift``)."""
    from ..engine.ordering import ValidationProblem

    differences = compare_live(executor, conn, expected_model(executor, rows))
    return [ValidationProblem(
        "drift", None,
        f"Schema drift: {d}. The database no longer matches its applied migrations; run "
        "'npa migrate drift' for the full report, then fix the database or add a "
        "migration for the change.") for d in differences]


# --------------------------------------------------------------------------------------
# post-execution verification
# --------------------------------------------------------------------------------------

def claim_matches(claim: Claim, key: tuple) -> bool:
    """Whether a difference's ``key`` falls under an operation's ``claim``."""
    c_schema, c_table, c_cat, c_name, c_attr = claim
    k_schema, k_table, k_cat, k_name, k_attr = key
    if not (same_name(c_schema, k_schema) and same_name(c_table, k_table)):
        return False
    if c_cat in ("*", "table"):
        return c_cat == "*" or k_cat == "table"
    if k_cat == "table":
        return True  # the table itself is missing or extra: every claim on it fails
    if c_cat == "constraint":
        if k_cat not in ("unique", "foreign_key", "check"):
            return False
    elif c_cat != k_cat:
        return False
    if c_cat != "primary_key" and not same_name(c_name, k_name):
        return False
    if c_cat == "column":
        return c_attr in ("*", k_attr) or k_attr == "exists"
    return True


class Verifier:
    """Post-execution verification for one run (option ``verify``).

    Built at the start of the run from the history (the model of what is applied), it
    replays each migration's operations as the migration finishes -- before its history
    row is written and before it commits, on the run's own connection -- reflects only
    the tables those operations touched, and compares only the objects they declared.
    Tables and objects the model does not know (raw SQL) are skipped.
    """

    def __init__(self, executor: "MigrationExecutor", conn: "DbConnection", rows: dict):
        from .live import LiveSchemaReader

        self.executor = executor
        self.model = expected_model(executor, rows)
        self._base: SchemaModel | None = None
        self._done: list[tuple[str, list, str]] = []
        self.reader = LiveSchemaReader(executor.provider, conn, engine_tables(executor))
        self.comparator = Comparator(executor.provider)
        self.seconds = 0.0

    def close(self) -> None:
        self.reader.close()

    def _restart_from(self, script_id: str) -> None:
        """A migration verified earlier in this run runs again (an all-in-one run retried
        after a lock timeout): rebuild the model as it was before it."""
        position = [d[0] for d in self._done].index(script_id)
        self._done = self._done[:position]
        self.model = self._base.snapshot()
        for migration_id, operations, _ in self._done:
            for operation in operations:
                self.model.apply(operation, migration_id)

    def verify(self, script: "MigrationScript", operations: list["MigrationOperation"],
               direction: str) -> None:
        """Raise :class:`VerificationError` if the database does not show what the
        operations declared."""
        started = time.perf_counter()
        if self._base is None and self.executor.options.transaction_mode.value == "all-in-one":
            self._base = self.model.snapshot()
        if self._base is not None and script.id in [d[0] for d in self._done]:
            self._restart_from(script.id)
        restore = None if self.executor.options.stop_on_error else self.model.snapshot()
        claims: list[tuple[int, Claim]] = []
        for position, operation in enumerate(operations):
            for claim in self.model.apply(operation, script.id):
                claims.append((position, claim))
        if any(claim[0] is not None for _, claim in claims):  # "public" is no schema
            if self.model.default_schema is None:
                self.model.use_default_schema(self.reader.default_schema())
            claims = [(p, self._in_default_schema(c)) for p, c in claims]
        try:
            if claims:
                self._compare(script, operations, claims, direction)
        except VerificationError:
            if restore is not None:
                self.model = restore
            raise
        finally:
            self.seconds += time.perf_counter() - started
        self._done.append((script.id, operations, direction))

    def _in_default_schema(self, claim: Claim) -> Claim:
        if same_name(claim[0], self.reader.default_schema()):
            return (None,) + tuple(claim[1:])
        return claim

    def _compare(self, script, operations, claims, direction) -> None:
        touched: list[tuple[str | None, str]] = []
        for _, claim in claims:
            key = (claim[0], claim[1])
            if key not in touched:
                touched.append(key)
        try:
            live = self.reader.read(tables=touched)
        except Exception as exc:
            names = ", ".join(f"{s}.{n}" if s else n for s, n in touched)
            raise VerificationError(
                f"post-execution verification could not read {names} back: "
                f"{type(exc).__name__}: {exc}. Run with --no-verify (option verify=False) to "
                "skip it.") from exc
        problems: list[tuple[int, Difference]] = []
        for schema, name in touched:
            expected = self.model.get(name, schema)
            actual = live.get(name, schema)
            if expected is None and actual is None:
                continue
            for difference in self.comparator.compare_table(expected, actual):
                blamed = [pos for pos, claim in claims if claim_matches(claim, difference.key)]
                if blamed:
                    problems.append((max(blamed), difference))
        if not problems:
            return
        lines = []
        for position, difference in problems:
            op = operations[position]
            lines.append(f"operation {position + 1} ({op.describe()}) did not do what it said: "
                         f"{difference}")
        raise VerificationError(
            "; ".join(lines) + f" (post-execution verification of {script.id} {direction}: "
            "a plugin or provider rendered the operation differently from what the migration "
            "declares)", [d for _, d in problems])
