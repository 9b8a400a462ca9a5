"""The step the planner makes of operations that rebuild one table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Sequence

from ... import operations as ops
from ...errors import ConfigurationError
from ...statements import Statement, Step

if TYPE_CHECKING:  # pragma: no cover
    from ..base import BaseProvider
    from ..context import RenderContext


class RebuildStep(Step):
    """A :class:`~npa_migrations.statements.Step` that rebuilds one table for one or more
    operations; its statements are produced from the live table when it runs."""

    def describe(self) -> str:
        """``Rebuilding table 't': <each operation's line>``."""
        _, table = self.operations[0].tables()[0]
        return f"Rebuilding table '{table}': " + "; ".join(
            op.describe() for op in self.operations)


def rebuild_step(provider: "BaseProvider", operations: Sequence[ops.TableShapeOperation]
                 ) -> RebuildStep:
    """One step that rebuilds the table of ``operations`` (consecutive operations on one
    table) with :class:`~npa_migrations.provider.rebuild.TableRebuild`."""
    from .procedure import TableRebuild

    operations = tuple(operations)

    def render(context: "RenderContext") -> Iterator[Statement]:
        if context.connection is None and context.schema is None:
            raise offline_error(provider, operations)
        return TableRebuild(provider, context.connection, operations,
                            model=context.schema).statements()

    return RebuildStep(operations, render, live=True)


def offline_error(provider: "BaseProvider", operations: Sequence[ops.TableShapeOperation]
                  ) -> ConfigurationError:
    """Why a rebuild cannot be rendered without a database, and what to run instead."""
    table = operations[0].table
    what = "; ".join(op.describe() for op in operations)
    return ConfigurationError(
        f"Cannot render the {provider.name} rebuild of table '{table}' ({what}) without "
        "the database or the schema the migrations build. Render it within a migration "
        "script ('npa migrate up --sql --offline' replays the migrations), or without "
        "--offline against the database, which rehearses the run in a transaction that "
        "is rolled back, so nothing is changed.")
