"""Kill ``npa migrate up`` with SIGKILL at every boundary of a run; the next plain ``up``
must end exactly where an uninterrupted run does (the crash-point campaign,
:mod:`npa_migrations.testing.campaign`).

Every crash point must converge, or stop with exit 3 naming the statement the database
cannot judge (a data change outside a transaction) and converge after the documented
repair. None may end anywhere else.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from ..campaign import WRONG, CrashCampaign
from ..requirements import requires

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from ..provision import Provision

__all__ = ["TestCrashPoints"]


def crash_campaign(provision: "Provision", tmp_path: "Path",
                   env: dict[str, str] | None = None) -> CrashCampaign:
    """A :class:`~npa_migrations.testing.campaign.CrashCampaign` on the suite's database:
    each run from scratch gets a fresh one from ``provision`` (a new file for SQLite; the
    suite's objects dropped on a server)."""
    counter = itertools.count()

    def fresh() -> str:
        folder = tmp_path / f"run{next(counter)}"
        folder.mkdir(parents=True)
        url = provision.test_url(folder)
        engine = provision.create_engine(url)
        try:
            provision.prepare(engine)
        finally:
            engine.dispose()
        return url.render_as_string(hide_password=False)

    def connect(url: str):
        import sqlalchemy as sa

        return provision.create_engine(sa.engine.make_url(url))

    return CrashCampaign(tmp_path / "campaign", fresh, env, connect=connect)


@requires.cross_process
class TestCrashPoints:
    @pytest.mark.slow
    def test_kill_at_every_boundary_converges(self, npa_provision, tmp_path):
        campaign = crash_campaign(npa_provision, tmp_path)
        try:
            result = campaign.run("KILL")
            campaign.fresh()  # leave no suite objects behind
        finally:
            campaign.close()
        print(result.summary())
        # a driver that sends a transaction's statements in batches (PostgreSQL) has one
        # statement/executed pair per batch instead of per statement: fewer boundaries
        assert result.points >= 30, "the history should have many boundaries"
        assert result.count(WRONG) == 0, result.failures()
