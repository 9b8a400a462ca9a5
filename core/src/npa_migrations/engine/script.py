"""Rendering a run as a SQL script (``--sql``): what would execute, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..provider.sql import RenderContext
from .planner import plan_steps

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.connection import DbConnection
    from .executor import MigrationExecutor
    from ..migration import MigrationScript


def render_script(executor: "MigrationExecutor", scripts: list["MigrationScript"],
                  direction: str, *, create_history: bool,
                  conn: "DbConnection | None" = None) -> str:
    """The statements of ``scripts`` with their transaction boundaries and history
    writes, terminated with the provider's script terminator.

    ``conn`` is the live database for an online script (``None`` offline). When a step
    reads the live schema to render itself (:attr:`Step.live`, e.g. a SQLite table
    rebuild) and the database has transactional DDL, the run's statements are executed
    while they are rendered, inside one transaction that is always rolled back, so every
    step sees the schema the earlier ones leave; the database is not changed. Statements
    of migrations marked non-transactional and streamed ``bulk_insert`` rows are not
    executed then. Where DDL cannot be rehearsed (no transactional DDL), live steps
    render as offline (``None``), since the database does not show what the earlier
    statements of the script would have changed.
    """
    from ..options import TransactionMode
    from ..statements import steps_transactional

    provider = executor.provider
    history = executor.history
    mode = executor.options.transaction_mode
    planned = []
    for script in scripts:
        operations = script.up_operations() if direction == "up" else script.down_operations()
        planned.append((script, plan_steps(provider, list(operations or []))))
    rehearse = (conn is not None and provider.capabilities.transactional_ddl
                and any(step.live for _, steps in planned for step in steps))
    # the client settings come first: they govern how the client reads everything after
    # them, the header comments included (SQL*Plus substitutes '&' even in comments)
    prologue = list(provider.sql.script_prologue(mode))
    out = prologue + [""] if prologue else []
    out += [f"-- npa-migrations {direction} script for {provider.display_url()}",
            f"-- transaction mode: {mode.value}", ""]
    if create_history:
        out += [provider.sql.script_statement(s) for s in history.create_statements()] + [""]
    if mode is TransactionMode.ALL_IN_ONE and scripts and provider.driver.begin_statement:
        out += [provider.sql.script_statement(provider.driver.begin_statement), ""]
    if rehearse:
        conn.begin()
    try:
        for script, steps in planned:
            # a database without a BEGIN statement (Oracle) still needs the COMMIT
            transactional = script.transactional and steps_transactional(steps)
            own_tx = mode is TransactionMode.PER_MIGRATION and transactional
            out.append(f"-- {script.id} ({direction})")
            if own_tx and provider.driver.begin_statement:
                out.append(provider.sql.script_statement(provider.driver.begin_statement))
            for step in steps:
                out.append(f"-- {step.describe()}")
                # without a rehearsal the live schema lags the script: render offline
                live_conn = conn if rehearse or not step.live else None
                for statement in step.render(RenderContext(live_conn)):
                    out.append(provider.sql.script_statement(statement.render()))
                    if rehearse and transactional and not statement.many:
                        _rehearse(conn, script, statement)
            if direction == "up":
                out.append(provider.sql.script_statement(
                    history.insert_script(script.id, script.checksum)))
            else:
                out.append(provider.sql.script_statement(history.delete_script(script.id)))
            if own_tx:
                out.append(provider.sql.script_statement(provider.driver.commit_statement or "COMMIT"))
            out.append("")
    finally:
        if rehearse:
            conn.rollback()
    if mode is TransactionMode.ALL_IN_ONE and scripts:
        out += [provider.sql.script_statement(provider.driver.commit_statement or "COMMIT"), ""]
    return "\n".join(out)


def _rehearse(conn: "DbConnection", script: "MigrationScript", statement) -> None:
    """Run one statement of an online script rendering (rolled back afterwards)."""
    from ..errors import MigrationException, NpaError
    from ..sqltext import first_line

    try:
        conn.run(statement)
    except NpaError:
        raise
    except Exception as exc:
        raise MigrationException(
            f"Migration {script.id} ({script.source}) would fail at statement: "
            f"{first_line(statement.render())}\n  Database said: {type(exc).__name__}: {exc}\n"
            "  (Found while rendering the --sql script in a transaction that was rolled "
            "back; nothing was changed.) Fix the migration and render the script again.",
            migration_id=script.id, statement=statement.render(), original=exc) from exc
