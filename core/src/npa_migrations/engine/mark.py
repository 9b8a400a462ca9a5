"""``npa migrate mark ID --applied | --pending``: record one migration as applied without
running it, or forget its history row so that the next ``up`` runs it.

For the DBA who applied a change by hand (``--applied``) or reverted one by hand
(``--pending``). The rules:

* it works under the migration lock, and the history change and one ``mark`` row in
  the event log are written in one transaction;
* ``--applied`` records the migration with its current checksum; one already applied is
  left as it is; ``--pending`` deletes its row (a squash's: the rows of the migrations it
  replaces too, so it is not counted as applied again); one not recorded is an error;
* a failed or interrupted migration is refused: ``npa migrate repair`` settles those;
* what would leave the history inconsistent is refused, naming why, unless ``force``:
  marking applied while an older migration is still pending, or while a migration it
  depends on is not applied; marking pending while a newer migration is applied, or
  while an applied migration depends on it. Repeatable migrations have no order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigurationError, UnknownTargetError
from .history import APPLIED

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from .session import Session
    from .squash import SquashedView


@dataclass
class MarkReport:
    """What a mark did.

    :ivar migration_id: the migration marked.
    :ivar applied: ``True`` for ``--applied``, ``False`` for ``--pending``.
    :ivar changed: ``False`` when the history already said so.
    :ivar forced: the inconsistencies ``--force`` let through.
    """

    migration_id: str
    applied: bool
    changed: bool = True
    forced: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The ``npa migrate mark --json`` document."""
        return {"migration_id": self.migration_id,
                "marked": "applied" if self.applied else "pending",
                "changed": self.changed, "forced": list(self.forced)}


def mark(session: "Session", view: "SquashedView", migration_id: str, *, applied: bool,
         force: bool = False) -> MarkReport:
    """Mark ``migration_id`` applied or pending on ``session`` (open, under the migration
    lock), judged against ``view`` (see the module docs)."""
    report = MarkReport(migration_id, applied)
    row = view.rows.get(migration_id)
    if row is not None and row.status != APPLIED:
        raise ConfigurationError(
            f"Migration {migration_id} is recorded as {row.status}; settle it with 'npa "
            "migrate repair' (--mark-applied or --mark-rolled-back). Nothing was changed.")
    scripts = {s.id: s for s in view.scripts}
    if applied:
        script = scripts.get(migration_id)
        if script is None:
            raise UnknownTargetError(
                f"Unknown migration '{migration_id}': no migration has that id (or a squash "
                "stands for it). Run 'npa migrate status' to list the ids.")
        if row is not None:
            report.changed = False
            return report
        problems = _applied_problems(script, view)
    else:
        if row is None:
            raise ConfigurationError(
                f"Migration {migration_id} is not recorded as applied, so there is nothing "
                "to mark pending. Run 'npa migrate status' to see what is applied.")
        problems = _pending_problems(migration_id, view)
    if problems and not force:
        raise ConfigurationError(
            f"Marking {migration_id} {'applied' if applied else 'pending'} would leave the "
            "history inconsistent: " + "; ".join(problems) + ". Nothing was changed; give "
            "--force to mark it anyway.")
    report.forced = problems
    _write(session, report, scripts.get(migration_id))
    return report


def _applied_problems(script: "MigrationScript", view: "SquashedView") -> list[str]:
    rows = view.rows
    found = [f"it depends on {dep}, which is not applied" for dep in script.depends_on
             if dep in {s.id for s in view.scripts} and dep not in rows]
    if not script.repeatable:
        order = [s for s in view.scripts if not s.repeatable]
        older = [s.id for s in order[:order.index(script)] if s.id not in rows]
        if older:
            found.append(f"older migration(s) {', '.join(older)} are still pending, and "
                         "would then count as out of order")
    return found


def _pending_problems(migration_id: str, view: "SquashedView") -> list[str]:
    rows = view.rows
    versioned = [s for s in view.scripts if not s.repeatable]
    ids = [s.id for s in versioned]
    found = [f"applied migration {s.id} depends on it" for s in view.scripts
             if migration_id in s.depends_on and s.id in rows]
    if migration_id in ids:
        newer = [i for i in ids[ids.index(migration_id) + 1:] if i in rows]
        if newer:
            found.append(f"newer migration(s) {', '.join(newer)} are applied, so it would "
                         "then be pending out of order")
    return found


def _write(session: "Session", report: MarkReport, script: "MigrationScript | None") -> None:
    conn = session.connection
    forced = f" (--force: {'; '.join(report.forced)})" if report.forced else ""
    session.begin()
    try:
        if script is not None and report.applied:
            session.history.record(conn, script.id, script.checksum, 0, True)
            detail = "marked applied without running it"
        else:
            for migration_id in (report.migration_id, *(script.replaces if script else ())):
                session.history.delete(conn, migration_id)
            detail = "marked pending: its history row was deleted without running its down"
        session.eventlog.record(conn, "mark", migration_id=report.migration_id,
                                checksum=script.checksum if script else None, duration_ms=0,
                                detail=detail + forced)
        session.commit()
    except BaseException:
        session.rollback()
        raise
