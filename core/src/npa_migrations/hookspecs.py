"""Hook specifications: the seams of npa-migrations.

The engine (:mod:`npa_migrations.executor`) calls these hooks; providers and plugins
implement them in a module registered under the ``npa`` entry-point group::

    [project.entry-points.npa]
    sqlite = "npa_sqlite.plugin"

Hooks are called with keyword arguments only, and an implementation may accept any
subset of a spec's arguments, so specs can grow without breaking plugins. The core's
defaults are ``trylast`` implementations in :mod:`npa_migrations.builtin`; a plugin
overrides one with ``@hookimpl(tryfirst=True)`` and returns ``None`` where it does not apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import URL

    from .history import HistoryStore
    from .locking import MigrationLock
    from .migration import MigrationScript
    from .operations import MigrationOperation
    from .provider import BaseProvider, Statement

PROJECT = "npa"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------------------
# provider resolution
# --------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def npa_provider_for_url(url: "URL") -> "BaseProvider | None":
    """Return the provider that serves a database URL, or ``None`` if this plugin does not.

    The provider object carries its capabilities (``provider.capabilities``: transactional
    DDL, advisory locks, schemas, ``IF EXISTS``, ALTER limits, identifier length).

    :param url: the parsed SQLAlchemy URL (``url.get_backend_name()`` is e.g. ``"sqlite"``).
    :returns: a :class:`~npa_migrations.provider.BaseProvider` instance bound to ``url``.

    Stops at first non-None result.
    """


@hookspec
def npa_provider_names() -> list[str]:
    """Return the backend names (SQLAlchemy ``get_backend_name()``) this plugin serves.

    Used by ``npa providers`` and by the error shown when no provider matches a URL.

    :returns: e.g. ``["sqlite"]``.
    """


# --------------------------------------------------------------------------------------
# SQL generation
# --------------------------------------------------------------------------------------

@hookspec(firstresult=True)
def npa_generate_sql(provider: "BaseProvider", operation: "MigrationOperation"
                     ) -> "list[Statement | str] | None":
    """Turn one migration operation into SQL statements for one provider.

    The core's default (``trylast``) calls ``provider.generate_sql(operation)``. A plugin
    overrides a single operation on a single provider with ``@hookimpl(tryfirst=True)``,
    returning ``None`` whenever it does not apply, e.g. ``CREATE INDEX CONCURRENTLY`` for
    :class:`~npa_migrations.operations.CreateIndex` on PostgreSQL.

    :param provider: the provider the SQL is for (``provider.name``, ``provider.dialect``).
    :param operation: the operation to render.
    :returns: statements in execution order (plain strings or
        :class:`~npa_migrations.provider.Statement` objects), or ``None``.

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
    :returns: a :class:`~npa_migrations.locking.MigrationLock`, or ``None``.

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
    :returns: a :class:`~npa_migrations.history.HistoryStore`, or ``None``.

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
def npa_statement_executed(migration: "MigrationScript", statement: "Statement",
                           duration: float) -> None:
    """Called after each SQL statement succeeded.

    :param migration: the migration the statement belongs to.
    :param statement: the executed statement (``statement.sql``).
    :param duration: seconds it took.
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
def npa_migration_end(migration: "MigrationScript", direction: str, duration: float,
                      error: "BaseException | None") -> None:
    """Called after a migration committed (``error`` is ``None``) or failed.

    :param migration: the migration that ran.
    :param direction: ``"up"`` or ``"down"``.
    :param duration: seconds it took.
    :param error: the :class:`~npa_migrations.errors.MigrationException`, or ``None``.
    """
