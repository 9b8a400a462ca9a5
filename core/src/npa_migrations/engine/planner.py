"""The planner: one migration's operations into the steps that run, in the order they run.

:func:`plan_steps` is the only place that turns operations into executable
:class:`~npa_migrations.statements.Step` objects: it fixes the order where a database
cannot follow the author's (below), groups the operations a table rebuild carries out
together, and renders each remaining operation through the ``npa_generate_sql`` hook, so
a plugin can override one operation on one provider.

Table rebuilds.

A provider says which operations its database can only do by copying the table
(:meth:`~npa_migrations.provider.SqlGenerator.needs_rebuild`). A run of consecutive
:data:`TABLE_SHAPE_OPERATIONS` on one table that holds at least one such operation becomes
one :class:`~npa_migrations.provider.rebuild.RebuildStep`: the table is copied once for
all of them, and the others of the run (a plain ``add_column``, a ``rename_column``) ride
along. Any other operation ends the run::

    alter_column t.a; create_unique_constraint t; create_index t; alter_column t.b
    ->  rebuild t (alter_column, create_unique_constraint); create_index; rebuild t

Operations inside a rebuild are rendered by it, not by ``npa_generate_sql``.

Statement ordering inside one migration.

A migration's operations run in the order the author wrote them, except in the two
places where a database cannot follow that order and the intent is unambiguous:

1. **A foreign key created before its referent table.** ``create_foreign_key`` whose
   referent table is created by a *later* ``create_table`` of the same migration moves to
   just after that ``create_table`` (foreign keys moved behind the same table keep their
   relative order)::

       create_table orders; create_foreign_key fk_orders_customers; create_table customers
       ->  create_table orders; create_table customers; create_foreign_key fk_orders_customers

2. **A constraint dropped after the table it may reference.** ``drop_constraint`` that
   follows a ``drop_table`` moves to just before that ``drop_table`` when the constraint
   may reference the dropped table: it belongs to that table, it is a foreign key this
   migration created towards that table, or it is a foreign key (or of unknown kind)
   whose referent the migration cannot know. Dropping a constraint earlier only relaxes
   the schema in between, so the move is safe; leaving it where it is would fail on
   databases that refuse to drop a referenced table (or, on SQLite with foreign keys on,
   fire ``ON DELETE`` actions)::

       drop_table customers; drop_constraint fk_orders_customers
       ->  drop_constraint fk_orders_customers; drop_table customers

A move never crosses an operation it depends on (its table being created, dropped or
renamed, its constraint name being created or dropped, one of its columns being dropped
or renamed); when one is in the way, the author's order is kept and the database
reports the problem as written. Nothing else is reordered: custom SQL, data operations
and every other operation keep their place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .. import operations as ops
from ..errors import ConfigurationError
from ..statements import Statement, Step

if TYPE_CHECKING:  # pragma: no cover
    from ..provider import BaseProvider, RenderContext

__all__ = ["TABLE_SHAPE_OPERATIONS", "PlanHooks", "StepStream", "group_rebuilds",
           "order_operations", "plan_hooks", "plan_steps", "step_for"]

#: operations that change one table's columns or constraints: a table rebuild absorbs
#: every one of them in its run
TABLE_SHAPE_OPERATIONS = ops.TABLE_SHAPE_OPERATIONS

TableKey = tuple  # (schema, folded table name)


def _fold(name: str | None) -> str | None:
    """Identifiers compare case-insensitively for planning (every supported database
    treats the unquoted spellings of one name alike, and authors rarely rely on case)."""
    return name.lower() if isinstance(name, str) else name


def _key(table: str, schema: str | None) -> TableKey:
    return (_fold(schema), _fold(table))


def order_operations(operations: Sequence[ops.MigrationOperation]) -> list[ops.MigrationOperation]:
    """Return the operations in the order they must run (see the module docstring).

    :param operations: one migration's operations, in the author's order.
    :returns: a new list with the same operation objects; the author's order except for
        the foreign-key and drop-constraint moves described above.
    """
    ordered = _move_foreign_keys_after_referents(list(operations))
    return _move_constraint_drops_before_tables(ordered)


def plan_steps(provider: "BaseProvider", operations: Sequence[ops.MigrationOperation],
               hooks: "PlanHooks | None" = None) -> "list[Step] | StepStream":
    """The steps that carry out one migration's operations on ``provider``, in run order.

    :param provider: the provider of the database the steps are for.
    :param operations: the migration's operations in the author's order.
    :param hooks: :func:`plan_hooks`, when the caller looked them up already (a run
        plans many migrations with the same plugins); else looked up now.
    :returns: the author's order fixed by :func:`order_operations`; operations that
        rebuild one table together become one step (:func:`group_rebuilds`), every other
        operation one step rendered by :func:`step_for`.
    :raises ConfigurationError: an operation the provider's capabilities rule out (a
        partial index where there are none), before anything of the migration runs.
    """
    if hooks is None:
        hooks = plan_hooks()
    if isinstance(operations, ops.OperationStream):  # custom SQL only: a step each
        return StepStream(provider, operations, hooks)
    for operation in operations:
        if isinstance(operation, ops.CreateIndex) and operation.where \
                and not provider.capabilities.partial_indexes:
            raise ConfigurationError(
                f"{operation.describe()}: {provider.name} has no partial indexes, so "
                "create_index(..., where=...) cannot run on it. Leave where= out, or create "
                "the index with b.execute(..., dialects=...) for the databases that have them.")
    return [unit if isinstance(unit, Step) else step_for(provider, unit, hooks)
            for unit in group_rebuilds(provider, order_operations(operations))]


def plan_hooks() -> "PlanHooks":
    """The planner's two hooks as the plugins registered now implement them."""
    from ..plugins import get_plugin_manager, live, only_default

    hook = get_plugin_manager().hook
    transactional = hook.npa_operation_transactional
    return PlanHooks(live(transactional) if transactional.get_hookimpls() else None,
                      None if only_default(hook.npa_generate_sql)
                      else live(hook.npa_generate_sql))


class StepStream(Sequence):
    """The steps of an :class:`~npa_migrations.operations.OperationStream` (a large
    ``.sql`` file), one per operation, planned when they are read: a run holds the step
    it runs, not one per statement of the file. Indexing plans that one step (reading
    the operations up to it)."""

    __slots__ = ("provider", "operations", "hooks", "flags")

    def __init__(self, provider: "BaseProvider", operations: ops.OperationStream,
                 hooks: "PlanHooks"):
        self.provider = provider
        self.operations = operations
        self.hooks = hooks
        #: the hook's answers of :meth:`transactional`, kept for the steps planned next
        self.flags: list[bool] | None = None

    def __len__(self) -> int:
        return len(self.operations)

    def __iter__(self) -> Iterator[Step]:
        provider, hooks, flags = self.provider, self.hooks, self.flags
        if flags is None or len(flags) != len(self):
            for operation in self.operations:
                yield step_for(provider, operation, hooks)
            return
        for operation, flag in zip(self.operations, flags):  # the hook asked already
            yield step_for(provider, operation, hooks, transactional=flag)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [step_for(self.provider, op, self.hooks) for op in self.operations[index]]
        return step_for(self.provider, self.operations[index], self.hooks)

    def transactional(self) -> list[bool]:
        """:attr:`Step.transactional <npa_migrations.statements.Step.transactional>` of
        every step, without planning the steps: one pass over the operations asking
        the ``npa_operation_transactional`` hook, none when no plugin implements it."""
        ask = self.hooks.transactional
        if ask is None:
            return [True] * len(self)
        provider = self.provider
        self.flags = [ask(provider=provider, operation=op) is not False
                      for op in self.operations]
        return self.flags


class PlanHooks:
    """The two hooks every planned step calls, looked up once per migration (a large
    ``.sql`` file plans one step per statement): ``npa_operation_transactional``
    (``None`` when no plugin implements it), and ``npa_generate_sql`` (``None`` when
    only the built-in default implements it)."""

    __slots__ = ("transactional", "generate")

    def __init__(self, transactional: Any, generate: Any):
        self.transactional = transactional
        self.generate = generate


def group_rebuilds(provider: "BaseProvider", operations: Sequence[ops.MigrationOperation]
                   ) -> "list[ops.MigrationOperation | Step]":
    """The operations (in run order), with each run of consecutive
    :data:`TABLE_SHAPE_OPERATIONS` on one table that holds an operation the provider
    :meth:`~npa_migrations.provider.SqlGenerator.needs_rebuild` replaced by one
    :class:`~npa_migrations.provider.rebuild.RebuildStep`."""
    units: list[ops.MigrationOperation | Step] = []
    index = 0
    while index < len(operations):
        first = operations[index]
        if isinstance(first, TABLE_SHAPE_OPERATIONS):
            table = _table_of(first)
            run: list[ops.TableShapeOperation] = []
            for op in operations[index:]:
                if not isinstance(op, TABLE_SHAPE_OPERATIONS) or _table_of(op) != table:
                    break
                run.append(op)
            if any(provider.sql.needs_rebuild(op) for op in run):
                from ..provider.rebuild import rebuild_step  # imported when one is due

                units.append(rebuild_step(provider, run))
                index += len(run)
                continue
        units.append(first)
        index += 1
    return units


def step_for(provider: "BaseProvider", operation: ops.MigrationOperation,
             hooks: "PlanHooks | None" = None, *, transactional: bool | None = None
             ) -> Step:
    """One step rendering ``operation`` through the ``npa_generate_sql`` hook when it runs
    (the provider's ``sql_<kind>`` unless a plugin overrides it); the step may not run in
    a transaction when a plugin says so (``npa_operation_transactional`` returns
    ``False``). ``hooks``: the two hooks, when the caller looked them up already;
    ``transactional``: that hook's answer, when the caller asked it already."""
    if hooks is None:
        hooks = plan_hooks()
    if transactional is None and hooks.transactional is not None:
        transactional = hooks.transactional(provider=provider, operation=operation)
    return Step((operation,), _Render(provider, operation, hooks.generate),
                transactional=transactional is not False,
                live=provider.sql.reads_live_schema(operation), data=operation.data)


class _Render:
    """A step's ``render``: the operation's statements through ``npa_generate_sql``
    (the provider's ``sql_<kind>`` directly when no plugin overrides it). An object
    with slots rather than closures: a large ``.sql`` file makes one per statement."""

    __slots__ = ("provider", "operation", "generate")

    def __init__(self, provider: "BaseProvider", operation: ops.MigrationOperation,
                 generate: Any = None):
        self.provider = provider
        self.operation = operation
        #: the ``npa_generate_sql`` caller, ``None`` when no plugin overrides it
        self.generate = generate

    def __call__(self, context: "RenderContext") -> Iterable[Statement]:
        if self.generate is None:  # no override: skip the hook dispatch
            produced = self.provider.sql.generate(self.operation, context)
        else:
            produced = self.generate(provider=self.provider, operation=self.operation,
                                     context=context) or []
        if type(produced) is list:  # the usual answer (one per statement of a large
            # file): no generator, no isinstance check against typing's Iterator
            return [s if isinstance(s, Statement) else Statement(s) for s in produced]
        statements = (s if isinstance(s, Statement) else Statement(s) for s in produced)
        # a generator stays one: SQL that reads the database between its statements (a
        # rebuild the provider decides on when it runs) sees what the earlier ones did
        return statements if isinstance(produced, Iterator) else list(statements)


# --------------------------------------------------------------------------------------
# rule 1: create_foreign_key after the create_table of its referent
# --------------------------------------------------------------------------------------

def _table_of(op: ops.MigrationOperation) -> TableKey:
    """The (folded) table a table-shape operation changes."""
    schema, table = op.tables()[0]
    return _key(table, schema)


def _creates_table(op: ops.MigrationOperation, key: TableKey) -> bool:
    if isinstance(op, ops.CreateTable):
        return _key(op.table, op.schema) == key
    return False


def _blocks_fk_move(op: ops.MigrationOperation, fk: ops.CreateForeignKey) -> bool:
    """Whether ``fk`` may not move later than ``op``."""
    source = _key(fk.table, fk.schema)
    if isinstance(op, (ops.CreateTable, ops.DropTable)) and _key(op.table, op.schema) == source:
        return True
    if isinstance(op, ops.RenameTable) and source in {_key(op.table, op.schema),
                                                      _key(op.new_name, op.schema)}:
        return True
    name = getattr(op, "name", None)
    if name is not None and _fold(name) == _fold(fk.name) \
            and isinstance(op, (ops.DropConstraint, ops.CreateForeignKey, ops.CreatePrimaryKey,
                                ops.CreateUniqueConstraint, ops.CreateCheckConstraint)) \
            and _key(op.table, op.schema) == source:
        return True
    local = {_fold(c) for c in fk.local_cols}
    if isinstance(op, (ops.DropColumn, ops.RenameColumn, ops.AlterColumn)) \
            and _key(op.table, op.schema) == source and _fold(op.column_name) in local:
        return True
    return False


def _move_foreign_keys_after_referents(operations: list[ops.MigrationOperation]
                                       ) -> list[ops.MigrationOperation]:
    moved: dict[int, list[ops.MigrationOperation]] = {}  # anchor index -> fks placed after it
    skipped: set[int] = set()
    for index, op in enumerate(operations):
        if not isinstance(op, ops.CreateForeignKey):
            continue
        referent = _key(op.referent, op.referent_schema)
        if referent == _key(op.table, op.schema):
            continue  # self-reference: the table exists already
        for later in range(index + 1, len(operations)):
            candidate = operations[later]
            if _creates_table(candidate, referent):
                moved.setdefault(later, []).append(op)
                skipped.add(index)
                break
            if _blocks_fk_move(candidate, op):
                break
    if not skipped:
        return operations
    result: list[ops.MigrationOperation] = []
    for index, op in enumerate(operations):
        if index not in skipped:
            result.append(op)
        result.extend(moved.get(index, ()))
    return result


# --------------------------------------------------------------------------------------
# rule 2: drop_constraint before the drop_table it may reference
# --------------------------------------------------------------------------------------

def _known_referents(operations: Iterable[ops.MigrationOperation]) -> dict[tuple, TableKey]:
    """Foreign keys this migration creates: (table key, folded name) -> referent key."""
    return {(_key(op.table, op.schema), _fold(op.name)): _key(op.referent, op.referent_schema)
            for op in operations if isinstance(op, ops.CreateForeignKey)}


def _may_reference(drop: ops.DropConstraint, dropped: TableKey,
                   known: dict[tuple, TableKey]) -> bool:
    own = _key(drop.table, drop.schema)
    if own == dropped:
        return True
    referent = known.get((own, _fold(drop.name)))
    if referent is not None:
        return referent == dropped
    return drop.type_ in (None, "foreignkey")


def _blocks_drop_move(op: ops.MigrationOperation, drop: ops.DropConstraint) -> bool:
    """Whether ``drop`` may not move earlier than ``op``."""
    own = _key(drop.table, drop.schema)
    if isinstance(op, ops.CreateTable) and _key(op.table, op.schema) == own:
        return True
    if isinstance(op, ops.RenameTable) and own in {_key(op.table, op.schema),
                                                   _key(op.new_name, op.schema)}:
        return True
    if isinstance(op, (ops.CreateForeignKey, ops.CreatePrimaryKey, ops.CreateUniqueConstraint,
                       ops.CreateCheckConstraint, ops.DropConstraint)) \
            and _key(op.table, op.schema) == own and _fold(op.name) == _fold(drop.name):
        return True
    return False


def _move_constraint_drops_before_tables(operations: list[ops.MigrationOperation]
                                         ) -> list[ops.MigrationOperation]:
    known = _known_referents(operations)
    result = list(operations)
    index = 0
    while index < len(result):
        op = result[index]
        if isinstance(op, ops.DropConstraint):
            target = None
            for earlier in range(index - 1, -1, -1):
                candidate = result[earlier]
                if _blocks_drop_move(candidate, op):
                    break
                if isinstance(candidate, ops.DropTable) and _may_reference(
                        op, _key(candidate.table, candidate.schema), known):
                    target = earlier  # keep looking: the earliest such drop_table wins
            if target is not None:
                result.insert(target, result.pop(index))
        index += 1
    return result
