"""Drops and adds that look like renames.

Autogenerate cannot know that a column (table) the models lack and a new one are the
same thing renamed: it writes the drop and the add, which make the schema match. When
they look alike -- the same type, similar columns -- the pair is flagged: the drop moves
next to the add, a ``REVIEW`` comment says that rows are lost as written, and the rename
is offered as commented-out code.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Callable, TypeVar

from .. import operations as ops
from .changes import Change
from .model import fold

if TYPE_CHECKING:  # pragma: no cover
    from .compare import Comparator

Op = TypeVar("Op", bound=ops.MigrationOperation)


def pair_renames(changes: list[Change], comparator: "Comparator") -> None:
    """Flag, in place, each dropped table (column) and new one that look alike: the drop
    moves into the change that creates (adds), with a ``REVIEW`` note, and the rename is
    its commented alternative. ``comparator`` tells whether two column types are the
    same."""
    drops = [c for c in changes if c.up and isinstance(c.up[0], ops.DropTable)]
    creates = [c for c in changes if c.up and isinstance(c.up[0], ops.CreateTable)]
    for drop, create in _pairs(drops, creates, _table_likeness):
        old, new = _first(drop, ops.DropTable), _first(create, ops.CreateTable)
        _merge(changes, drop, create, ops.RenameTable(old.table, new.table, schema=old.schema),
               f"table '{_show(old.schema, old.table)}' is not in the models and "
               f"'{new.table}' is new with similar columns: this looks like a rename. "
               f"As written, '{old.table}' is dropped with its rows and '{new.table}' is "
               "created empty. To keep the rows, use the rename below instead of the calls "
               "of this step, then generate again for what still differs:")
    drops = [c for c in changes if c.up and isinstance(c.up[0], ops.DropColumn)]
    adds = [c for c in changes if c.up and isinstance(c.up[0], ops.AddColumn)]

    def column_likeness(drop: Change, add: Change) -> float:
        old, new = _undone(drop, ops.AddColumn), _first(add, ops.AddColumn)
        if (fold(old.table), fold(old.schema)) != (fold(new.table), fold(new.schema)):
            return 0.0
        if not comparator.same_type(old.column.type, new.column.type)[0]:
            return 0.0
        # the same type is enough to flag it; the more alike the names, the better the pair
        return 0.5 + difflib.SequenceMatcher(None, fold(old.column.name),
                                             fold(new.column.name)).ratio() / 2

    for drop, add in _pairs(drops, adds, column_likeness):
        gone, added = _first(drop, ops.DropColumn), _first(add, ops.AddColumn)
        _merge(changes, drop, add, ops.RenameColumn(gone.table, gone.column_name,
                                                    added.column.name, schema=gone.schema),
               f"column '{_show(gone.schema, gone.table)}.{gone.column_name}' is not in the "
               f"models and '{added.column.name}' is new with the same type: this looks like a "
               "rename. As written, the column is dropped with its values. To keep them, use "
               "the rename below instead of the calls of this step, then generate again for "
               "what still differs:")


def _first(change: Change, kind: type[Op]) -> Op:
    """The first ``up`` operation of ``change``, which was picked for being a ``kind``."""
    operation = change.up[0]
    assert isinstance(operation, kind)
    return operation


def _undone(change: Change, kind: type[Op]) -> Op:
    """The first ``down`` operation of ``change``, known to be a ``kind``."""
    operation = change.down[0]
    assert isinstance(operation, kind)
    return operation


def _merge(changes: list[Change], drop: Change, create: Change,
           rename: ops.RenameTable | ops.RenameColumn, review: str) -> None:
    create.up += drop.up
    create.down = drop.down + create.down
    create.review.insert(0, review)
    create.commented_up = [rename]
    create.commented_down = [rename.reverse()]
    create.differences += drop.differences
    changes.remove(drop)


def _table_likeness(drop: Change, create: Change) -> float:
    """How many columns the two tables share, of all their columns (same schema only)."""
    old, new = _first(drop, ops.DropTable), _first(create, ops.CreateTable)
    if fold(old.schema) != fold(new.schema):
        return 0.0
    before = {fold(c.name) for c in _undone(drop, ops.CreateTable).columns}
    after = {fold(c.name) for c in new.columns}
    return len(before & after) / len(before | after) if before | after else 0.0


def _pairs(drops: list[Change], creates: list[Change],
           likeness: Callable[[Change, Change], float], threshold: float = 0.5
           ) -> list[tuple[Change, Change]]:
    """The most alike (drop, create) pairs, each change in at most one pair."""
    scored = sorted(((likeness(d, c), n, m) for n, d in enumerate(drops)
                     for m, c in enumerate(creates)), key=lambda s: (-s[0], s[1], s[2]))
    taken_d: set[int] = set()
    taken_c: set[int] = set()
    pairs = []
    for score, n, m in scored:
        if score < threshold or n in taken_d or m in taken_c:
            continue
        taken_d.add(n)
        taken_c.add(m)
        pairs.append((drops[n], creates[m]))
    return pairs


def _show(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table
