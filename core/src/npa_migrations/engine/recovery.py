"""After a crash: settle the one statement whose outcome the history cannot tell.

A migration whose history row says ``running`` was under way when its process died.
The row's position says which statements certainly took effect (the journal,
:mod:`npa_migrations.engine.journal`); at most one more may have:

* a statement the row marks ``in_flight`` (it ran outside a transaction), or
* where DDL commits implicitly, the statement at the position, if it is one that
  commits (a data statement shares its transaction with the record of it, so it
  certainly rolled back).

:func:`settle_in_doubt` asks the live schema: first the database's own remnants are
cleared (an invalid index left by an interrupted ``CREATE INDEX CONCURRENTLY``), then the
statement's :mod:`probe <npa_migrations.schema.probe>` says whether its effect is there;
a statement without a probe is judged by what its step's operations declare, when the
step is that one statement. The position moves past the statement when it took effect,
and stays when it did not (it runs again). Only when none of that can tell -- a data
change outside a transaction, a statement the schema cannot show -- the run stops with
exit code 3, naming the migration, the statement and the repair choices.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from ..errors import ValidationError
from ..provider.context import RenderContext
from ..schema.probe import probe_for
from ..sqltext import first_line
from .history import RUNNING, Position
from .ordering import ValidationProblem

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..schema.model import SchemaModel
    from ..statements import Statement, Step
    from .plan import PlannedMigration
    from .session import Session


def settle_in_doubt(session: "Session", migration: "PlannedMigration", steps: Sequence["Step"],
                    model: "SchemaModel | None" = None, *, wrapped: list[bool]) -> str | None:
    """Settle the in-doubt statement of an interrupted ``migration`` (its history row is
    ``running``), moving ``migration.start`` past it when it took effect and recording
    the settled position. Returns a line saying what was decided, or ``None`` when
    nothing was in doubt.

    :param steps: the migration's planned steps.
    :param model: the schema before the migration (what the applied migrations make),
        for judging a statement by its operations' declarations; ``None`` skips that.
    :param wrapped: for each step, whether it runs inside a transaction.
    :raises ValidationError: (exit code 3) when the outcome cannot be told.
    """
    row = migration.resume
    if row is None or row.status != RUNNING:
        return None
    in_flight = row.in_flight
    if not in_flight and session.provider.capabilities.transactional_ddl:
        return None  # the statement rolled back with the record of it
    position, statement = statement_in_doubt(session, steps, migration.start)
    if statement is None:
        return None  # every statement took effect; only the bookkeeping was left
    if not in_flight and not wrapped[position.step]:
        return None  # outside a transaction, a statement not marked had not started
    migration.start = position
    context = RenderContext(session.connection)
    for cleanup in session.provider.sql.interrupted_statement_cleanup(statement.sql, context):
        session.connection.run(cleanup)
    probe = probe_for(statement.sql)
    if probe is None and not in_flight and _data_statement(statement.sql):
        return None  # a data statement shares its transaction with its record
    took_effect = _took_effect(session, probe, steps[position.step], position, model)
    what = f"{migration.id}, {position}: {first_line(statement.describe())}"
    if took_effect is None:
        raise ValidationError([ValidationProblem(
            "in_doubt", migration.id,
            f"Migration {migration.id} was interrupted while this statement ran "
            f"({position}), and the database cannot tell whether it took effect: "
            f"{first_line(statement.describe())}. Check the database, then run 'npa "
            "migrate repair --resume' if it did not take effect (it runs again), or 'npa "
            "migrate repair --resume --skip-in-doubt' if it did.")])
    if took_effect:
        migration.start = Position(position.step, position.statement + 1)
    session.history.progress(session.connection, migration.id, migration.start)
    verdict = "had taken effect" if took_effect else "had not taken effect; it runs again"
    return f"Checked the statement under way when the last run stopped ({what}): it {verdict}."


def statement_in_doubt(session: "Session", steps: Sequence["Step"], position: Position
                       ) -> "tuple[Position, Statement | None]":
    """The statement a record at ``position`` leaves in doubt, and where it is: the one at
    ``position`` -- or, when the record says a whole step ran ("step 1, statement 2" of a
    one-statement step), the first of the next step: where DDL commits implicitly, that
    statement committed the record and may itself have run. ``None`` past the last."""
    while position.step < len(steps):
        statement = _statement_at(session, steps[position.step], position.statement)
        if statement is not None or position.statement == 0:
            return position, statement
        position = Position(position.step + 1, 0)
    return position, None


def _statement_at(session: "Session", step: "Step", number: int) -> "Statement | None":
    for index, statement in enumerate(step.render(RenderContext(session.connection))):
        if index == number:
            return statement
    return None


def _took_effect(session: "Session", probe, step: "Step", position: Position,
                 model: "SchemaModel | None") -> bool | None:
    import sqlalchemy as sa

    from ..schema.live import reflection_engine

    if probe is not None:
        if probe.rerun_safe:
            return False
        engine = reflection_engine(session.provider, session.connection.raw)
        try:
            with engine.connect() as connection, warnings.catch_warnings():
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                return probe.took_effect(sa.inspect(connection))
        finally:
            engine.dispose()
    if model is None or position.statement != 0 or not step.operations:
        return None
    return _declared(session, step, model)


def _declared(session: "Session", step: "Step", model: "SchemaModel") -> bool | None:
    """A one-statement step judged by what its operations declare: met means it took
    effect; unmet means it did not (one DDL statement is all or nothing); nothing
    declared (raw SQL) cannot tell."""
    from ..schema.drift import engine_tables
    from ..schema.verify import Verifier

    statements = list(step.render(RenderContext(session.connection)))
    if len(statements) != 1:
        return None
    verifier = Verifier(session.provider, session.connection, model.snapshot(),
                        engine_tables(session.options))
    try:
        claims = [(n, claim) for n, operation in enumerate(step.operations)
                  for claim in verifier.model.apply(operation)]
        if not claims:
            return None
        return not verifier.unmet(claims)
    finally:
        verifier.close()


def _data_statement(sql: str) -> bool:
    from ..schema.sqlscan import analyse_statement

    return all(effect.kind == "none" for effect in analyse_statement(sql))
