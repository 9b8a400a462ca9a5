"""The table to rebuild, read from the schema the migrations build instead of the
database: how an offline script (``--sql --offline``) writes a rebuild.

The schema model (:mod:`npa_migrations.schema.model`) replays the migrations' operations,
so it knows each table they created -- columns with their SQLAlchemy types, keys,
constraints, indexes -- and the triggers raw SQL put on it. :func:`shape_from_model`
turns one table of it into the :class:`~.shape.TableShape` the rebuild procedure works
on. A table the model does not know fully (raw SQL changed it, or no migration created
it), or whose SQL text (a CHECK, a partial index's predicate, a trigger) may still name
a column by a name it no longer has, cannot be rebuilt offline: the error says to render
the script against the database instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ...schema.model import UNKNOWN, fold
from .shape import ColumnShape, ConstraintShape, IndexShape, TableShape, TriggerShape

if TYPE_CHECKING:  # pragma: no cover
    from ...schema.model import TableModel
    from .procedure import TableRebuild

#: what the error says to do instead
ONLINE = ("Render the script against the database instead (the same --sql command "
          "without --offline), which reads the live table.")


def shape_from_model(rebuild: "TableRebuild", table: "TableModel",
                     renames: Iterable[tuple[str, str]] = ()) -> TableShape:
    """The table of the schema model as a :class:`TableShape`, after the in-place column
    ``renames`` of the rebuild (``(old, new)`` pairs, in order)."""
    import sqlalchemy as sa

    sql = rebuild.sql
    if not table.fully_known:
        notes = "; ".join(table.notes) or "it was not created by a migration"
        raise rebuild.error(f"the migrations do not say all of the table ({notes}), so its "
                            f"rebuild cannot be written offline. {ONLINE}")
    columns = []
    for model in table.columns.values():
        if model.type is UNKNOWN:
            raise rebuild.error(f"the type of column '{model.name}' is not known. {ONLINE}")
        default = None if model.default in (None, UNKNOWN) else sql.render_default(model.default)
        columns.append(ColumnShape(model.name, model.type, bool(model.nullable), default,
                                   model.computed, source=model.name,
                                   was_nullable=bool(model.nullable)))
    shape = TableShape(table.name, table.schema, columns)

    def column(name: str) -> ColumnShape:
        found = shape.column(name)
        if found is None:
            raise rebuild.error(f"a key or constraint names column '{name}', which the "
                                f"table does not have. {ONLINE}")
        return found

    if table.primary_key:
        shape.constraints.append(ConstraintShape(
            "primary", table.primary_key_name, [column(c) for c in table.primary_key]))
    for unique in table.uniques:
        shape.constraints.append(ConstraintShape("unique", unique.name,
                                                 [column(c) for c in unique.columns]))
    for check in table.checks:
        shape.constraints.append(ConstraintShape("check", check.name, sqltext=check.sqltext))
    for fk in table.foreign_keys:
        self_ref = rebuild.is_this_table(fk.referred_table, fk.referred_schema)
        shape.constraints.append(ConstraintShape(
            "foreignkey", fk.name, [column(c) for c in fk.columns],
            referent=fk.referred_table, referent_schema=fk.referred_schema,
            remote=[column(c) if self_ref else c for c in fk.referred_columns],
            ondelete=fk.ondelete, onupdate=fk.onupdate))
    where_option = f"{sql.ddl_dialect.name}_where"
    for index in table.indexes.values():
        uses = {fold(c) for c in index.columns} | (sql.names_in_sql(index.where)
                                                    if index.where else set())
        shape.indexes.append(IndexShape(
            index.name, list(index.columns), bool(index.unique),
            dialect_options={where_option: sa.text(index.where)} if index.where else {},
            uses=uses))
    shape.triggers = [TriggerShape(name, text, sql.names_in_sql(text))
                      for name, text in table.triggers.items()]
    _follow_renames(rebuild, shape, table, list(renames))
    return shape


def _follow_renames(rebuild: "TableRebuild", shape: TableShape, table: "TableModel",
                    renames: list[tuple[str, str]]) -> None:
    """Give the shape's columns the names the in-place renames gave them; refuse when SQL
    text the shape re-creates may name a column by a name it no longer has."""
    former = set(table.renamed_columns) | {fold(old) for old, _ in renames}
    names_in = rebuild.sql.names_in_sql
    texts = [(c.describe(), c.sqltext) for c in shape.constraints if c.kind == "check"]
    texts += [(f"index '{i.name}'", str(next(iter(i.dialect_options.values()))))
              for i in shape.indexes if i.dialect_options]
    texts += [(f"trigger '{t.name}'", t.sql) for t in shape.triggers]
    texts += [(f"generated column '{c.name}'", c.computed[0]) for c in shape.columns
              if c.computed]
    for what, text in texts:
        stale = sorted(former & names_in(text or ""))
        if stale:
            raise rebuild.error(
                f"the SQL of {what} ({text}) names column(s) {', '.join(stale)}, which a "
                f"migration renamed; the database rewrote it, the migrations do not say "
                f"how. {ONLINE}")
    for old, new in renames:
        column = shape.column(old)
        if column is not None:
            column.name = column.source = new
        for index in shape.indexes:
            index.columns = [new if fold(c) == fold(old) else c for c in index.columns]
            index.uses = {fold(new) if u == fold(old) else u for u in index.uses}
