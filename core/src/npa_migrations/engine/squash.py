"""Squashed migrations: one migration that stands for a run of older ones.

A migration that declares ``replaces = (ids...)`` (a ``.sql`` file: ``-- npa:replaces``
lines) squashes them. How a database sees it depends on what its history holds, and
:func:`resolve_squashes` turns that into the migrations and history rows that validation,
the plan and ``status`` work with:

* the squash is recorded -- it was applied: the replaced migrations count as applied too
  (their rows, if any, and their files, if any, are out of the picture);
* every replaced migration is applied, the squash is not recorded: the squash counts as
  applied (a row is made up for it; ``up`` / ``down`` / ``mark`` record it for real first,
  :func:`unrecorded_squashes`), and the replaced files may be deleted without a
  "missing migration" error;
* none of them is applied (a fresh database): the squash is pending and runs alone; the
  replaced migrations are not pending;
* some are applied: the squash stays out of the picture and the replaced migrations that
  are not applied yet run from their own files -- once all are applied, the squash counts
  as applied. Their files must still be there: a validation problem (``squash``) says so.

Rolling a squash back reverts it with its own ``down`` and forgets the rows of the
migrations it replaces as well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .history import APPLIED
from .ordering import ValidationProblem

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from .history import HistoryRow
    from .session import Session

#: the sort key of a row without a time
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass
class SquashedView:
    """The migrations and history as the engine sees them once squashes are resolved.

    :ivar scripts: the migrations in run order, without those a squash stands for.
    :ivar rows: the history, without the rows a recorded or counted squash covers, and
        with a made-up applied row for a squash counted as applied.
    :ivar unrecorded: ids of squashes counted as applied whose own row is made up.
    :ivar problems: partially applied squashes whose missing replaced files are needed.
    """

    scripts: list["MigrationScript"]
    rows: dict[str, "HistoryRow"]
    unrecorded: list[str] = field(default_factory=list)
    problems: list[ValidationProblem] = field(default_factory=list)


def resolve_squashes(scripts: list["MigrationScript"], rows: dict[str, "HistoryRow"]
                     ) -> SquashedView:
    """The view of ``scripts`` and history ``rows`` with every squash resolved (see the
    module docs)."""
    squashes = [s for s in scripts if s.replaces]
    if not squashes:
        return SquashedView(scripts, rows)
    known = {s.id for s in scripts}
    hidden_scripts: set[str] = set()
    hidden_rows: set[str] = set()
    made_up: dict[str, "HistoryRow"] = {}
    view = SquashedView(scripts, rows)
    for squash in squashes:
        replaced = squash.replaces
        applied = [rows[i] for i in replaced if i in rows and rows[i].status == APPLIED]
        if squash.id in rows or len(applied) == len(replaced):
            hidden_scripts.update(replaced)
            hidden_rows.update(replaced)
            if squash.id not in rows:
                newest = max(applied, key=lambda r: r.applied_at or _EPOCH)
                made_up[squash.id] = replace(newest, migration_id=squash.id,
                                             checksum=squash.checksum)
                view.unrecorded.append(squash.id)
        elif not any(i in rows for i in replaced):
            hidden_scripts.update(replaced)
        else:
            hidden_scripts.add(squash.id)
            hidden_rows.update(i for i in replaced if i in rows and i not in known)
            missing = [i for i in replaced if i not in rows and i not in known]
            if missing:
                view.problems.append(ValidationProblem(
                    "squash", squash.id,
                    f"Migration {squash.id} ({squash.source}) replaces "
                    f"{', '.join(replaced)}; this database applied only "
                    f"{', '.join(r.migration_id for r in applied) or 'some of them'}, and the "
                    f"file(s) of {', '.join(missing)} are gone, so the rest cannot run. "
                    "Restore those files until every database has applied all the "
                    "migrations the squash replaces."))
    view.scripts = [s for s in scripts if s.id not in hidden_scripts]
    view.rows = {i: r for i, r in rows.items() if i not in hidden_rows}
    view.rows.update(made_up)
    return view


def record_squashes(session: "Session", squashes: list["MigrationScript"]) -> None:
    """Record each of ``squashes`` -- counted as applied because every migration it
    replaces is -- as applied, with a ``squash`` event, in one transaction on ``session``
    (open, under the migration lock)."""
    conn = session.connection
    session.begin()
    try:
        for script in squashes:
            session.history.record(conn, script.id, script.checksum, 0, True)
            session.eventlog.record(
                conn, "squash", migration_id=script.id, checksum=script.checksum,
                duration_ms=0, detail="recorded as applied without running it: every "
                f"migration it replaces ({', '.join(script.replaces)}) is applied")
        session.commit()
    except BaseException:
        session.rollback()
        raise
