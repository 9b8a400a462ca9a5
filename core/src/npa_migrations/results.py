"""Results of a run: :class:`MigrationResult`, :class:`MigrationError`, progress steps,
and :class:`MigrationStatus`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class MigrationError:
    """One failure of a run.

    :ivar migration_id: the migration that failed (``None`` for run-level errors).
    :ivar message: what went wrong and what to do.
    :ivar exception: the underlying exception.
    """

    migration_id: str | None
    message: str
    exception: BaseException | None = None


@dataclass
class MigrationResult:
    """Outcome of ``execute`` / ``rollback``.

    :ivar migration_ids: ids of the migrations applied (or reverted, for a rollback), in
        order.
    :ivar duration: wall time of the run.
    :ivar errors: failures; empty when the run succeeded.
    :ivar migrations_ignored: ids not applied because they are older than the newest
        applied one and ``out_of_order`` is ``ignore`` (``up`` only).
    """

    migration_ids: list[str] = field(default_factory=list)
    duration: dt.timedelta = dt.timedelta(0)
    errors: list[MigrationError] = field(default_factory=list)
    direction: str = "up"
    migrations_ignored: list[str] = field(default_factory=list)

    @property
    def migrations_applied(self) -> int:
        """How many migrations were applied (or reverted, for a rollback): SPEC §6, the
        seed's ``int MigrationsApplied``; the ids are :attr:`migration_ids`."""
        return len(self.migration_ids)

    @property
    def success(self) -> bool:
        """``True`` when no migration failed."""
        return not self.errors

    def first_failure(self) -> BaseException:
        """The exception of the first failure, to re-raise where a caller needs the run to
        succeed (a :class:`~npa_migrations.errors.MigrationException` when only the
        message was kept)."""
        from .errors import MigrationException

        error = self.errors[0]
        return error.exception or MigrationException(error.message, migration_id=error.migration_id)


@dataclass(frozen=True)
class ProgressStep:
    """What ``on_progress(migration, step)`` receives.

    :ivar kind: ``"start"``, ``"operation"``, ``"end"``, ``"error"``, ``"retry"`` (the
        migration hit the DDL lock timeout, was rolled back and runs again), or
        ``"progress"`` (a chunk of a backfill ran: the rows done so far), or ``"skipped"``
        (an operation that does nothing on this database, e.g. SQL for other dialects).
    :ivar message: human text, e.g. ``"Adding column 'description'"``.
    :ivar duration: seconds, for ``operation`` and ``end``.
    """

    kind: str
    message: str
    duration: float | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class AppliedMigration:
    """A migration as the history records it."""

    id: str
    applied_at: dt.datetime | None
    checksum: str
    success: bool
    execution_ms: int
    #: ``applied``, ``running`` / ``stopped`` (interrupted: the next run continues it) or
    #: ``failed`` (``npa migrate repair``)
    status: str = "applied"


@dataclass
class MigrationStatus:
    """What ``status()`` returns.

    :ivar database: the database name (never the password).
    :ivar current: id of the newest successfully applied migration, or ``None``.
    :ivar applied: rows of the history (successful and failed), in applied order.
    :ivar pending: ids discovered but not applied, in the order they would run.
    :ivar failed: ids recorded as failed (repair needed).
    :ivar missing: ids applied but no longer found in the sources.
    :ivar problems: every :class:`~npa_migrations.engine.ordering.ValidationProblem` that
        ``validate()`` reports (edited, out-of-order, failed, missing, dependency), so a
        status shows what would stop ``up`` before it runs.
    :ivar interrupted: ids of migrations whose run was interrupted (the next run in the
        same direction continues them).
    :ivar repeatables: ids of the repeatable migrations (applied or not); those in
        :attr:`pending` run at the end of the next ``up`` (never applied, or changed).
    """

    database: str
    current: str | None
    applied: list[AppliedMigration]
    pending: list[str]
    failed: list[str]
    missing: list[str]
    problems: list = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    repeatables: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        """Nothing for ``up`` to do: nothing pending, nothing interrupted."""
        return not self.pending and not self.interrupted

    def to_json(self) -> dict:
        """The ``npa migrate status --json`` document."""
        return {
            "database": self.database,
            "current": self.current,
            "applied": [{"id": a.id,
                         "applied_at": a.applied_at.isoformat() + "Z" if a.applied_at else None,
                         "checksum": a.checksum, "success": a.success} for a in self.applied],
            "pending": [{"id": p} for p in self.pending],
            "problems": [p.to_json() for p in self.problems],
            "interrupted": list(self.interrupted),
            "repeatables": list(self.repeatables),
        }
