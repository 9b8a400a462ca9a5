"""How MySQL and MariaDB report their schema to drift detection and verification.

Integer display widths, ``TINYINT(1)`` for ``BOOLEAN``, ``DECIMAL`` as ``DECIMAL(10,0)``,
MariaDB's ``JSON`` stored as ``LONGTEXT`` behind a ``json_valid`` check, the index MySQL
creates by itself for a foreign key, and names SQLAlchemy's reflection cannot read from
``SHOW CREATE TABLE`` (a backtick stays doubled; a line break splits the definition),
which are read from ``information_schema`` instead (:mod:`npa_mysql.information_schema`).

Every run imports this module with the provider; what it reads tables with, and the
core's schema model (:mod:`npa_migrations.schema.model`), are imported when a table is
first read: a run that reads none (a deploy of ``.sql`` files) needs neither.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from npa_migrations.provider.comparison import MaybeName, SchemaRules

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.schema.model import ForeignKeyModel, TableModel

_INTEGER_TYPES = {"TINYINT", "SMALLINT", "MEDIUMINT", "INTEGER", "BIGINT"}
_JSON_VALID = re.compile(r"^\s*json_valid\(\s*`?(?P<column>.*?)`?\s*\)\s*$", re.IGNORECASE)


class MysqlSchemaRules(SchemaRules):
    """MySQL's and MariaDB's type spellings, implicit indexes and checks, and names."""

    def reflected_name(self, name: MaybeName) -> MaybeName:
        """SQLAlchemy's MySQL reflection reads names out of ``SHOW CREATE TABLE`` and keeps
        a backtick in a name doubled (```a``b``` reflects as ``a``b``): undo it."""
        return None if name is None else name.replace("``", "`")

    def canonical_type(self, name: str, args: str | None, rest: str
                       ) -> tuple[str, str | None, str]:
        """``TINYINT(1)`` is ``BOOLEAN``; integer display widths mean nothing; ``JSON``
        is ``LONGTEXT`` on MariaDB; a bare ``NUMERIC`` is ``NUMERIC(10,0)``."""
        if name == "TINYINT" and args == "1" and not rest:
            return "BOOLEAN", None, ""
        if name in _INTEGER_TYPES:
            args = None
        if name == "JSON":
            name = "LONGTEXT"
        if name == "NUMERIC" and args is None:
            args = "10,0"
        return name, args, rest

    def correct_reflected(self, tables: list["TableModel"], connection: "sa.Connection",
                          schema: str | None) -> None:
        """Re-read tables whose names hold a line break from ``information_schema``, then
        drop the index MySQL made for a foreign key and MariaDB's ``json_valid`` check of
        a JSON column: no migration declares either."""
        from .information_schema import read_tables, tables_with_line_breaks

        broken = tables_with_line_breaks(connection, schema, [t.name for t in tables])
        if broken:
            exact = {t.name: t for t in read_tables(connection, schema, sorted(broken),
                                                    self.provider.is_mariadb)}
            tables[:] = [exact.get(t.name, t) for t in tables]
        for table in tables:
            _drop_foreign_key_indexes(table)
            _drop_json_checks(table)


def _drop_foreign_key_indexes(table: "TableModel") -> None:
    from npa_migrations.schema.model import fold

    fk_columns = {tuple(fold(c) for c in f.columns) for f in table.foreign_keys}
    for name, index in list(table.indexes.items()):
        if (not index.unique and tuple(fold(c) for c in index.columns) in fk_columns
                and any(_named_after(name, fk) for fk in table.foreign_keys)):
            del table.indexes[name]


def _named_after(index_name: str, fk: "ForeignKeyModel") -> bool:
    """MySQL names the index it creates for a foreign key after the constraint, or after
    the first column when the constraint has a generated name."""
    from npa_migrations.schema.model import fold

    names = {fold(fk.name)} | ({fold(fk.columns[0])} if fk.columns else set())
    return fold(index_name) in names


def _drop_json_checks(table: "TableModel") -> None:
    from npa_migrations.schema.model import fold

    def made_for_json(check) -> bool:
        m = _JSON_VALID.match(check.sqltext or "")
        return bool(m and check.name and fold(check.name) == fold(m["column"])
                    and table.column(check.name) is not None)

    table.checks = [c for c in table.checks if not made_for_json(c)]
