"""Comparing an expected schema with a live one: :class:`Comparator` and the
:class:`Difference` objects it finds.

Both drift detection (:mod:`npa_migrations.schema.drift`, the whole schema) and
post-execution verification (:mod:`npa_migrations.schema.verify`, the tables one
migration touched) compare through this one class. What a database says about types,
server defaults and the objects it makes by itself is not known here: the provider's
:class:`~npa_migrations.provider.comparison.SchemaRules` answer those questions. Types are
compared after the provider's dialect has spelled both sides (``String(100)`` and a
reflected ``VARCHAR(100)`` both become ``VARCHAR(100)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from .model import UNKNOWN, ColumnModel, SchemaModel, TableModel, fold, same_name

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.base import BaseProvider


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

    def object_name(self) -> str:
        """:attr:`object`, for a difference on a column, index or constraint (which has
        one)."""
        if self.object is None:
            raise ValueError(f"{self.kind} of {self.table} names no object")
        return self.object

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



class Comparator:
    """Compares an expected :class:`~npa_migrations.schema.model.SchemaModel` with a live
    one for one provider, asking the provider's
    :class:`~npa_migrations.provider.comparison.SchemaRules` whether two types or two
    server defaults are the same.

    :ivar not_compared: what the comparison had to skip and why (a type the dialect
        cannot spell), as lines for the reports.
    """

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider
        self.rules = provider.schema_rules
        self.not_compared: list[str] = []

    # text forms --------------------------------------------------------------------------
    def type_text(self, type_: Any) -> str | None:
        """The type as the provider's dialect spells it; ``None`` when unknown or not
        spellable. A live type read as text (``int(11)``) is kept as it is."""
        if type_ is UNKNOWN or type_ is None:
            return None
        if isinstance(type_, str):
            return type_
        import sqlalchemy as sa

        if isinstance(type_, type):
            type_ = type_()
        if isinstance(type_, sa.types.NullType):
            return None
        try:
            return self.provider.dialect.type_compiler_instance.process(type_)
        except Exception:  # a type this dialect cannot compile (a VARCHAR without length)
            return None

    def same_type(self, expected: Any, actual: Any) -> tuple[bool, str | None, str | None]:
        """``(same, expected text, actual text)``; types that cannot be spelled count as
        the same (the caller records them as not compared)."""
        exp, act = self.type_text(expected), self.type_text(actual)
        if exp is None or act is None:
            return True, exp, act
        return self.rules.compare_type(exp, act), exp, act

    def expected_default_text(self, default: Any) -> str | None:
        """A declared server default rendered for the database (``None``: none)."""
        if default is None or default is UNKNOWN:
            return None
        try:
            return self.provider.sql.render_default(default)
        except Exception:
            return str(getattr(default, "arg", default))

    def same_default(self, expected: ColumnModel, actual: ColumnModel
                     ) -> tuple[bool, str | None, str | None]:
        """``(same, expected text, actual text)`` of a column's server default."""
        exp_text = self.expected_default_text(expected.default)
        act_text = actual.default if actual.default is not UNKNOWN else None
        return (self.rules.compare_server_default(expected, actual, exp_text, act_text),
                exp_text, act_text)

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
        if exp is None:
            if act is None:
                return []
            return [Difference("extra table", act.display, "table", None, None,
                               f"{len(act.columns)} column(s)",
                               (act.schema, act.name, "table", None, None))]
        schema, name, display = exp.schema, exp.name, exp.display
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
                elif e is None or a is None:
                    self._type_not_compared(exp, col.name, e, a)
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
                    and self.provider.dialect.supports_comments
                    and (col.comment or None) != (live.comment or None)):
                diff("changed comment", "column", col.name, _comment_text(col.comment),
                     _comment_text(live.comment), "column", "comment")
        if "columns" in exp.known:
            for live in act.columns.values():
                if live.name not in seen and exp.column(live.name) is None:
                    diff("extra column", "column", live.name, None,
                         self._describe_column(live), "column", "exists")

    def _type_not_compared(self, table: TableModel, column: str, expected: str | None,
                           actual: str | None) -> None:
        side = (f"the database reports a type the {self.provider.dialect.name} dialect "
                "cannot read" if actual is None else
                f"the declared type cannot be spelled for {self.provider.dialect.name}")
        line = f"column {table.display}.{column}: type not compared ({side})"
        if line not in self.not_compared:
            self.not_compared.append(line)

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
                        index.unique) or self.rules.normalise_predicate(
                        live.where) != self.rules.normalise_predicate(index.where):
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
            for live_index in act.indexes.values():
                if live_index.name in used_indexes or exp.index(live_index.name) is not None:
                    continue
                if live_index.unique and any(
                        sorted(cols(u.columns)) == sorted(cols(live_index.columns))
                        for u in exp.uniques):
                    continue
                diff("extra index", "index", live_index.name, None, _index_text(live_index),
                     "index")
        if "uniques" in exp.known:
            for n, live_unique in live_uniques:
                if n in used_uniques:
                    continue
                if live_unique.name and exp.index(live_unique.name) is not None:
                    continue
                diff("extra constraint", "unique constraint",
                     live_unique.name or show(live_unique.columns), None,
                     f"UNIQUE {show(live_unique.columns)}", "unique")

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
