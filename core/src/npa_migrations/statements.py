"""Statement and Step: the SQL the engine executes, grouped by the operations they serve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .connection import DbConnection
    from .operations import MigrationOperation


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

    def render(self) -> str:
        """Text for a SQL script (no bound parameters); rendered only when asked for."""
        if callable(self.script):
            self.script = self.script()
        return self.script if self.script is not None else self.sql


@dataclass
class Step:
    """One or more operations executed as a unit (a SQLite rebuild groups several).

    ``render(connection)`` produces the statements right before they run, so a step can
    reflect the table as the earlier steps of the same migration left it. It may return
    a list or be a generator: the engine runs each statement as soon as it is produced,
    so a generator can read the database again between its statements. ``connection``
    is ``None`` when a script is rendered offline.
    """

    operations: tuple["MigrationOperation", ...]
    render: Callable[["DbConnection | None"], Iterable[Statement]]
    #: whether the statements may run inside a transaction
    transactional: bool = True
    #: ``render`` reads the live schema (a SQLite rebuild reflects its table), so a
    #: ``--sql`` script must be rendered online with the earlier statements applied
    live: bool = False
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return "; ".join(op.describe() for op in self.operations)
