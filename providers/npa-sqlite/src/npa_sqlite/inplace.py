"""Which operations SQLite's ``ALTER TABLE`` does in place, and which only the core's
table rebuild can do (:mod:`npa_sqlite.rebuild`).

The planner asks about every operation of every run, while the rebuild's quirks are
needed only when a migration rebuilds a table; kept apart, a run that rebuilds nothing
never imports the rebuild (its procedure, its shapes and SQLite's tokenizer).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from npa_migrations import operations as ops

if TYPE_CHECKING:  # pragma: no cover
    from .provider import SqliteSql

_CONSTANT = re.compile(
    r"""^\s*(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|'(?:[^']|'')*'|NULL|TRUE|FALSE
    |[xX]'[0-9A-Fa-f]*')\s*$""", re.VERBOSE | re.IGNORECASE)


def needs_rebuild(operation: ops.MigrationOperation, sql: "SqliteSql") -> bool:
    """Whether SQLite can only do ``operation`` by rebuilding its table: constraint
    changes, a column's type / nullability / default, and an ``add_column`` that
    ``ADD COLUMN`` cannot do. ``drop_column`` is decided when it runs
    (:func:`npa_sqlite.rebuild.drop_column_rebuild`)."""
    if isinstance(operation, (ops.AddConstraint, ops.DropConstraint)):
        return True
    if isinstance(operation, ops.AlterColumn):
        return operation.changes_definition
    if isinstance(operation, ops.AddColumn):
        return not _addable_in_place(operation.column, sql)
    return False


def _addable_in_place(column: Any, sql: "SqliteSql") -> bool:
    """SQLite's ``ADD COLUMN`` limits: no PRIMARY KEY or UNIQUE, a constant default, a
    non-NULL default when NOT NULL, no STORED generated column. Foreign keys and CHECK
    constraints declared on the column are table constraints to SQLAlchemy, which a plain
    ``ADD COLUMN`` would leave out, so they take the rebuild too."""
    if column.primary_key or column.unique or column.foreign_keys or column.constraints:
        return False
    if column.computed is not None:
        return not column.computed.persisted
    if column.server_default is None:
        return bool(column.nullable)
    text = sql.render_default(column.server_default).strip()
    if text.upper() == "NULL":
        return bool(column.nullable)
    return bool(_CONSTANT.match(text))
