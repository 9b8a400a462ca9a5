"""Writing a squashed migration (``npa migrate squash FROM TO NAME``).

A squash is one Python migration that stands for a run of older ones
(:mod:`npa_migrations.engine.squash` says how databases see it). Its ``up()`` replays the
builder operations of the replaced migrations, oldest first, and its ``down()`` their
``down()`` operations, newest first -- the same operations, so it does exactly what they
did, written back as builder calls by :class:`~npa_migrations.schema.codegen.PythonWriter`.
It takes the timestamp of the newest replaced migration, so it sorts where they did, and
declares ``replaces`` and the dependencies they had outside the range.

Only builder operations can be written back: a migration of the range that is a ``.sql``
file or calls ``b.execute()`` (raw SQL), streams ``bulk_insert`` rows, inserts values
other than text, numbers, booleans and ``NULL``, uses an operation a plugin added, is
repeatable or is itself a squash is refused, named with the reason. After writing, the
file is loaded again and must give the same operations, or nothing is kept.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import operations as ops
from ..errors import ConfigurationError
from .codegen import PythonWriter

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from ..provider.base import BaseProvider

#: the row values a squashed ``bulk_insert`` can write as Python literals
_LITERALS = (str, int, float, bool, type(None))


@dataclass
class Squash:
    """A squashed migration to write.

    :ivar migration_id: its id, ``<timestamp of the newest replaced>_<ClassName>``.
    :ivar class_name: its class name.
    :ivar replaced: the migrations it replaces, in run order.
    """

    migration_id: str
    class_name: str
    replaced: list["MigrationScript"]

    @property
    def depends_on(self) -> list[str]:
        """Dependencies of the replaced migrations on migrations outside the range."""
        inside = {s.id for s in self.replaced}
        found: list[str] = []
        for script in self.replaced:
            found += [d for d in script.depends_on if d not in inside and d not in found]
        return found

    def up_operations(self) -> list[ops.MigrationOperation]:
        """Every replaced migration's ``up`` operations, oldest first."""
        return [op for script in self.replaced for op in script.up_operations()]

    def down_operations(self) -> list[ops.MigrationOperation] | None:
        """Every replaced migration's ``down`` operations, newest first; ``None`` when one
        of them cannot be rolled back."""
        operations: list[ops.MigrationOperation] = []
        for script in reversed(self.replaced):
            down = script.down_operations()
            if down is None:
                return None
            operations += down
        return operations


def choose(scripts: list["MigrationScript"], start: str, end: str, class_name: str) -> Squash:
    """The squash of the migrations from ``start`` to ``end`` (full ids, both included)
    of ``scripts`` (in run order), refused with every reason when one of them cannot be
    written back as builder operations."""
    ids = [s.id for s in scripts]
    first, last = ids.index(start), ids.index(end)
    if last <= first:
        raise ConfigurationError(
            f"TO ({end}) must come after FROM ({start}): a squash replaces at least two "
            "migrations, FROM to TO in run order.")
    replaced = scripts[first:last + 1]
    problems = [f"{s.id} ({s.source}): {why}" for s in replaced for why in _problems(s)]
    if problems:
        raise ConfigurationError(
            "Cannot squash: only builder operations can be written into a squashed "
            "migration, and\n  " + "\n  ".join(problems) + "\nSquash a range without them "
            "(they can stay as they are, before or after the squash). Nothing was written.")
    migration_id = f"{scripts[last].timestamp}_{class_name}"
    if migration_id in ids:
        raise ConfigurationError(f"A migration {migration_id} exists already; choose another "
                                 "NAME.")
    return Squash(migration_id, class_name, replaced)


def _problems(script: "MigrationScript") -> list[str]:
    if script.repeatable:
        return ["it is repeatable"]
    if script.replaces:
        return ["it is itself a squash"]
    if script.source.endswith(".sql"):
        return ["it is a .sql file: raw SQL cannot be written as builder operations"]
    found = []
    for direction, operations in (("up", script.up_operations()),
                                  ("down", script.down_operations() or [])):
        for op in operations:
            if isinstance(op, ops.Execute):
                found.append(f"its {direction}() runs raw SQL (b.execute())")
            elif isinstance(op, ops.BulkInsert) and not isinstance(op.rows, (list, tuple)):
                found.append(f"its {direction}() streams bulk_insert rows")
            elif isinstance(op, ops.BulkInsert) and any(
                    not isinstance(v, _LITERALS) for row in op.rows for v in row.values()):
                found.append(f"its {direction}() inserts values other than text, numbers, "
                             "booleans and None")
            elif not hasattr(PythonWriter, f"_{op.kind}"):
                found.append(f"its {direction}() uses operation '{op.kind}', which cannot "
                             "be written back")
    return list(dict.fromkeys(found))


def render(squash: Squash, provider: "BaseProvider") -> str:
    """The Python source of the squashed migration."""
    writer = PythonWriter(provider)

    def body(operations: list[ops.MigrationOperation]) -> list[str]:
        lines = [line for op in operations for line in writer.operation(op)]
        return [f"        {line}".rstrip() for line in lines] or ["        pass"]

    replaced = squash.replaced
    transactional = all(s.transactional for s in replaced)
    down = squash.down_operations()
    doc = textwrap.fill(
        f"{squash.class_name}: the squash of {len(replaced)} migrations, "
        f"{replaced[0].id} to {replaced[-1].id}, written by 'npa migrate squash'. A "
        "database that applied them all counts it as applied; a fresh database runs only "
        "it. Delete the replaced files once every database has applied them.", width=88)
    if down is None:
        doc += "\n\nIrreversible: a migration it replaces has no down()."
    up = body(squash.up_operations())
    down_lines = body(down) if down is not None else []
    imports = ["import sqlalchemy as sa"] + sorted(
        i for i in writer.imports if i.startswith("from ")) + sorted(
        i for i in writer.imports if i.startswith("import "))
    head = [f"    id = {writer.literal(squash.migration_id)}",
            f"    replaces = {writer.literal(tuple(s.id for s in replaced))}"]
    if squash.depends_on:
        head.append(f"    depends_on = {writer.literal(tuple(squash.depends_on))}")
    if not transactional:
        head.append("    transactional = False")
    out = [f'"""{doc}\n"""', "", *imports, "", "from npa_migrations import Migration", "",
           "", f"class {squash.class_name}(Migration):", *head, "", "    def up(self, b):",
           *up]
    if down is not None:
        out += ["", "    def down(self, b):", *down_lines]
    return "\n".join(out) + "\n"
