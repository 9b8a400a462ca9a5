"""Reading the table to rebuild with SQLAlchemy's inspector, on the migration's own
connection and inside its open transaction, so the rebuild sees what the earlier
statements of the migration did and never ends the transaction (the inspector borrows
the DB-API connection through :func:`~npa_migrations.schema.live.reflection_engine`,
whose commit, rollback and close do nothing).

This is the portable reading: whatever the dialect's reflection reports. A provider
whose reflection misses facts corrects the result in
:meth:`~npa_migrations.provider.SqlGenerator.reflect_rebuild_table`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Callable

from ...schema.model import fold
from .shape import ColumnShape, ConstraintShape, IndexShape, TableShape

if TYPE_CHECKING:  # pragma: no cover

    from .procedure import TableRebuild


def reflect_table(rebuild: "TableRebuild", *, uniques: bool = True, checks: bool = True,
                  indexes: bool = True) -> TableShape:
    """The live table of ``rebuild`` as the dialect's reflection reports it: columns,
    primary key, unique, check and foreign key constraints, indexes and table options.
    Triggers are not reflected (SQLAlchemy has no API for them). A provider that reads
    unique or check constraints or indexes its own way passes ``False`` for them, so the
    dialect's reading of them is neither asked for nor trusted."""
    import sqlalchemy as sa

    inspector = rebuild.inspector()
    kw = {"schema": rebuild.schema}
    names_in = rebuild.sql.names_in_sql

    def read(wanted: bool, method: Callable[..., Any], empty: Any) -> Any:
        return (_read(method, rebuild.table, **kw) or empty) if wanted else empty

    with warnings.catch_warnings():
        # unknown types, expression indexes: read what can be read
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        reflected = read(True, inspector.get_columns, [])
        pk = read(True, inspector.get_pk_constraint, {})
        unique_info = read(uniques, inspector.get_unique_constraints, [])
        check_info = read(checks, inspector.get_check_constraints, [])
        fks = read(True, inspector.get_foreign_keys, [])
        index_info = read(indexes, inspector.get_indexes, [])
        options = read(True, inspector.get_table_options, {})

    columns = []
    for info in reflected:
        computed = info.get("computed")
        columns.append(ColumnShape(
            info["name"], info["type"], bool(info["nullable"]), info.get("default"),
            (str(computed["sqltext"]), computed.get("persisted")) if computed else None,
            source=info["name"], was_nullable=bool(info["nullable"])))
    table = TableShape(rebuild.table, rebuild.schema, columns, options=dict(options))

    def column(name: str) -> ColumnShape:
        found = table.column(name)
        if found is None:
            raise rebuild.error(f"reflection reports a constraint on column '{name}', "
                                "which the table does not have.")
        return found

    if pk.get("constrained_columns"):
        table.constraints.append(ConstraintShape(
            "primary", pk.get("name"), [column(c) for c in pk["constrained_columns"]]))
    for unique in unique_info:
        table.constraints.append(ConstraintShape(
            "unique", unique.get("name"), [column(c) for c in unique["column_names"]]))
    for check in check_info:
        table.constraints.append(ConstraintShape("check", check.get("name"),
                                                 sqltext=check["sqltext"]))
    for fk in fks:
        table.constraints.append(foreign_key_shape(rebuild, table, fk, column))
    unique_names = {fold(u.get("name")) for u in unique_info if u.get("name")}
    for index in index_info:
        if (not index.get("name") or index.get("duplicates_constraint")
                or fold(index["name"]) in unique_names):
            continue  # the index behind a unique constraint comes back with it
        plain = [c for c in index.get("column_names") or [] if c is not None]
        expressions = [str(e) for e, c in zip(index.get("expressions") or [],
                                              index.get("column_names") or []) if c is None]
        uses = {fold(c) for c in plain}
        for text in expressions + [str(v) for v in (index.get("dialect_options") or {})
                                   .values() if isinstance(v, str) or hasattr(v, "compile")]:
            uses |= names_in(text)  # expressions and a partial index's WHERE
        table.indexes.append(IndexShape(
            index["name"], plain, bool(index.get("unique")), expressions,
            dict(index.get("dialect_options") or {}), uses=uses))
    return table


def foreign_key_shape(rebuild: "TableRebuild", table: TableShape, fk: dict[str, Any],
                      column: Callable[[str], ColumnShape]) -> ConstraintShape:
    """A reflected foreign key (SQLAlchemy's ``get_foreign_keys`` entry) as a constraint
    of ``table``; a key referencing the table itself points at its columns."""
    referent = fk["referred_table"]
    if not fk["referred_columns"]:
        raise rebuild.error(
            f"the foreign key on ({', '.join(fk['constrained_columns'])}) references table "
            f"'{referent}', which does not exist, without naming its columns; the rebuild "
            "cannot restate it. Drop that foreign key first.")
    self_ref = rebuild.is_this_table(referent, fk.get("referred_schema"))
    options = fk.get("options") or {}
    return ConstraintShape(
        "foreignkey", fk.get("name"), [column(c) for c in fk["constrained_columns"]],
        referent=referent, referent_schema=fk.get("referred_schema"),
        remote=[column(c) if self_ref else c for c in fk["referred_columns"]],
        ondelete=options.get("ondelete"), onupdate=options.get("onupdate"),
        deferrable=options.get("deferrable"), initially=options.get("initially"))


def _read(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One inspector call; ``None`` where the dialect does not implement it."""
    try:
        return method(*args, **kwargs)
    except NotImplementedError:
        return None
