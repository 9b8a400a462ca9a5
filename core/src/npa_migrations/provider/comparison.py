"""What a database's schema looks like when it is read back: the rules drift detection
and post-execution verification compare with.

A migration declares ``sa.Boolean`` and MySQL reports ``TINYINT(1)``; PostgreSQL puts a
``nextval(...)`` default behind a serial key; MariaDB adds a ``json_valid`` check to every
JSON column. Such facts belong to the database, so they live here, in a
:class:`SchemaRules` object each provider supplies (``BaseProvider.schema_rules_class``),
and never in the comparison code of the core. The portable defaults below are what SQL
and SQLAlchemy's reflection give on any database; a provider package subclasses
:class:`SchemaRules` in a module of its own and overrides only what differs, as
Alembic's ``DefaultImpl`` subclasses do with ``compare_type``, ``type_synonyms`` and
``correct_for_autogen_constraints``.
"""

from __future__ import annotations

import decimal
import re
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..schema.model import ColumnModel, TableModel
    from .base import BaseProvider
    from .connection import DbConnection

#: a reflected name, or ``None`` where the reflection has none (an unnamed constraint)
MaybeName = TypeVar("MaybeName", str, None)

#: a compiled type: name, optional ``(args)``, optional trailing words (``WITH TIME ZONE``)
_TYPE_SHAPE = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_ ]*?)\s*(?:\((?P<args>[^()]*)\))?"
                         r"(?P<rest>(?:\s+[A-Z][A-Z ]*)?)$")
#: a collation or character set is a property of the column, not of its type
_COLLATION = re.compile(r"\s+(?:CHARACTER\s+SET|CHARSET|COLLATE)\s+\S+")
_CAST = re.compile(r"::\s*(?:\"[^\"]+\"|[A-Za-z_][\w ]*?)(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"
                   r"(?:\[\])?\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
#: a ``::type`` cast anywhere in a predicate
_PREDICATE_CAST = re.compile(r"::\s*(?:\"[^\"]+\"|[a-z_][\w ]*?)(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"
                             r"(?:\[\])?(?=[\s)=<>!,]|$)")


class SchemaRules:
    """How one provider's database reports its schema, for drift detection and
    post-execution verification.

    The comparison code asks these methods and nothing else about the database:
    :meth:`reflected_name` and :meth:`correct_reflected` while the live schema is read,
    :meth:`compare_type` and :meth:`compare_server_default` while it is compared. A
    provider overrides the hooks (:meth:`canonical_type`, :meth:`implicit_default`,
    :attr:`type_synonyms`, ...) where its database differs, and keeps the rest.

    :param provider: the provider whose database is read (its dialect compiles types).
    """

    #: type spellings that mean the same type, folded to one name before two types are
    #: compared (whole spellings such as ``CHARACTER VARYING`` or bare names such as
    #: ``INT``); a subclass extends it with ``{**SchemaRules.type_synonyms, ...}``
    type_synonyms: ClassVar[Mapping[str, str]] = {
        "INT": "INTEGER", "DEC": "NUMERIC", "DECIMAL": "NUMERIC", "BOOL": "BOOLEAN",
        "CHARACTER VARYING": "VARCHAR", "CHARACTER": "CHAR",
        "NATIONAL CHARACTER VARYING": "NVARCHAR", "NCHAR VARYING": "NVARCHAR",
        "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP", "TIME WITHOUT TIME ZONE": "TIME",
        "DOUBLE": "DOUBLE PRECISION",
    }
    #: server defaults that all mean "the current time", folded to one spelling
    current_time_defaults: ClassVar[frozenset[str]] = frozenset({
        "now()", "current_timestamp", "current_timestamp()", "localtimestamp",
        "localtimestamp()"})

    #: kinds of objects SQLAlchemy's reflection cannot read exactly on this database, so
    #: :meth:`correct_reflected` reads them itself and the reader does not ask SQLAlchemy:
    #: any of ``primary_key``, ``indexes``, ``uniques``, ``foreign_keys``, ``checks``
    reflected_by_rules: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider

    # reading the live schema ----------------------------------------------------------
    def reflection_options(self) -> dict[str, Any]:
        """Extra ``create_engine`` arguments for the engine that reflects on the run's
        own connection (e.g. no type lookups the borrowed connection must not do).
        Default: none."""
        return {}

    def read_tables(self, conn: "DbConnection", schema: str | None, names: list[str]
                    ) -> list["TableModel"] | None:
        """The tables of ``names`` in ``schema`` that exist, read by the provider's own
        catalog queries on the run's connection (inside its transaction), keyed by the
        names as given and already as :meth:`correct_reflected` would leave them; a
        column's type may be the catalog's text (``VARCHAR(100)``), which the comparison
        takes as it is. Post-execution verification asks this after every migration for
        the tables it touched, so a few direct queries here replace SQLAlchemy's
        reflection, several queries per table, where that matters.

        Default: ``None``, the tables are read through SQLAlchemy's inspector."""
        return None

    def reflected_name(self, name: MaybeName) -> MaybeName:
        """A column, index or constraint name as SQLAlchemy's reflection returned it,
        turned into the name the database holds (drift and verification compare names
        exactly). Default: kept as it is."""
        return name

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Correct tables just read by reflection, in place: names the reflection could
        not read exactly, and objects the database made by itself that no migration
        declares (an index behind a foreign key, a check behind a JSON column).

        :param tables: the tables read from ``schema``, in one batch.
        :param connection: the SQLAlchemy connection they were read on (the run's own
            connection, inside its transaction).
        :param schema: the schema they were read from (``None``: the default schema).

        Default: nothing to correct."""

    # types ------------------------------------------------------------------------------
    def compare_type(self, expected: str, actual: str) -> bool:
        """Whether two compiled types (the migration's and the database's, both spelled
        by the provider's type compiler) are the same type."""
        return self.normalise_type(expected) == self.normalise_type(actual)

    def normalise_type(self, text: str) -> str:
        """The canonical spelling of a compiled type: upper case, single spaces, no
        character set or collation, synonyms folded (:attr:`type_synonyms`), then
        :meth:`canonical_type`."""
        t = _COLLATION.sub("", text.upper())
        t = re.sub(r"\s+", " ", t).strip()
        t = re.sub(r"\s*,\s*", ",", t)
        t = re.sub(r"\s*\(\s*", "(", t)
        t = re.sub(r"\s*\)", ")", t)
        m = _TYPE_SHAPE.match(t)
        if not m:
            return t
        name, args, rest = m["name"].strip(), m["args"], m["rest"].strip()
        full = f"{name} {rest}".strip() if rest else name
        if full in self.type_synonyms:
            name, rest = self.type_synonyms[full], ""
        elif name in self.type_synonyms:
            name = self.type_synonyms[name]
        name, args, rest = self.canonical_type(name, args, rest)
        out = name + (f"({args})" if args is not None else "")
        return f"{out} {rest}".strip() if rest else out

    def canonical_type(self, name: str, args: str | None, rest: str
                       ) -> tuple[str, str | None, str]:
        """The database's own equivalences of one type after synonyms are folded:
        ``name`` (``NUMERIC``), ``args`` (``"10,2"`` or ``None``) and ``rest`` (trailing
        words such as ``UNSIGNED``). Default: unchanged."""
        return name, args, rest

    # server defaults ----------------------------------------------------------------------
    def compare_server_default(self, expected: "ColumnModel", actual: "ColumnModel",
                               expected_text: str | None, actual_text: str | None) -> bool:
        """Whether a column's declared server default (rendered for the database) and
        its reflected one are the same; a default the database adds by itself behind an
        autoincrement key (:meth:`implicit_default`) matches no declared default."""
        exp = self.normalise_default(expected_text)
        act = self.normalise_default(actual_text)
        if exp == act:
            return True
        return exp is None and act is not None and self.implicit_default(expected, actual,
                                                                         act)

    def implicit_default(self, expected: "ColumnModel", actual: "ColumnModel",
                         default: str) -> bool:
        """Whether the reflected ``default`` (normalised) is one the database put behind
        an identity or autoincrement column by itself."""
        return bool(actual.identity or (expected.autoincrement and actual.autoincrement))

    def normalise_default(self, text: Any) -> str | None:
        """The canonical form of a server default's SQL text; ``None`` for no default.
        Outer parentheses and ``::type`` casts go, quoted numbers become numbers
        (``'0'``, ``0.00`` and ``0`` are equal), ``true``/``false`` become ``1``/``0``,
        the current-time functions one spelling, and ``NULL`` no default."""
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
        if len(s) >= 2 and s[0] == "'" and s[-1] == "'" and \
                "'" not in s[1:-1].replace("''", ""):
            inner = s[1:-1].replace("''", "'")
            if _NUMBER.match(inner.strip()):
                return _number(inner.strip())
            return "'" + inner + "'"
        if len(s) >= 3 and s[:2].upper() == "N'" and s[-1] == "'":
            return "'" + s[2:-1].replace("''", "'") + "'"
        if _NUMBER.match(s):
            return _number(s)
        low = re.sub(r"\s+", "", s.lower())
        if low == "null":
            return None
        if low in ("true", "'t'"):
            return "1"
        if low in ("false", "'f'"):
            return "0"
        if low in self.current_time_defaults:
            return "current_timestamp"
        return low.replace('"', "").replace("`", "")

    # partial indexes --------------------------------------------------------------------
    def normalise_predicate(self, text: Any) -> str | None:
        """The canonical form of a partial index's ``WHERE`` predicate, to compare what
        a migration declares with what the database writes back (PostgreSQL adds
        parentheses and ``::type`` casts): lower case, without casts, parentheses, quotes
        and white space, ``!=`` as ``<>``. ``None`` for no predicate."""
        if text is None:
            return None
        s = _PREDICATE_CAST.sub("", str(text).lower())
        return re.sub(r"[\s()\"`\[\]]", "", s).replace("!=", "<>") or None


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


def _number(text: str) -> str:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return text
    if value == value.to_integral_value():
        return str(value.quantize(decimal.Decimal(1)))
    return format(value.normalize(), "f")
