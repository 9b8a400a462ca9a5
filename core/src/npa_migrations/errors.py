"""Exceptions the engine raises; each carries the CLI exit code it maps to.

Every message says what went wrong, which migration / statement / file it concerns,
and what to do next (SPEC §8). The CLI prints ``str(error)`` without a traceback.
"""

from __future__ import annotations


class NpaError(Exception):
    """Base class of every expected, user-facing error of npa-migrations."""

    #: process exit code used by the ``npa`` CLI for this kind of error
    exit_code = 1


class ConfigurationError(NpaError):
    """Bad usage or configuration: unknown option value, bad URL, missing provider."""

    exit_code = 2


class MigrationSourceError(ConfigurationError):
    """A migration file or module cannot be loaded (syntax, missing class, duplicate id)."""


class ProviderNotFoundError(ConfigurationError):
    """No installed provider serves the database URL; the message names the package."""


class DatabaseUnavailableError(ConfigurationError):
    """The database cannot be reached (server down, wrong host, credentials)."""


class UnknownTargetError(ConfigurationError):
    """A ``--target`` names no known migration."""


class ValidationError(NpaError):
    """History validation failed; nothing was applied.

    :ivar problems: every problem found, each a :class:`ValidationProblem`.
    """

    exit_code = 3

    def __init__(self, problems):
        self.problems = list(problems)
        lines = [f"Validation failed ({len(self.problems)} problem"
                 f"{'s' if len(self.problems) != 1 else ''}); nothing was applied:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class LockTimeoutError(NpaError):
    """The migration lock was not acquired within the lock timeout.

    :ivar holder: description of the current holder when the database can tell, else ``None``.
    """

    exit_code = 4

    def __init__(self, message: str, holder: str | None = None):
        self.holder = holder
        super().__init__(message)


class MigrationException(NpaError):
    """A migration failed while it ran.

    :ivar migration_id: id of the failed migration.
    :ivar statement: the SQL statement that failed (``None`` if none ran yet).
    :ivar original: the driver's exception.
    """

    exit_code = 1

    def __init__(self, message: str, *, migration_id: str | None = None,
                 statement: str | None = None, original: BaseException | None = None):
        self.migration_id = migration_id
        self.statement = statement
        self.original = original
        super().__init__(message)


class FailedMigrationPendingError(MigrationException):
    """A migration is recorded as failed; ``npa migrate repair`` must settle it first."""


class IrreversibleMigrationError(NpaError):
    """A rollback reached a migration that has no ``down`` steps."""

    exit_code = 1


class VerificationError(NpaError):
    """Post-execution verification found that an operation did not do what it said.

    :ivar differences: the :class:`~npa_migrations.schema.compare.Difference` objects
        found, each blamed on one operation of the migration.
    """

    exit_code = 1
    label = "Verification found"

    def __init__(self, message: str, differences: list | None = None):
        self.differences = list(differences or [])
        super().__init__(message)
