"""``npa migrate baseline --target ID``: adopt a database created before the tool.

Records every migration up to and including ``ID`` as applied -- history rows with the
current checksums, ``success = true``, ``execution_ms = 0`` -- without running anything,
so the next ``up`` applies only the migrations after it. The rules:

* the target must be a known migration (full id or 14-digit timestamp);
* refused while the history has a failed entry (settle it with ``npa migrate repair``);
* refused when a migration ordered *after* the target is already recorded: the database
  is past the baseline, and marking older migrations applied now would rewrite history
  (use ``npa migrate repair --mark-applied`` / ``up --out-of-order`` instead);
* migrations up to the target that are already recorded are left as they are, so a
  baseline on a database that already has some history only fills the gap, and running
  the same baseline twice does nothing;
* it runs under the migration lock, and the history rows and one ``baseline`` row per
  migration in the event log are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from .session import Session


class BaselineError(ConfigurationError):
    """A baseline that would contradict the history; nothing was recorded."""


@dataclass
class BaselineReport:
    """What a baseline did.

    :ivar target: the baseline migration id.
    :ivar recorded: ids newly recorded as applied, in order.
    :ivar already_applied: ids up to the target that were already in the history.
    """

    target: str
    recorded: list[str] = field(default_factory=list)
    already_applied: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The ``npa migrate baseline --json`` document."""
        return {"target": self.target, "recorded": list(self.recorded),
                "already_applied": list(self.already_applied)}


def baseline(session: "Session", scripts: list["MigrationScript"], target_id: str
             ) -> BaselineReport:
    """Mark every migration of ``scripts`` up to ``target_id`` as applied (see the module
    docs), on ``session`` under the migration lock."""
    if not target_id:
        raise ConfigurationError("baseline needs --target ID: the newest migration the "
                                 "existing database already contains.")
    order = [s.id for s in scripts]
    limit = order.index(target_id)
    report = BaselineReport(target_id)
    with session.locked():
        session.ensure_tables()
        rows = session.read_history()
        unsettled = [r.migration_id for r in rows.values() if not r.success]
        if unsettled:
            raise BaselineError(
                f"Cannot baseline: {', '.join(unsettled)} is recorded as failed or "
                "interrupted. Settle it with 'npa migrate repair' first. Nothing was "
                "recorded.")
        later = [i for i in rows if i in order and order.index(i) > limit]
        if later:
            raise BaselineError(
                f"Cannot baseline at {target_id}: the history already records later "
                f"migration(s) {', '.join(later)}, so this database is past that point. "
                "Baseline only adopts a database at the start of its history; use 'npa "
                "migrate repair --mark-applied' or 'npa migrate up --out-of-order apply' "
                "for gaps. Nothing was recorded.")
        chosen = scripts[:limit + 1]
        report.already_applied = [s.id for s in chosen if s.id in rows]
        todo = [s for s in chosen if s.id not in rows]
        if not todo:
            return report
        conn = session.connection
        session.begin()
        try:
            for script in todo:
                session.history.record(conn, script.id, script.checksum, 0, True)
                session.eventlog.record(conn, "baseline", migration_id=script.id,
                                        checksum=script.checksum, duration_ms=0,
                                        detail=f"baseline at {target_id}: recorded as "
                                               "applied without running it")
            session.commit()
        except BaseException:
            session.rollback()
            raise
        report.recorded = [s.id for s in todo]
    return report
