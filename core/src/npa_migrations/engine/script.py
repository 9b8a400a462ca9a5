"""The runner's statements written down instead of executed: ``--sql`` scripts and the
steps a ``--dry-run`` lists.

:class:`ScriptTarget` writes what a run would execute, in order, with its transaction
boundaries and history writes, each statement terminated the way the database's client
expects. Online, a step that reads the live schema to render itself (:attr:`Step.live`,
e.g. a SQLite rebuild, MySQL restating a column) is rendered against the database: where
the database has transactional DDL, the run's statements are executed while they are
written, inside one transaction that is always rolled back, so every step sees the schema
the earlier ones leave; the database is not changed. Statements of migrations marked
non-transactional and streamed ``bulk_insert`` rows are not executed then. Where DDL
cannot be rehearsed (no transactional DDL), live steps render as offline, since the
database does not show what the earlier statements of the script would have changed.

Data steps render offline too: a backfill's chunks depend on the rows when it runs, so a
script shows it as one ``UPDATE`` with a comment; a Python step cannot be written as SQL,
so the script says so in a comment naming the function, where it would run
(:data:`~npa_migrations.provider.data.PYTHON_STEP_MARK`).

Offline, a step that reads the schema to render itself (a table rebuild) reads the schema
the migrations build instead: the schema model of the history the script is written for
(:func:`~npa_migrations.engine.plan.assumed_history`), replayed step by step as the script
goes (:attr:`RenderContext.schema <npa_migrations.provider.context.RenderContext.schema>`).

An idempotent script guards each migration with the history table: its statements and
its history write run only while the history does not record it, wrapped the database's
way by :meth:`~npa_migrations.provider.SqlGenerator.guard_migration`; the history table
is created only when missing.

:class:`DescribeTarget` collects the planned steps of each migration, where a migration
under way continues, without rendering any SQL (``--dry-run``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigurationError, MigrationException, NpaError
from ..options import TransactionMode
from ..provider.context import RenderContext
from ..sqltext import first_line
from .runner import RunTarget

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..options import MigrationExecutorOptions
    from ..provider import BaseProvider
    from ..provider.connection import DbConnection
    from ..schema.model import SchemaModel
    from ..statements import Statement, Step
    from .history import Position
    from .plan import Plan, PlannedMigration


class ScriptTarget(RunTarget):
    """Writes a run as a SQL script (see the module docs).

    :param provider: the provider whose SQL and client conventions the script uses.
    :param options: the run's options (transaction mode, table names).
    :param direction: ``up`` or ``down``.
    :param create_history: start with the history table's ``CREATE``.
    :param connection: the live database for an online script, ``None`` offline.
    :param idempotent: guard each migration with the history table (see the module docs).
    :param schema: offline, makes the schema model of the history the script is written
        for; called only when a step reads the schema.
    """

    def __init__(self, provider: "BaseProvider", options: "MigrationExecutorOptions",
                 direction: str, *, create_history: bool,
                 connection: "DbConnection | None" = None, idempotent: bool = False,
                 schema: "Callable[[], SchemaModel] | None" = None):
        from ..plugins import get_plugin_manager

        self.idempotent = idempotent
        self.schema = schema
        #: offline, the schema the migrations build up to the step being written
        self.model: "SchemaModel | None" = None
        #: idempotent: the statements of the migration being written, guarded together
        self.guarded: list[str] = []
        self.provider = provider
        self.options = options
        self.direction = direction
        self.create_history = create_history
        self.connection = connection
        self.history = get_plugin_manager().hook.npa_history_store(
            provider=provider, table_name=options.history_table)
        self.mode = options.transaction_mode
        self.context = RenderContext(connection)
        self.lines: list[str] = []
        self.rehearse = False
        self.own_transaction = False
        self.transactional = False

    def text(self) -> str:
        """The script."""
        return "\n".join(self.lines)

    def close(self) -> None:
        """Roll back the rehearsal, if there was one."""
        if self.rehearse and self.connection is not None and self.connection.in_transaction:
            self.connection.rollback()

    def _write(self, sql: str) -> None:
        self.lines.append(self.provider.sql.script_statement(sql))

    # the run ---------------------------------------------------------------------------
    def start_run(self, plan: "Plan") -> None:
        from .planner import plan_steps

        sql, driver = self.provider.sql, self.provider.driver
        online = self.connection is not None
        # a step that reads the schema is rehearsed online, or read from the replayed
        # schema offline (only then are the steps looked at: planning them costs)
        wanted = (self.provider.capabilities.transactional_ddl if online
                  else self.schema is not None)
        live = wanted and any(step.live for migration in plan
                              for step in plan_steps(self.provider, migration.operations))
        self.rehearse = live and online
        if live and not online and self.schema is not None:
            self.model = self.schema()
        # the client settings come first: they govern how the client reads everything
        # after them, the header comments included (SQL*Plus substitutes '&' even there)
        prologue = list(sql.script_prologue(self.mode))
        self.lines += prologue + [""] if prologue else []
        self.lines += [f"-- npa-migrations {self.direction} script for "
                       f"{self.provider.display_url()}",
                       f"-- transaction mode: {self.mode.value}", ""]
        if self.create_history:
            for statement in (self.history.create_if_missing_statements() if self.idempotent
                              else self.history.create_statements()):
                self._write(statement)
            self.lines.append("")
        if self.mode is TransactionMode.ALL_IN_ONE and len(plan) and driver.begin_statement:
            self._write(driver.begin_statement)
            self.lines.append("")
        if self.rehearse and self.connection is not None:
            self.connection.begin()

    def finish_run(self, plan: "Plan", result: Any) -> None:
        if self.mode is TransactionMode.ALL_IN_ONE and len(plan):
            self._write(self.provider.driver.commit_statement or "COMMIT")
            self.lines.append("")

    def start_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                        index: int, total: int) -> None:
        from .live import step_in_transaction

        self.transactional = all(step_in_transaction(migration.script, step, self.options)
                                 for step in steps)
        # a database without a BEGIN statement (Oracle) still needs the COMMIT
        self.own_transaction = self.mode is TransactionMode.PER_MIGRATION and self.transactional
        self.guarded = []
        self.lines.append(f"-- {migration.id} ({self.direction})")
        if migration.start.step or migration.start.statement:
            self.lines.append(f"-- (continues at {migration.start})")
        begin = self.provider.driver.begin_statement
        if self.own_transaction and begin:
            self._write(begin)

    def start_step(self, migration: "PlannedMigration", index: int, step: "Step") -> None:
        self.lines.append(f"-- {step.describe()}")
        # without a rehearsal the live schema lags the script: render offline; a data
        # step's chunks depend on the rows when the script runs: always offline
        live = not step.data and (self.rehearse or not step.live)
        self.context = RenderContext(self.connection if live else None, schema=self.model)

    def run_statement(self, migration: "PlannedMigration", position: "Position",
                      step: "Step", statement: "Statement") -> None:
        if statement.run is not None:  # Python: said, never run, never silently left out
            (self.guarded if self.idempotent else self.lines).append(statement.render())
            return
        if self.idempotent:
            self.guarded.append(statement.render())
            return
        self._write(statement.render())
        if self.rehearse and self.transactional and not statement.many:
            self._rehearse(migration, statement)

    def finish_step(self, migration: "PlannedMigration", index: int, step: "Step",
                    duration: float) -> None:
        if self.model is not None:  # the next steps read the schema this one leaves
            for operation in step.operations:
                self.model.apply(operation, migration.id)

    def finish_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                         following: "PlannedMigration | None" = None) -> None:
        script = migration.script
        if migration.direction == "up":  # a repeatable one replaces its row
            writes = [self.history.delete_script(script.id)] if script.repeatable else []
            writes.append(self.history.insert_script(script.id, script.checksum))
        else:  # a squash takes the rows of the migrations it replaces with it
            writes = [self.history.delete_script(i) for i in (script.id, *script.replaces)]
        if self.idempotent:
            self._guard(migration, self.guarded + writes)
        else:
            for sql in writes:
                self._write(sql)
        if self.own_transaction:
            self._write(self.provider.driver.commit_statement or "COMMIT")
        self.lines.append("")

    def _guard(self, migration: "PlannedMigration", statements: list[str]) -> None:
        """Write ``statements`` guarded by the history table: they run while it records
        neither the migration nor (a squash) a migration it replaces -- a repeatable one:
        while it does not record it with its current checksum."""
        script = migration.script
        pending = self.history.pending_condition(
            [script.id, *script.replaces], script.checksum if script.repeatable else None)
        try:
            self.lines += self.provider.sql.guard_migration(
                pending, statements, transactional=self.transactional)
        except ConfigurationError as exc:
            raise ConfigurationError(f"Migration {script.id} ({script.source}): {exc}") \
                from None

    def _rehearse(self, migration: "PlannedMigration", statement: "Statement") -> None:
        """Run one statement of an online script rendering (rolled back afterwards)."""
        assert self.connection is not None  # only an online script rehearses
        try:
            self.connection.run(statement)
        except NpaError:
            raise
        except Exception as exc:
            raise MigrationException(
                f"Migration {migration.id} ({migration.script.source}) would fail at "
                f"statement: {first_line(statement.render())}\n  Database said: "
                f"{type(exc).__name__}: {exc}\n  (Found while rendering the --sql script in "
                "a transaction that was rolled back; nothing was changed.) Fix the "
                "migration and render the script again.", migration_id=migration.id,
                statement=statement.render(), original=exc) from exc


@dataclass
class DescribedMigration:
    """One migration of a dry run: its planned steps and where it starts."""

    migration: "PlannedMigration"
    steps: list[str] = field(default_factory=list)


class DescribeTarget(RunTarget):
    """Collects what a run would do, step by step, without rendering SQL (``--dry-run``)."""

    renders = False

    def __init__(self) -> None:
        self.context = RenderContext()
        self.migrations: list[DescribedMigration] = []

    def start_migration(self, migration: "PlannedMigration", steps: Sequence["Step"],
                        index: int, total: int) -> None:
        self.migrations.append(DescribedMigration(migration))

    def start_step(self, migration: "PlannedMigration", index: int, step: "Step") -> None:
        self.migrations[-1].steps.append(step.describe())
