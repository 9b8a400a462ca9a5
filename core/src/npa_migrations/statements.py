"""Statement and Step: the SQL the engine executes, grouped by the operations they serve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .operations import MigrationOperation
    from .provider.context import RenderContext


@dataclass
class Statement:
    """One SQL statement with optional bound parameters.

    :ivar sql: the SQL text in the driver's parameter style.
    :ivar params: parameters for one execution, or an iterable of them when ``many``.
    :ivar many: execute with ``executemany`` (streamed in batches).
    :ivar script: how the statement reads in a ``--sql`` script when it has parameters
        (values rendered as literals); ``None`` means ``sql`` itself.
    :ivar check: called with the DB-API cursor after the statement ran; it raises to fail
        the migration on what the statement returned (e.g. rows of SQLite's
        ``PRAGMA foreign_key_check``). Not called when a script is only rendered.
    """

    sql: str
    params: Any = None
    many: bool = False
    script: "str | Callable[[], str] | None" = None
    check: "Callable[[Any], None] | None" = None
    #: how error messages, the event log and :class:`MigrationException` name the
    #: statement when it fails; ``None``: :meth:`render` (e.g. PostgreSQL's bulk insert
    #: runs as ``COPY ... FROM STDIN`` while its script shows ``INSERT`` statements)
    label: str | None = None
    #: Python code that runs instead of ``sql``, called with the
    #: :class:`~npa_migrations.provider.connection.DbConnection` (a ``run_python`` step);
    #: ``sql`` is then the comment a ``--sql`` script shows in its place
    run: "Callable[[Any], None] | None" = None
    #: set by a statement of a data step once it ran: where the step continues after it
    #: (JSON-able, e.g. the last key a backfill chunk reached); the journal records it
    #: with the statement, and the step renders from it when a run continues
    checkpoint: Any = None
    #: set by a statement of a data step once it ran: the rows the step has changed so
    #: far (progress events report it)
    rows_done: int | None = None

    @property
    def plain(self) -> bool:
        """SQL text alone: no parameters, not Python code, nothing to check after it --
        a statement that may travel to the server together with others
        (:meth:`~npa_migrations.provider.driver.Driver.execute_batch`)."""
        return self.params is None and self.run is None and self.check is None \
            and not self.many

    def describe(self) -> str:
        """How a failure names this statement: :attr:`label`, else :meth:`render`."""
        return self.label if self.label is not None else self.render()

    def render(self) -> str:
        """Text for a SQL script (no bound parameters); rendered only when asked for."""
        if callable(self.script):
            self.script = self.script()
        return self.script if self.script is not None else self.sql


@dataclass(slots=True)
class Step:
    """One or more operations executed as a unit (a SQLite rebuild groups several).
    Slotted: a large ``.sql`` file makes one per statement.

    ``render(context)`` produces the statements right before they run, so a step can
    reflect the table as the earlier steps of the same migration left it. It may return
    a list or be a generator: the engine runs each statement as soon as it is produced,
    so a generator can read the database again between its statements. The
    :class:`~npa_migrations.provider.context.RenderContext` carries the live connection, or
    none when a script is rendered offline.
    """

    operations: tuple["MigrationOperation", ...]
    render: Callable[["RenderContext"], Iterable[Statement]]
    #: whether the statements may run inside a transaction; a migration with a step
    #: that may not runs outside a transaction as a whole (hook
    #: ``npa_operation_transactional``, e.g. PostgreSQL ``CREATE INDEX CONCURRENTLY``)
    transactional: bool = True
    #: ``render`` reads the live schema (a SQLite rebuild reflects its table), so a
    #: ``--sql`` script must be rendered online with the earlier statements applied
    live: bool = False
    #: a data step (``run_python``, the chunks of a ``backfill``): where the migration
    #: runs outside a transaction, each of its statements runs in a transaction of its
    #: own, committed with the journal's record of it (and its :attr:`Statement.checkpoint`),
    #: so an interrupted run continues after the last statement that committed and never
    #: applies one twice
    data: bool = False

    def describe(self) -> str:
        """The human lines of its operations, joined with ``; ``."""
        return "; ".join(op.describe() for op in self.operations)


def steps_transactional(steps: Iterable[Step]) -> bool:
    """Whether every step may run inside a transaction (:attr:`Step.transactional`)."""
    return all(step.transactional for step in steps)
