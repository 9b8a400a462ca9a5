"""The table rebuild: how a database without full ``ALTER TABLE`` changes a table.

A provider switches it on per operation with
:meth:`~npa_migrations.provider.SqlGenerator.needs_rebuild`; the planner
(:func:`~npa_migrations.engine.planner.plan_steps`) then makes each run of consecutive
operations on one table's columns and constraints, of which at least one needs it, one
:class:`RebuildStep`. When that step runs, :class:`TableRebuild` does, inside the
migration's transaction (never ending it):

1. ``RENAME COLUMN`` in place for columns the operations rename (the provider's
   ``sql_rename_column``), so the database rewrites what mentions them;
2. reads the table through SQLAlchemy's inspector on the migration's own connection
   (:meth:`~npa_migrations.provider.SqlGenerator.reflect_rebuild_table`) and applies the
   operations to that :class:`TableShape`;
3. checks the rows fit the new definition (NULLs in a column made NOT NULL, duplicates
   under a new key) and fails with a message naming the table and the values;
4. ``CREATE TABLE "_npa_tmp_<table>"`` compiled by SQLAlchemy for the dialect;
5. ``INSERT INTO "_npa_tmp_<table>" (...) SELECT ... FROM <table>``;
6. ``DROP TABLE <table>``, then renames the copy to the table's name
   (:meth:`~npa_migrations.provider.SqlGenerator.rebuild_rename`);
7. re-creates the indexes and triggers;
8. reads the table back and fails unless its columns and primary key are what the
   operations asked for.

Any failure fails the migration, whose transaction rolls back: the table is left as it
was. What only a dialect knows goes through ``SqlGenerator`` methods, each with a
portable default (:meth:`~npa_migrations.provider.SqlGenerator.prepare_rebuilt_table`,
:meth:`~npa_migrations.provider.SqlGenerator.rebuild_prologue`,
:meth:`~npa_migrations.provider.SqlGenerator.rebuild_epilogue`, ...); npa-sqlite's
overrides are the example.

Offline (``--sql --offline``) the new definition is derived from the schema the
migrations build instead of the live table (:mod:`.model`): the :class:`TableShape` is
plain data, so either source feeds the same procedure; the checks that read rows are left
to the database's own constraints, and provider hooks see ``rebuild.offline``.
"""

from __future__ import annotations

from importlib import import_module

#: where each public name lives; imported when first asked for (:func:`__getattr__`)
_EXPORTS = {"column_is_used": "changes", "SAMPLE_ROWS": "procedure", "TableRebuild": "procedure",
            "reflect_table": "reflect", "ColumnShape": "shape", "ConstraintShape": "shape",
            "IndexShape": "shape", "TableShape": "shape", "TriggerShape": "shape",
            "RebuildStep": "step", "offline_error": "step", "rebuild_step": "step"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    """A public name, from its module on first use: every provider's SQL generator
    imports :mod:`.hooks` (so this package) on every run, while the procedure, the shapes
    and the planner's step are needed only by a migration that rebuilds a table."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from .changes import column_is_used
    from .procedure import SAMPLE_ROWS, TableRebuild
    from .reflect import reflect_table
    from .shape import ColumnShape, ConstraintShape, IndexShape, TableShape, TriggerShape
    from .step import RebuildStep, offline_error, rebuild_step
