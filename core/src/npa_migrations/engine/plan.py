"""The plan: which migrations a run carries out, in which direction, from where.

This module is the one place that decides what ``up`` applies and what ``down`` reverts
-- the executor, the CLI's ``--dry-run`` and the script writer all take the same
:class:`Plan` from :func:`select_up` / :func:`select_down` (through
:meth:`MigrationExecutor.plan() <npa_migrations.engine.executor.MigrationExecutor.plan>`).

A migration whose run was interrupted (its history row is ``running`` or ``stopped``)
is continued, not started again: its :class:`PlannedMigration` carries the history row,
and the runner starts at the position the row records.

Repeatable migrations (``R__<name>``) run after the versioned ones, when they were never
applied or their checksum changed; ``down`` reverts them only when asked
(``include_repeatables``). An offline script is planned from the history of the database
it is written for (:func:`assumed_history`): none for ``up``, the migrations up to
``--from`` for a range, all of them for ``down``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from ..errors import ConfigurationError, IrreversibleMigrationError, UnknownTargetError
from ..options import OutOfOrder
from .history import APPLIED, HistoryRow, Position
from .validation import pending_migrations, repeatables_due

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..migration import MigrationScript
    from ..operations import MigrationOperation

UP, DOWN, UNDO = "up", "down", "undo"


@dataclass
class PlannedMigration:
    """One migration of a plan.

    :ivar script: the migration.
    :ivar direction: ``up`` (apply), ``down`` (revert) or ``undo`` (revert the part of a
        failed ``up`` that took effect: ``repair --undo-partial``).
    :ivar operations: what runs, in the author's order (the planner orders them): a
        list, or the :class:`~npa_migrations.operations.OperationStream` of a large
        ``.sql`` file.
    :ivar resume: the migration's history row when it has one (applied, or left failed or
        under way by an earlier run), else ``None``; a run in the row's own direction that
        did not finish continues from the row's position.
    """

    script: "MigrationScript"
    direction: str
    operations: "Sequence[MigrationOperation]"
    resume: "HistoryRow | None" = None
    #: where the run starts: the recorded position of an interrupted run in the same
    #: direction, else the beginning (a retry moves it on)
    start: Position = field(default_factory=Position)

    def __post_init__(self) -> None:
        if self.resume is not None and self.continues:
            self.start = self.resume.position

    @property
    def continues(self) -> bool:
        """Whether an earlier run of this migration in this direction did not finish (its
        row is failed or under way), so this run continues it."""
        return (self.resume is not None and not self.resume.success
                and (self.resume.direction or UP) == self.direction)

    @property
    def id(self) -> str:
        """The migration's id."""
        return self.script.id


@dataclass
class Plan:
    """What a run carries out.

    :ivar direction: ``up`` or ``down`` (a ``repair`` plan is ``up`` or ``undo``).
    :ivar migrations: the migrations in run order.
    :ivar ignored: pending migrations left out because they are older than the newest
        applied one and ``out_of_order`` is ``ignore`` (``up`` only).
    """

    direction: str
    migrations: list[PlannedMigration] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[PlannedMigration]:
        return iter(self.migrations)

    def __len__(self) -> int:
        return len(self.migrations)

    @property
    def scripts(self) -> list["MigrationScript"]:
        """The migrations' scripts, in run order."""
        return [m.script for m in self.migrations]


def select_up(scripts: list["MigrationScript"], rows: dict[str, "HistoryRow"], *,
              out_of_order: OutOfOrder = OutOfOrder.ERROR,
              target: str | None = None) -> Plan:
    """What ``up`` carries out: first every migration whose ``up`` was interrupted (it
    continues), then the pending ones in run order up to ``target`` (inclusive), then --
    without a ``target`` -- the repeatable migrations never applied or changed since."""
    order = {s.id: position for position, s in enumerate(scripts)}
    if target is not None and target not in order:
        raise UnknownTargetError(
            f"Target {target} is replaced by a squashed migration on this database; give "
            "the squash (or a later migration) as the target.")
    limit = order[target] if target is not None else len(order)
    resumed = [PlannedMigration(s, UP, s.up_operations(), rows[s.id]) for s in scripts
               if s.id in rows and rows[s.id].under_way and (rows[s.id].direction or UP) == UP]
    pending = [PlannedMigration(s, UP, s.up_operations())
               for s in pending_migrations(scripts, rows, out_of_order)
               if order[s.id] <= limit]
    if target is None:
        pending += [PlannedMigration(s, UP, s.up_operations())
                    for s in repeatables_due(scripts, rows)]
    plan = Plan(UP, resumed + pending)
    if out_of_order is OutOfOrder.IGNORE:
        kept = {s.id for s in pending_migrations(scripts, rows, OutOfOrder.IGNORE)}
        plan.ignored = [s.id for s in scripts if s.id not in rows and s.id not in kept]
    return plan


def select_down(scripts: list["MigrationScript"], rows: dict[str, "HistoryRow"], *,
                target: str | None = None, steps: int | None = None,
                include_repeatables: bool = False) -> Plan:
    """What ``down`` reverts, newest first: a rollback that was interrupted first (it
    continues, and counts as one step), then -- with ``include_repeatables`` -- every
    applied repeatable migration (they count as no step), then the last ``steps``
    applied versioned migrations (default 1), or every one applied after ``target``
    (which stays applied).

    Raises :class:`IrreversibleMigrationError` when a chosen migration has no down steps
    and :class:`UnknownTargetError` when ``target`` is not applied.
    """
    if steps is not None and steps < 1:
        raise ConfigurationError(f"--steps must be at least 1 (got {steps}).")
    resumed = [s for s in scripts if s.id in rows and rows[s.id].under_way
               and rows[s.id].direction == DOWN]
    done = [s for s in scripts if s.id in rows and rows[s.id].status == APPLIED]
    repeatables = [s for s in done if s.repeatable] if include_repeatables else []
    applied = [s for s in done if not s.repeatable]
    if target is not None:
        ids = [s.id for s in applied]
        if target not in ids:
            raise UnknownTargetError(
                f"Target {target} is not applied, so there is nothing to roll back to. "
                "Run 'npa migrate status' to see what is applied.")
        chosen = applied[ids.index(target) + 1:]
    else:
        count = max(0, (steps or 1) - len(resumed))
        chosen = applied[len(applied) - count:] if count else []
    ordered = list(reversed(resumed)) + list(reversed(repeatables)) + list(reversed(chosen))
    irreversible = [(s, s.irreversible()) for s in ordered]
    irreversible = [(s, why) for s, why in irreversible if why]
    if irreversible:
        raise IrreversibleMigrationError(
            "Cannot roll back: " + "; ".join(f"{s.id} ({s.source}) {why}"
                                             for s, why in irreversible)
            + ". Add the steps that revert it to down() / the '-- npa:down' section; if "
            "there is nothing to undo, say so with 'empty_down = True' on the class / "
            "'-- npa:empty-down' instead of '-- npa:down'. Or roll back to a later target. "
            "Nothing was rolled back.")
    return Plan(DOWN, [PlannedMigration(s, DOWN, s.down_operations() or [], rows[s.id])
                       for s in ordered])


def assumed_history(scripts: list["MigrationScript"], *, through: str | None = None
                    ) -> dict[str, HistoryRow]:
    """The history of the database an offline script is written for: every versioned
    migration up to and including ``through`` applied (``up --from``), or with ``through``
    ``None`` every migration, repeatable ones included (what ``down`` rolls back)."""
    if through is None:
        chosen = scripts
    else:
        versioned = [s for s in scripts if not s.repeatable]
        ids = [s.id for s in versioned]
        if through not in ids:
            raise UnknownTargetError(
                f"--from {through}: a repeatable migration cannot start a range; give the "
                "newest versioned migration the database has applied.")
        chosen = versioned[:ids.index(through) + 1]
    return {s.id: HistoryRow(s.id, s.checksum, None, 0, "", True) for s in chosen}


def check_range(scripts: list["MigrationScript"], start: str, target: str | None) -> None:
    """Refuse ``--from start --target target`` when the target does not come after the
    start: the script would apply nothing."""
    order = [s.id for s in scripts]
    if target is not None and order.index(target) <= order.index(start):
        raise ConfigurationError(
            f"--target {target} is not after --from {start}, so the range holds no "
            "migration. Give a target after the start, or leave --target out.")
