"""The table-rebuild methods of :class:`~npa_migrations.provider.SqlGenerator`: where a
provider switches the rebuild on and tells it what only its dialect knows.

Every method has a portable default, so a provider whose database lacks some
``ALTER TABLE`` forms overrides :meth:`RebuildHooks.needs_rebuild` and nothing else
until its tests show a quirk (npa-sqlite's overrides are the worked example).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ... import operations as ops

if TYPE_CHECKING:  # pragma: no cover
    from ...statements import Statement
    from ...sqltext import Lexicon
    from ..context import RenderContext
    from .procedure import TableRebuild
    from .shape import TableShape

#: a bare word that is not a function call
_WORD = re.compile(r"[^\W\d]\w*\b(?!\s*\()")


class RebuildHooks:
    """Mixed into :class:`~npa_migrations.provider.SqlGenerator`; see
    :mod:`npa_migrations.provider.rebuild` for the procedure these methods serve."""

    def needs_rebuild(self, operation: ops.MigrationOperation) -> bool:
        """Whether the database can do ``operation`` only by rebuilding its table. The
        planner makes each run of consecutive column and constraint operations on one
        table (``add_column``, ``drop_column``, ``alter_column``, ``rename_column``,
        ``create_*`` constraints, ``drop_constraint``) that holds such an operation one
        table rebuild; the other operations of the run ride along. ``False`` by default:
        every operation is rendered on its own by ``sql_<kind>``."""
        return False

    def names_in_sql(self, sql: str) -> set[str]:
        """The names an SQL expression (a CHECK condition, a generated column's or an
        index's expression) mentions, folded (``str.casefold``): quoted names, and bare
        words not followed by ``(``. A rebuild drops what mentions a dropped column.
        The default reads quotes with the generator's ``lexicon``."""
        from ...schema.model import fold
        from ...schema.sqlscan import unquote
        from ...sqltext import BRACKETS, PORTABLE, QUOTED, mask, tokens

        lexicon = self.lexicon or (BRACKETS if self.bracket_identifiers else PORTABLE)
        found = {fold(unquote(sql[start:end])) for kind, start, end in tokens(sql, lexicon)
                 if kind == QUOTED}
        return found | {fold(word) for word in _WORD.findall(mask(sql, lexicon))}

    if TYPE_CHECKING:  # provided by the SqlGenerator this class is a base of
        lexicon: "Lexicon | None"
        bracket_identifiers: bool

        def sql_rename_table(self, op: ops.RenameTable, ctx: "RenderContext") -> list[str]: ...

    def reflect_rebuild_table(self, rebuild: "TableRebuild") -> "TableShape":
        """Read the table ``rebuild`` changes (``rebuild.table`` in ``rebuild.schema``,
        on ``rebuild.conn``). The default is what SQLAlchemy's inspector reports
        (:func:`~npa_migrations.provider.rebuild.reflect_table`); override it to correct
        what the dialect's reflection misses (npa-sqlite reads constraint names, CHECK
        bodies, collations and stored index and trigger definitions from
        ``sqlite_master``)."""
        from .reflect import reflect_table

        return reflect_table(rebuild)

    def prepare_rebuilt_table(self, rebuild: "TableRebuild", table: "TableShape") -> None:
        """Adjust the new definition once the operations are applied, before its
        ``CREATE TABLE`` is compiled: dialect table options (``table.options``) that
        depend on the result, hidden columns the copy keeps (``table.copied_hidden``).
        Nothing by default."""

    def rebuild_prologue(self, rebuild: "TableRebuild", table: "TableShape"
                         ) -> "list[Statement]":
        """Statements run before the new table is created (session settings the copy
        needs), or an error raised when the database's state forbids the rebuild. Called
        before any statement of the rebuild runs, like :meth:`rebuild_epilogue`: read
        what you need from the database now. None by default."""
        return []

    def rebuild_rename(self, rebuild: "TableRebuild") -> "list[Statement]":
        """The statements that give the filled copy (``rebuild.tmp``) the table's name
        (``rebuild.table``) once the old table is dropped. Default: ``sql_rename_table``.
        """
        from ...statements import Statement
        from ..context import RenderContext

        rename = ops.RenameTable(rebuild.tmp, rebuild.table, schema=rebuild.schema)
        return [Statement(s) for s in self.sql_rename_table(rename, RenderContext(rebuild.conn))]

    def rebuild_epilogue(self, rebuild: "TableRebuild", table: "TableShape"
                         ) -> "list[Statement]":
        """Statements run after the indexes and triggers are re-created: restoring state
        the old table held, undoing :meth:`rebuild_prologue`'s settings, and checks (a
        ``Statement`` with a ``check`` fails the migration on what it returns, e.g.
        SQLite's ``PRAGMA foreign_key_check``). None by default."""
        return []
