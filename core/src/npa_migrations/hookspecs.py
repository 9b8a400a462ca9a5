"""Hook specifications: the seams of npa-migrations.

The engine (:mod:`npa_migrations.engine.executor`) calls these hooks; providers and plugins
implement them in a module registered under the ``npa`` entry-point group::

    [project.entry-points.npa]
    sqlite = "npa_sqlite.plugin"

Hooks are called with keyword arguments only, and an implementation may accept any
subset of a spec's arguments, so specs can grow without breaking plugins. The core's
defaults are ``trylast`` implementations in :mod:`npa_migrations.builtin`; a plugin
overrides one with ``@hookimpl(tryfirst=True)`` and returns ``None`` where it does not apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .engine.checks import PlanFinding
    from .engine.executor import MigrationExecutor
    from .engine.history import HistoryStore
    from .provider.locking import MigrationLock
    from .migration import MigrationScript
    from .operations import MigrationOperation
    from .provider import BaseProvider, RenderContext
    from .statements import Statement

PROJECT = "npa"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------------------
# provider resolution
# --------------------------------------------------------------------------------------

@hookspec
def npa_register_providers(register: "Callable[..., None]") -> None:
    """Register the providers this plugin brings: which URLs each one serves.

    Call ``register(backends, provider)`` once per provider, where ``backends`` is the
    backend name (SQLAlchemy's ``url.get_backend_name()``, e.g. ``"postgresql"``) or a list
    of them, and ``provider`` the provider class as ``"module:Class"`` -- imported only when
    a URL of that backend is used, so loading the plugin stays cheap -- or a callable
    taking the URL. Two plugins registering the same backend name is an error naming
    both. ``npa providers`` lists the names.

    :param register: ``register(backends, provider)``.
    """


# --------------------------------------------------------------------------------------
# SQL generation
# --------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def npa_generate_sql(provider: "BaseProvider", operation: "MigrationOperation",
                     context: "RenderContext") -> "list[Statement | str] | None":
    """Turn one migration operation into SQL statements for one provider.

    The engine's planner calls it when the operation's step runs (or is written into a
    ``--sql`` script). The core's default (``trylast``) calls
    ``provider.sql.generate(operation, context)``. A plugin overrides a single operation on
    a single provider with ``@hookimpl(tryfirst=True)``, returning ``None`` whenever it
    does not apply, e.g. ``CREATE INDEX CONCURRENTLY`` for
    :class:`~npa_migrations.operations.CreateIndex` on PostgreSQL.

    :param provider: the provider the SQL is for (``provider.name``, ``provider.sql`` to
        compile and quote with its dialect).
    :param operation: the operation to render.
    :param context: a :class:`~npa_migrations.provider.RenderContext`:
        ``context.connection`` is the live connection, or ``None`` when a script is
        rendered offline.
    :returns: statements in execution order (plain strings or
        :class:`~npa_migrations.statements.Statement` objects), or ``None``.

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def npa_operation_transactional(provider: "BaseProvider", operation: "MigrationOperation"
                                ) -> "bool | None":
    """Say whether the SQL for one operation on one provider may run inside a transaction.

    Implement it beside an :func:`npa_generate_sql` override whose statements the
    database refuses in a transaction block (PostgreSQL ``CREATE INDEX CONCURRENTLY``).
    The provider marks that operation's step non-transactional
    (:attr:`~npa_migrations.statements.Step.transactional`), and the engine then runs the
    whole migration outside a transaction, as if it declared ``transactional = False``:
    each statement commits on its own, a failure is recorded with ``success = false`` and
    the number of operations that took effect (see ``npa migrate repair``), and
    ``--transaction-mode all-in-one`` refuses the migration before anything runs.

    :param provider: the provider the SQL is for.
    :param operation: the operation about to be planned.
    :returns: ``False`` when the operation must run outside a transaction, ``True`` to
        insist that it may run inside one, ``None`` when this plugin has no opinion
        (no implementation answering means ``True``).

    Stops at first non-None result.
    """


# --------------------------------------------------------------------------------------
# locking
# --------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def npa_create_lock(provider: "BaseProvider", table_name: str) -> "MigrationLock | None":
    """Return the lock that serialises migration runs against this database.

    The core's default asks ``provider.create_lock(table_name)``, which is the portable
    lock table ``npa_migrations_lock`` unless the provider has a database-level lock
    (advisory lock, ``GET_LOCK``, ``sp_getapplock``, ``DBMS_LOCK``).

    :param provider: the provider of the database being migrated.
    :param table_name: name of the lock table to use when a table lock is needed.
    :returns: a :class:`~npa_migrations.provider.locking.MigrationLock`, or ``None``.

    Stops at first non-None result.
    """


# --------------------------------------------------------------------------------------
# history storage
# --------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def npa_history_store(provider: "BaseProvider", table_name: str) -> "HistoryStore | None":
    """Return the object that creates, reads and writes the history table.

    :param provider: the provider of the database being migrated.
    :param table_name: the history table's name (default ``npa_migrations_history``).
    :returns: a :class:`~npa_migrations.engine.history.HistoryStore`, or ``None``.

    Stops at first non-None result.
    """


# --------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------

@hookspec
def npa_discover_migrations(source: str,
                            register: "Callable[[MigrationScript], None]") -> None:
    """Find the migrations in one source and pass each to ``register``.

    Every implementation is called for every source; the built-in one reads Python
    modules and ``.sql`` files from a directory or dotted package. Duplicate ids across
    all implementations are reported as an error naming both sources.

    :param source: a directory path or dotted package name given with ``-m``.
    :param register: call with each :class:`~npa_migrations.migration.MigrationScript`.
    """


# --------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------

@hookspec
def npa_lock_requested(description: str, timeout: float) -> None:
    """Called before the engine starts waiting for the migration lock.

    :param description: which lock is requested, e.g. ``"table lock npa_migrations_lock"``.
    :param timeout: seconds the engine will wait before giving up (exit code 4).
    """


@hookspec
def npa_lock_acquired(description: str) -> None:
    """Called once the migration lock is held.

    :param description: which lock was taken, e.g. ``"table lock npa_migrations_lock"``.
    """


@hookspec
def npa_run_planned(migrations: "list[MigrationScript]", direction: str) -> None:
    """Called once per run, under the lock, with the migrations about to run.

    :param migrations: the migrations in the order they will run (may be empty).
    :param direction: ``"up"`` or ``"down"``.
    """


@hookspec
def npa_migration_start(migration: "MigrationScript", index: int, total: int,
                        direction: str) -> None:
    """Called before a migration starts.

    :param migration: the migration about to run.
    :param index: its 1-based position in this run.
    :param total: number of migrations in this run.
    :param direction: ``"up"`` or ``"down"``.
    """


@hookspec
def npa_statement_start(migration: "MigrationScript", statement: "Statement") -> None:
    """Called right before each SQL statement of a migration runs.

    With :func:`npa_statement_executed` it brackets every statement, so a log shows the
    statement a run is waiting on (a lock, a long table rewrite) while it still runs. A
    statement that fails gets no :func:`npa_statement_executed`; the failure reaches
    :func:`npa_migration_end` (``error.statement``).

    Statements sent to the server together in one batch (plain SQL inside a transaction
    the migration owns, on a driver that batches: PostgreSQL) get their events once the
    batch returned, in the order they would have come one by one (each start followed
    by its executed, then its operation's :func:`npa_operation_done`); when one of them
    failed, the statements before it get their events and it gets this one.

    :param migration: the migration the statement belongs to.
    :param statement: the statement about to run (``statement.sql``; ``statement.many``
        for a batched ``executemany``; parameters in ``statement.params``).
    """


@hookspec
def npa_statement_executed(migration: "MigrationScript", statement: "Statement",
                           duration: float) -> None:
    """Called after each SQL statement succeeded.

    :param migration: the migration the statement belongs to.
    :param statement: the executed statement (``statement.sql``).
    :param duration: seconds it took (in a batch: an equal share of the batch's time).
    """


@hookspec
def npa_operation_done(migration: "MigrationScript", operation: "MigrationOperation",
                       duration: float) -> None:
    """Called after all statements of one operation succeeded.

    :param migration: the migration the operation belongs to.
    :param operation: the finished operation (``operation.describe()`` is its human line).
    :param duration: seconds it took.
    """


@hookspec
def npa_operation_skipped(migration: "MigrationScript", operation: "MigrationOperation",
                          reason: str) -> None:
    """Called instead of :func:`npa_operation_done` for an operation that does nothing on
    this database, e.g. SQL limited to other dialects (``execute(..., dialects=...)``).

    :param migration: the migration the operation belongs to.
    :param operation: the skipped operation.
    :param reason: why, e.g. ``"only for postgresql"``.
    """


@hookspec
def npa_operation_progress(migration: "MigrationScript", operation: "MigrationOperation",
                           rows_done: int) -> None:
    """Called after each chunk of a data operation that runs in chunks (``b.backfill``):
    how many rows it has changed so far.

    The count goes on across an interrupted run that continues (it is kept with the
    chunk in the journal). Under ``all-in-one`` or in a transactional migration the rows
    are not committed yet when this is called.

    :param migration: the migration the operation belongs to.
    :param operation: the operation under way (``operation.describe()``).
    :param rows_done: rows changed so far (as the database counts them).
    """


@hookspec
def npa_migration_retry(migration: "MigrationScript", attempt: int, retries: int,
                        delay: float, error: BaseException) -> None:
    """Called when a migration hit a lock timeout in a statement that took no effect and
    runs again after a pause (what had taken effect stays; the run continues from there).

    :param migration: the migration that runs again.
    :param attempt: this retry's number (1 for the first).
    :param retries: how many retries the run allows (option ``ddl_lock_retries``).
    :param delay: seconds the engine waits before the retry.
    :param error: the lock timeout the database reported.
    """


@hookspec
def npa_migration_resumed(migration: "MigrationScript", direction: str, position: str,
                          note: str | None) -> None:
    """Called, under the lock and before the run starts, for each migration an earlier
    run left under way (killed, or stopped at a safe point): the run continues it from
    ``position`` instead of starting it again.

    :param migration: the migration that continues.
    :param direction: ``"up"``, ``"down"`` or ``"undo"``.
    :param position: where it continues, e.g. ``"step 3, statement 2"``.
    :param note: what was decided about the statement under way when the earlier run
        died (checked against the live schema), or ``None`` when nothing was in doubt.
    """


@hookspec
def npa_checkpoint(point: str, migration: "MigrationScript | None") -> None:
    """Called at every boundary of a run, in a fixed order for a given history: taking
    and releasing the lock (``lock``, ``locked``, ``unlock``, ``unlocked``), each
    migration (``migration``), each transaction (``begin``, ``commit``, ``committed``),
    each statement (``statement`` before it, ``executed`` after it; once for a batch of
    statements sent together) and each write of the write-ahead journal outside a
    transaction (``journaled``).

    For tracing and fault injection: the crash-point tests of npa-migrations kill the
    process at the k-th checkpoint (:mod:`npa_migrations.testing.crash`) and check that
    the next run converges. An
    implementation must be fast and must not touch the run's connection.

    :param point: the boundary reached (the names above).
    :param migration: the migration under way, or ``None``.
    """


@hookspec
def npa_migration_end(migration: "MigrationScript", direction: str, duration: float,
                      error: "BaseException | None") -> None:
    """Called after a migration committed (``error`` is ``None``) or failed.

    :param migration: the migration that ran.
    :param direction: ``"up"`` or ``"down"``.
    :param duration: seconds it took.
    :param error: the :class:`~npa_migrations.errors.MigrationException`, or ``None``.
    """


# --------------------------------------------------------------------------------------
# plan checks (``--dry-run``) and configuration
# --------------------------------------------------------------------------------------

@hookspec
def npa_check_plan(executor: "MigrationExecutor", migrations: "list[MigrationScript]",
                   direction: str, settings: "dict[str, Any]") -> "list[PlanFinding] | None":
    """Check the migrations a run would execute, before anything runs, and report findings.

    Called by ``npa migrate up --dry-run`` and ``down --dry-run`` (through
    :func:`npa_migrations.engine.checks.check_plan`) after history validation, with the
    migrations the run would apply (``up``) or revert (``down``) in run order. A plugin
    may read the database through ``executor`` (``with executor.session(read_only=True)
    as session:``, then ``session.connection``), but
    must not change it. Findings of severity ``"error"`` make the dry run exit with code
    3; ``"warning"`` and ``"info"`` findings are only printed.

    :param executor: the :class:`~npa_migrations.engine.executor.MigrationExecutor` of the run
        (``executor.provider`` is the database's provider).
    :param migrations: the migrations the run would execute, in order (may be empty).
    :param direction: ``"up"`` or ``"down"``.
    :param settings: the resolved configuration table (``npa.toml``, or ``[tool.npa]`` in
        ``pyproject.toml``); a plugin reads its own section, e.g. ``settings.get("lint")``.
        Empty when called from the Python API without configuration.
    :returns: a list of :class:`~npa_migrations.engine.checks.PlanFinding`, or ``None``.
    """


@hookspec
def npa_config_sections() -> "list[str] | None":
    """Name the configuration sections this plugin reads.

    ``npa.toml`` and ``[tool.npa]`` refuse unknown keys, so that a typo is an error; a
    plugin that reads a section of its own (``[lint]`` in ``npa.toml``, ``[tool.npa.lint]``
    in ``pyproject.toml``) declares its name here. Called only when a configuration file
    holds a key the core does not know.

    :returns: section names, e.g. ``["lint"]``.
    """


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------

@hookspec
def npa_register_commands(cli: "click.Group", migrate: "click.Group") -> None:
    """Add click commands to the ``npa`` command line.

    Loaded lazily: ``npa --help`` and the built-in commands never load plugins for it.
    The hook runs when a command name is not built in, and when ``npa migrate --help``
    lists the commands; so commands added to ``migrate`` appear in its help, while a
    top-level command added to ``cli`` works but is not listed by ``npa --help``. A
    plugin must not replace a built-in command (that is an error naming the plugin).
    What a listing shows of each command (name, help, short help, hidden, deprecated)
    is remembered after the hook ran, and later listings use it without loading the
    plugins until the installation, the variables choosing plugins, or the file of a
    plugin or of a command's callback or class changes
    (:mod:`npa_migrations.cli.plugin_commands`): keep a command's help in the module
    that defines it.

    Commands get the CLI's global options with ``@click.pass_obj`` (a
    :class:`npa_migrations.cli.Context`: ``obj.config``, ``obj.executor()``) and turn
    expected errors into messages and exit codes with
    :func:`npa_migrations.cli.handle_errors`.

    :param cli: the top-level ``npa`` group.
    :param migrate: the ``npa migrate`` group; e.g. ``migrate.add_command(lint)`` gives
        ``npa migrate lint``.
    """
