"""Options of :class:`~npa_migrations.engine.executor.MigrationExecutor`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigurationError

#: default names of the engine's own tables (options ``history_table``, ``lock_table``,
#: ``log_table``)
DEFAULT_HISTORY_TABLE = "npa_migrations_history"
DEFAULT_LOCK_TABLE = "npa_migrations_lock"
DEFAULT_LOG_TABLE = "npa_migrations_log"


class TransactionMode(str, enum.Enum):
    """How migrations are wrapped in transactions.

    * ``PER_MIGRATION`` (default): each migration and its history row commit together.
    * ``ALL_IN_ONE``: every pending migration in one transaction; refused on databases
      without transactional DDL.
    * ``NONE``: statements auto-commit; a failure is recorded as a failed migration.
    """

    PER_MIGRATION = "per-migration"
    ALL_IN_ONE = "all-in-one"
    NONE = "none"

    @classmethod
    def parse(cls, value: "str | TransactionMode") -> "TransactionMode":
        """A mode from its name (``per-migration``, ``all_in_one``, ...); an unknown name
        is a :class:`~npa_migrations.errors.ConfigurationError` listing the allowed ones."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).lower().replace("_", "-"))
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ConfigurationError(
                f"Unknown transaction mode '{value}'; use one of: {allowed}.") from None


class OutOfOrder(str, enum.Enum):
    """What to do with a pending migration older than the newest applied one.

    * ``ERROR`` (default): validation fails, nothing is applied.
    * ``APPLY``: apply it anyway (teams merging branches).
    * ``IGNORE``: leave it pending and apply only the newer ones.
    """

    ERROR = "error"
    APPLY = "apply"
    IGNORE = "ignore"

    @classmethod
    def parse(cls, value: "str | bool | OutOfOrder") -> "OutOfOrder":
        """A policy from its name (``error``, ``apply``, ``ignore``) or a bool (``True``
        = apply); an unknown name is a :class:`~npa_migrations.errors.ConfigurationError`."""
        if isinstance(value, cls):
            return value
        if value is True:
            return cls.APPLY
        if value is False:
            return cls.ERROR
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ConfigurationError(
                f"Unknown out_of_order policy '{value}'; use one of: error, apply, ignore."
            ) from None


@dataclass
class MigrationExecutorOptions:
    """Everything that changes how a run behaves (SPEC §6).

    :ivar transaction_mode: see :class:`TransactionMode` (its value, e.g. ``"none"``, is
        accepted too and parsed).
    :ivar timeout_seconds: statement timeout where the database supports one; ``None``
        (the default) leaves the server's setting, ``0`` means no limit. Long index
        builds and backfills are normal migrations, so there is none unless asked.
    :ivar validate_checksums: compare checksums of applied migrations with the files.
    :ivar ensure_created: create the database itself when it does not exist.
    :ivar acquire_lock: take the migration lock (turn off only for single-process tools).
    :ivar lock_timeout_seconds: how long to wait for the migration lock.
    :ivar stop_on_error: stop at the first failed migration (else continue with the next
        ones that do not depend on it; only in per-migration mode).
    :ivar on_progress: ``callback(migration, step)`` for start, each operation and the end.
    :ivar out_of_order: see :class:`OutOfOrder` (its value, or ``True``/``False``, is
        accepted too and parsed).
    :ivar history_table: name of the history table.
    :ivar lock_table: name of the lock table (table-lock providers).
    :ivar ddl_lock_timeout_seconds: how long one DDL statement may wait for a table lock
        (providers that support it); ``None`` leaves the database default.
    :ivar ddl_lock_retries: how many times a migration that failed on that timeout is retried.
    :ivar check_drift: before applying, compare the live schema with the applied migrations
        and report drift with the other validation errors (nothing is applied).
    :ivar verify: after each migration, reflect the tables it touched and check that each
        operation did what it declares (:mod:`npa_migrations.schema.verify`); the CLI turns it on.
    :ivar log_table: name of the append-only event log table; ``None`` turns the log off.
    :ivar placeholders: values of the ``${name}`` placeholders of ``.sql`` migrations
        (:mod:`npa_migrations.builtin.placeholders`; the CLI merges
        ``[tool.npa.placeholders]`` and the ``NPA_PLACEHOLDER_<NAME>`` environment
        variables into it).
    """

    transaction_mode: TransactionMode = TransactionMode.PER_MIGRATION
    timeout_seconds: float | None = None
    validate_checksums: bool = True
    ensure_created: bool = False
    acquire_lock: bool = True
    lock_timeout_seconds: float = 30
    stop_on_error: bool = True
    on_progress: Callable[[Any, Any], None] | None = None
    out_of_order: OutOfOrder = OutOfOrder.ERROR
    history_table: str = DEFAULT_HISTORY_TABLE
    lock_table: str = DEFAULT_LOCK_TABLE
    ddl_lock_timeout_seconds: float | None = None
    ddl_lock_retries: int = 3
    check_drift: bool = False
    verify: bool = False
    log_table: str | None = DEFAULT_LOG_TABLE
    placeholders: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.transaction_mode = TransactionMode.parse(self.transaction_mode)
        self.out_of_order = OutOfOrder.parse(self.out_of_order)
        if self.lock_timeout_seconds is None or self.lock_timeout_seconds < 0:
            raise ConfigurationError("lock_timeout_seconds must be a number >= 0.")
