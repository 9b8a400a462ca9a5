"""Autogenerate: the operations that bring the schema the migrations build to the schema
an application's SQLAlchemy models declare (``npa migrate new --autogenerate`` and
``npa migrate check``).

1. The *current* schema: the ``up`` operations of every migration replayed on a
   :class:`~npa_migrations.schema.model.SchemaModel` -- no database needed -- or, with
   ``database=True``, the live schema read by reflection.
2. The *target* schema: the models' ``MetaData``
   (:meth:`~npa_migrations.schema.model.SchemaModel.from_metadata`).
3. The :class:`~npa_migrations.schema.compare.Comparator` finds what differs -- the
   same comparison as ``npa migrate drift --model`` -- and each
   :class:`~npa_migrations.schema.compare.Difference` becomes a
   :class:`~npa_migrations.schema.changes.Change`: its ``up`` operations (written by
   :mod:`npa_migrations.schema.declare`), the ``down`` operations that undo them, and
   what a reviewer must decide (a type change that may lose data, a NOT NULL column added
   to a table that may have rows; a drop and an add that look like a rename:
   :mod:`npa_migrations.schema.renames`).
4. The changes are ordered so that every operation finds what it needs
   (:class:`~npa_migrations.schema.changes.Phase`): foreign keys are created after their
   tables and dropped before them.

Where raw SQL left the current schema unknown, the tables concerned are listed under
:attr:`AutogenResult.not_compared` instead of being guessed. The Python source of the
migration is written by :mod:`npa_migrations.schema.codegen`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .. import operations as ops
from ..errors import ConfigurationError
from .changes import Change, Phase, ordered
from .compare import Comparator, Difference
from .declare import Declarer, by_columns, generated_name
from .drift import engine_tables, load_model
from .model import UNKNOWN, ColumnModel, SchemaModel, TableKey, TableModel, fold, same_name
from .renames import pair_renames
from .typechange import narrowing

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.executor import MigrationExecutor
    from ..migration import MigrationScript
    from ..provider.base import BaseProvider


#: category of a :class:`Difference` key -> the :class:`TableModel` knowledge it needs
_KNOWLEDGE = {"index": "indexes", "unique": "uniques", "foreign_key": "foreign_keys",
              "check": "checks", "primary_key": "primary_key", "column": "columns"}
#: attribute of a column difference -> the :class:`ColumnModel` field
_COLUMN_FIELDS = {"type": "type", "nullable": "nullable", "default": "default",
                  "comment": "comment"}


@dataclass
class AutogenResult:
    """What :func:`autogenerate` found.

    :ivar changes: the steps of the migration, in ``up`` order.
    :ivar differences: every difference between the two schemas (``npa migrate check``
        prints them).
    :ivar not_compared: what the current schema does not know, and why (raw SQL).
    :ivar current_from: what the current schema came from, e.g. ``"3 migrations"``.
    :ivar target_from: what the target schema came from, e.g. ``"app.models:Base"``.
    :ivar compared_with: how the report names the current side (``"the migrations"``
        or ``"the database"``).
    """

    changes: list[Change]
    differences: list[Difference]
    not_compared: list[str]
    current_from: str
    target_from: str
    compared_with: str = "the migrations"

    @property
    def up(self) -> list[ops.MigrationOperation]:
        """Every ``up`` operation, in order."""
        return [op for change in self.changes for op in change.up]

    @property
    def down(self) -> list[ops.MigrationOperation]:
        """Every ``down`` operation, in order (the changes reversed)."""
        return [op for change in reversed(self.changes) for op in change.down]

    @property
    def reviews(self) -> int:
        """How many changes carry a ``REVIEW`` comment."""
        return sum(1 for change in self.changes if change.review)

    def describe(self, difference: Difference) -> str:
        """One difference as ``npa migrate check`` prints it."""
        side = self.compared_with
        if difference.kind.startswith("missing"):
            shown = f" (models: {difference.expected})" if difference.expected else ""
            detail = f"in the models, not in {side}{shown}"
        elif difference.kind.startswith("extra"):
            shown = f" ({side[4:]}: {difference.actual})" if difference.actual else ""
            detail = f"in {side}, not in the models{shown}"
        else:
            detail = f"{side} have {difference.actual}, the models {difference.expected}"
            if side == "the database":
                detail = detail.replace("the database have", "the database has")
        return f"{difference.label} {difference.where}: {detail}"

    def lines(self) -> list[str]:
        """The human report of ``npa migrate check``."""
        if self.differences:
            out = [f"The models ({self.target_from}) differ from what {self.compared_with} "
                   f"build ({self.current_from}):" if self.compared_with == "the migrations"
                   else f"The models ({self.target_from}) differ from {self.current_from}:"]
            out += [f"  {self.describe(d)}" for d in self.differences]
        else:
            out = [f"No differences: the models ({self.target_from}) match "
                   + (f"what the migrations build ({self.current_from})."
                      if self.compared_with == "the migrations" else f"{self.current_from}.")]
        if self.not_compared:
            out.append("Not compared (the schema the migrations build cannot tell):")
            out += [f"  {line}" for line in self.not_compared]
        if self.differences:
            n = len(self.differences)
            out.append(f"{n} difference{'s' if n != 1 else ''}. Write a migration for "
                       f"{'them' if n != 1 else 'it'}: npa migrate new <Name> --autogenerate")
        return out

    def to_json(self) -> dict:
        """The ``npa migrate check --json`` document."""
        return {"models": self.target_from, "compared_with": self.current_from,
                "match": not self.differences,
                "differences": [{**d.to_json(), "message": self.describe(d)}
                                for d in self.differences],
                "not_compared": list(self.not_compared)}


# --------------------------------------------------------------------------------------
# the two schemas
# --------------------------------------------------------------------------------------

def migrations_schema(scripts: Iterable["MigrationScript"],
                      provider_names: Iterable[str] | None = None
                      ) -> tuple[SchemaModel, set[str]]:
    """The schema every migration builds (their ``up`` operations replayed in order, no
    database) and the schemas (namespaces) they create."""
    model = SchemaModel(provider_names)
    schemas: set[str] = set()
    for script in scripts:
        for operation in script.up_operations():
            if isinstance(operation, ops.CreateSchema):
                schemas.add(fold(operation.name))
            elif isinstance(operation, ops.DropSchema):
                schemas.discard(fold(operation.name))
            model.apply(operation, script.id)
    return model, schemas


def autogenerate(executor: "MigrationExecutor", model: Any, database: bool = False
                 ) -> AutogenResult:
    """The changes from the schema the executor's migrations build -- or, with
    ``database=True``, from its live database -- to ``model`` (a SQLAlchemy ``MetaData``,
    a declarative ``Base`` or a ``"module:attr"`` string naming one)."""
    metadata = load_model(model) if isinstance(model, str) else getattr(model, "metadata",
                                                                        model)
    target = SchemaModel.from_metadata(metadata, executor.provider.dialect.name)
    target_from = model if isinstance(model, str) else f"a MetaData of {len(target.tables)} tables"
    if database:
        return _against_database(executor, target, target_from)
    scripts = executor.discover()
    current, schemas = migrations_schema(scripts, executor.provider.names)
    n = len(scripts)
    source = f"{n} migration{'s' if n != 1 else ''} in {', '.join(executor.sources)}"
    return Autogenerator(executor.provider, current, target, schemas,
                         engine_tables(executor.options)).result(source, target_from)


def _against_database(executor: "MigrationExecutor", target: SchemaModel,
                      target_from: str) -> AutogenResult:
    import sqlalchemy as sa

    from .live import LiveSchemaReader

    ignore = engine_tables(executor.options)
    with executor.session(read_only=True) as session:
        if not session.connected:
            raise ConfigurationError(
                f"The database {executor.provider.display_url()} does not exist yet: there "
                "is no schema to compare the models with. Run 'npa migrate up' first, or "
                "leave out --database to compare with what the migrations build.")
        reader = LiveSchemaReader(executor.provider, session.connection, ignore)
        try:
            target.use_default_schema(reader.default_schema())
            schemas: list[str | None] = [None] + sorted({s for s, _ in target.tables if s})
            with reader.engine.connect() as connection:
                existing = {fold(s) for s in sa.inspect(connection).get_schema_names()}
            schemas = [s for s in schemas if s is None or fold(s) in existing]
            current = reader.read(schemas)
        finally:
            reader.close()
    generator = Autogenerator(executor.provider, current, target, existing, ignore,
                              live=True)
    result = generator.result(f"the database {executor.provider.display_url()}", target_from)
    result.compared_with = "the database"
    return result


# --------------------------------------------------------------------------------------
# model objects -> SQLAlchemy objects and operations
# --------------------------------------------------------------------------------------

def _inline(late: list[tuple[TableModel, Any]], table: TableModel, fk: Any) -> bool:
    """Whether ``create_table(table)`` declares the foreign key ``fk`` (not one created
    after the tables of a cycle, ``late``)."""
    return (table, fk) not in late


def _show(table: TableModel | TableKey) -> str:
    schema, name = table.key if isinstance(table, TableModel) else table
    return f"{schema}.{name}" if schema else name


# --------------------------------------------------------------------------------------
# differences -> changes
# --------------------------------------------------------------------------------------

class Autogenerator:
    """Compares a current schema with a target one and plans the changes.

    :param provider: the provider of the configured database: its SQLAlchemy dialect
        compiles types for the comparison, its identifier limit bounds generated names.
    :param current: what the migrations build (or the live schema, ``live=True``).
    :param target: what the models declare.
    :param schemas: the schemas (namespaces) that exist in the current state, folded.
    :param ignore: table names never compared (the engine's own tables).
    """

    def __init__(self, provider: "BaseProvider", current: SchemaModel, target: SchemaModel,
                 schemas: Iterable[str] = (), ignore: Iterable[str] = (), live: bool = False):
        self.provider = provider
        self.comparator = Comparator(provider)
        self.current = current
        self.target = target
        self.schemas = {fold(s) for s in schemas}
        self.ignore = list(ignore)
        self.live = live
        self.objects = Declarer(provider, live)
        self.not_compared: list[str] = [] if live else current.not_compared()

    # comparison --------------------------------------------------------------------------
    def comparable_current(self) -> SchemaModel:
        """The current schema as the comparator reads a live one: declared server
        defaults as SQL text, an unknown primary key as none (its differences are
        dropped by :meth:`knowable`)."""
        model = self.current.snapshot()
        for table in model.tables.values():
            if table.primary_key is UNKNOWN:
                table.primary_key = ()
            if self.live:
                continue
            for column in table.columns.values():
                if column.default is not UNKNOWN:
                    column.default = self.comparator.expected_default_text(column.default)
        return model

    def differences(self) -> list[Difference]:
        """What differs, without what the current schema cannot tell (those tables and
        objects go to :attr:`not_compared`)."""
        found = self.comparator.compare(self.target, self.comparable_current(), self.ignore)
        for line in self.comparator.not_compared:  # types the dialect cannot spell
            self._skip(line)
        return [d for d in found if self.knowable(d)]

    def knowable(self, difference: Difference) -> bool:
        """Whether the current schema knows enough to stand behind ``difference``."""
        schema, name, category, obj, attribute = difference.key
        table = self.current.get(name, schema)
        if category == "table":
            if difference.kind.startswith("missing"):  # in the models only
                if table is not None or self.current.open_world:
                    self._skip(f"table {_show((schema, name))}: in the models, but raw SQL "
                               "the schema model cannot read may have created it")
                    return False
                return True
            if table is None or table.maybe_absent or "columns" not in table.known:
                self._skip(f"table {_show((schema, name))}: not in the models, but its "
                           "definition is unknown (raw SQL), so it is not dropped")
                return False
            return True
        if table is None:
            return True
        if table.maybe_absent or "columns" not in table.known:
            return False  # listed by the model's own notes
        needed = _KNOWLEDGE.get(category)
        if category == "primary_key" and table.primary_key is UNKNOWN:
            return False
        if difference.kind.startswith("missing") and needed and needed not in table.known:
            return False
        if category == "column" and attribute in _COLUMN_FIELDS:
            column = table.column(obj)
            if column is not None and getattr(column, _COLUMN_FIELDS[attribute]) is UNKNOWN:
                return False
        return True

    def _skip(self, line: str) -> None:
        if line not in self.not_compared:
            self.not_compared.append(line)

    # planning ----------------------------------------------------------------------------
    def result(self, current_from: str, target_from: str) -> AutogenResult:
        """Compare, plan, and return the :class:`AutogenResult`."""
        differences = self.differences()
        return AutogenResult(self.changes(differences), differences, self.not_compared,
                             current_from, target_from)

    def changes(self, differences: list[Difference]) -> list[Change]:
        """The changes resolving ``differences``, in ``up`` order."""
        changes: list[Change] = []
        columns: dict[tuple, list[Difference]] = {}
        new_tables: list[TableModel] = []
        for difference in differences:
            schema, name, category, obj, _ = difference.key
            kind = difference.kind
            if category == "table":
                if kind.startswith("missing"):
                    new_tables.append(self.target.table(name, schema))
                else:
                    changes.append(self._drop_table(self.current.table(name, schema),
                                                    difference))
            elif category == "column" and kind in ("missing column", "extra column"):
                changes.append(self._column(difference))
            elif category == "column":
                columns.setdefault((schema, name, fold(obj)), []).append(difference)
            else:
                changes += self._object(difference)
        for group in columns.values():
            changes.append(self._alter_column(group))
        changes += self._create_tables(new_tables)
        changes += self._create_schemas(new_tables)
        pair_renames(changes, self.comparator)
        return ordered(changes, self.current)

    def _tables(self, difference: Difference) -> tuple[TableModel, TableModel]:
        """The table of a difference on one of its parts, in the target and the current
        schema (both have it)."""
        schema, name = difference.key[:2]
        return self.target.table(name, schema), self.current.table(name, schema)

    # tables ------------------------------------------------------------------------------
    def _create_tables(self, tables: list[TableModel]) -> list[Change]:
        """One ``create_table`` change per new table, in an order where each foreign key
        refers to a table that exists; a foreign key of a cycle becomes a
        ``create_foreign_key`` after all of them."""
        new = {fold(t.name): t for t in tables}
        order: list[TableModel] = []
        late: list[tuple[TableModel, Any]] = []
        visiting: set[str] = set()

        def visit(table: TableModel) -> None:
            key = fold(table.name)
            if table in order or key in visiting:
                return
            visiting.add(key)
            for fk in sorted(table.foreign_keys, key=by_columns):
                referred = new.get(fold(fk.referred_table))
                if referred is not None and referred is not table:
                    if fold(referred.name) in visiting:
                        late.append((table, fk))
                    else:
                        visit(referred)
            visiting.discard(key)
            order.append(table)

        for table in sorted(tables, key=lambda t: (t.schema or "", t.name)):
            visit(table)
        changes = []
        for table in order:
            up = self.objects.create_table(table, functools.partial(_inline, late, table))
            changes.append(Change(Phase.CREATE_TABLES, up, [ops.DropTable(table.name,
                                                                          schema=table.schema)],
                                  differences=[self._table_difference(table)],
                                  table=table.key))
        for table, fk in late:
            name = fk.name or self._name("fk", table.name, fk.columns)
            operation = self.objects.create_foreign_key(table, fk, name)
            changes.append(Change(Phase.CREATE_FOREIGN_KEYS, [operation], [operation.reverse()],
                                  table=table.key))
        return changes

    def _table_difference(self, table: TableModel) -> Difference:
        return Difference("missing table", table.display, "table", None, None, None,
                          (table.schema, table.name, "table", None, None))

    def _drop_table(self, table: TableModel, difference: Difference) -> Change:
        review = [] if table.fully_known else [
            f"raw SQL changed '{_show(table)}' in ways the schema model cannot read: down() "
            "recreates only what the migrations declare about it."]
        return Change(Phase.DROP_TABLES, [ops.DropTable(table.name, schema=table.schema)],
                      self.objects.create_table(table), review, differences=[difference],
                      table=table.key)

    def _create_schemas(self, tables: list[TableModel]) -> list[Change]:
        if not self.provider.capabilities.schemas:
            return []
        changes = []
        for schema in sorted({t.schema for t in tables if t.schema}):
            if fold(schema) in self.schemas or any(
                    same_name(s, schema) for s, _ in self.current.tables):
                continue
            changes.append(Change(
                Phase.CREATE_SCHEMAS, [ops.CreateSchema(schema)], [ops.DropSchema(schema)],
                review=[f"no migration creates the schema '{schema}' the models use. If it "
                        "exists already (created outside the migrations), delete this line "
                        "and its drop_schema in down()."]))
        return changes

    # columns -----------------------------------------------------------------------------
    def _column(self, difference: Difference) -> Change:
        target, current = self._tables(difference)
        name = difference.object_name()
        if difference.kind == "missing column":
            column = target.known_column(name)
            sa_column = self.objects.column(column)
            review = []
            if column.nullable is False and sa_column.server_default is None:
                review.append(
                    f"'{_show(target)}.{column.name}' is NOT NULL without a server default: "
                    f"adding it fails when '{_show(target)}' has rows. Give it a "
                    "server_default=, or add it nullable, fill it, then make it NOT NULL "
                    "with alter_column(nullable=False).")
            return Change(Phase.ADD_COLUMNS, [ops.AddColumn(current.name, sa_column,
                                                            schema=current.schema)],
                          [ops.DropColumn(current.name, column.name, schema=current.schema)],
                          review, differences=[difference], table=current.key)
        column = current.known_column(name)
        return Change(Phase.DROP_COLUMNS, [ops.DropColumn(current.name, column.name,
                                                          schema=current.schema)],
                      [ops.AddColumn(current.name, self.objects.column(column),
                                     schema=current.schema)],
                      differences=[difference], table=current.key)

    def _alter_column(self, group: list[Difference]) -> Change:
        target, current = self._tables(group[0])
        name = group[0].object_name()
        new, old = target.known_column(name), current.known_column(name)
        attributes = {d.key[4] for d in group}
        up: dict[str, Any] = {}
        down: dict[str, Any] = {}
        review = []
        where = f"'{_show(current)}.{old.name}'"
        if "type" in attributes:
            up["type_"], down["type_"] = new.type, old.type
            lost = narrowing(old.type, new.type)
            if lost:
                shown = next(d for d in group if d.key[4] == "type")
                review.append(f"changing the type of {where} from {shown.actual} to "
                              f"{shown.expected} may lose data {lost}: values that do not "
                              "fit make the migration fail, or are cut (MySQL without strict "
                              "mode).")
        if "nullable" in attributes:
            up["nullable"], down["nullable"] = bool(new.nullable), bool(old.nullable)
            if not new.nullable:
                review.append(f"making {where} NOT NULL fails while rows hold NULL in it: "
                              "fill them first, e.g. b.execute(\"UPDATE ... SET ... WHERE ... "
                              "IS NULL\").")
        if "default" in attributes:
            up["server_default"] = self.objects.default(new)
            down["server_default"] = self.objects.default(old)
        if "comment" in attributes:
            up["comment"], down["comment"] = new.comment, old.comment

        def alter(frm: ColumnModel, changes: dict[str, Any]) -> ops.AlterColumn:
            def known(value: Any) -> Any:
                return None if value is UNKNOWN else value

            return ops.AlterColumn(
                current.name, old.name, existing_type=known(frm.type),
                existing_nullable=known(frm.nullable),
                existing_server_default=self.objects.default(frm),
                existing_comment=known(frm.comment), schema=current.schema, **changes)

        return Change(Phase.ALTER_COLUMNS, [alter(old, up)], [alter(new, down)], review,
                      differences=group, table=current.key)

    # indexes and constraints ---------------------------------------------------------------
    def _name(self, prefix: str, table: str, columns: Iterable[str]) -> str:
        return generated_name(prefix, table, columns, self.provider.sql.max_identifier_length())

    def _object(self, difference: Difference) -> list[Change]:
        target, current = self._tables(difference)
        category = difference.key[2]
        kind = difference.kind.split(" ")[0]
        handler = {"index": self._index, "unique": self._unique,
                   "foreign_key": self._foreign_key, "check": self._check,
                   "primary_key": self._primary_key}[category]
        return handler(kind, difference, target, current)

    def _index(self, kind, difference, target, current) -> list[Change]:
        changes = []
        if kind in ("extra", "changed"):
            recreate = self.objects.create_index(current, current.index(difference.object))
            changes.append(Change(Phase.DROP_INDEXES, [recreate.reverse()], [recreate],
                                  differences=[difference], table=current.key))
        if kind in ("missing", "changed"):
            index = target.index(difference.object)
            changes.append(self._create(Phase.CREATE_INDEXES,
                                        self.objects.create_index(current, index), kind,
                                        difference, current))
        return changes

    @staticmethod
    def _create(phase: Phase, operation: Any, kind: str, difference: Difference,
                table: TableModel) -> Change:
        """Create an index or constraint (``down``: its reverse, a drop); for a changed
        one, the drop that comes first carries the difference."""
        return Change(phase, [operation], [operation.reverse()],
                      differences=[] if kind == "changed" else [difference], table=table.key)

    def _unique(self, kind, difference, target, current) -> list[Change]:
        old = _find(current.uniques, difference.object, _unique_label) \
            if kind != "missing" else None
        new = _find(target.uniques, difference.object, _unique_label) if kind != "extra" else None
        return self._key(kind, difference, current, ops.CreateUniqueConstraint,
                         old and (old.name, old.columns),
                         new and (new.name or self._name("uq", current.name, new.columns),
                                  new.columns))

    def _foreign_key(self, kind, difference, target, current) -> list[Change]:
        changes = []
        new = _find(target.foreign_keys, difference.object, _fk_label) \
            if kind != "extra" else None
        if kind in ("extra", "changed"):
            old = _find(current.foreign_keys, difference.object, _fk_label)
            if old is None and new is not None:  # matched by shape: unnamed on one side
                old = next(f for f in current.foreign_keys
                           if [fold(c) for c in f.columns] == [fold(c) for c in new.columns])
            changes.append(self._drop_constraint(
                current, old.name, "foreignkey", difference, Phase.DROP_FOREIGN_KEYS,
                self.objects.create_foreign_key(current, old, old.name or "NAME")))
        if new is not None:
            name = new.name or self._name("fk", current.name, new.columns)
            changes.append(self._create(Phase.CREATE_FOREIGN_KEYS,
                                        self.objects.create_foreign_key(current, new, name),
                                        kind, difference, current))
        return changes

    def _check(self, kind, difference, target, current) -> list[Change]:
        name = difference.object
        if kind == "missing":
            check = _find(target.checks, name, lambda c: c.name)
            return [self._create(Phase.CREATE_INDEXES,
                                 ops.CreateCheckConstraint(name, current.name, check.sqltext,
                                                           schema=current.schema),
                                 kind, difference, current)]
        check = _find(current.checks, name, lambda c: c.name)
        return [self._drop_constraint(current, name, "check", difference, Phase.DROP_KEYS,
                                      ops.CreateCheckConstraint(name, current.name,
                                                                check.sqltext or "",
                                                                schema=current.schema))]

    def _primary_key(self, kind, difference, target, current) -> list[Change]:
        old = (current.primary_key_name, current.primary_key) if kind != "missing" else None
        new = (target.primary_key_name or self._name("pk", current.name, ()),
               target.primary_key) if kind != "extra" else None
        return self._key(kind, difference, current, ops.CreatePrimaryKey, old, new)

    def _key(self, kind: str, difference: Difference, table: TableModel,
             create: type[ops.CreatePrimaryKey] | type[ops.CreateUniqueConstraint],
             old: tuple | None, new: tuple | None) -> list[Change]:
        """A primary key or unique constraint (``create``: its operation class) that goes
        (``old``), comes (``new``) or both, each a ``(name, columns)`` pair."""
        changes = []
        if old is not None:
            name, columns = old
            changes.append(self._drop_constraint(
                table, name, create.constraint_type, difference, Phase.DROP_KEYS,
                create(name or "NAME", table.name, tuple(columns), schema=table.schema)))
        if new is not None:
            name, columns = new
            changes.append(self._create(Phase.ADD_KEYS, create(name, table.name, tuple(columns),
                                                               schema=table.schema),
                                        kind, difference, table))
        return changes

    def _drop_constraint(self, table: TableModel, name: str | None, type_: str,
                         difference: Difference, phase: Phase,
                         recreate: ops.MigrationOperation) -> Change:
        """Drop a constraint; one the migrations created without a name cannot be dropped
        by name, so the change is only shown, commented, for a person to complete."""
        drop = ops.DropConstraint(name or "NAME", table.name, type_, schema=table.schema)
        if name:
            return Change(phase, [drop], [recreate], differences=[difference],
                          table=table.key)
        return Change(phase, [], [], [
            f"{difference.label} {difference.where}: the migrations created it without a "
            "name, so it cannot be dropped by name. Replace NAME with the name the database "
            "gave it, then uncomment:"], [drop], [recreate], [difference], table.key)

def _unique_label(unique: Any) -> str:
    return unique.name or f"({', '.join(unique.columns)})"


def _fk_label(fk: Any) -> str:
    return fk.name or f"({', '.join(fk.columns)})"


def _find(objects: Iterable[Any], label: str, labeler: Callable[[Any], str | None]) -> Any:
    return next((o for o in objects if same_name(labeler(o), label)), None)
