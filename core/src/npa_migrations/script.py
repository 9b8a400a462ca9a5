"""Rendering a run as a SQL script (``--sql``): what would execute, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .executor import MigrationExecutor
    from .migration import MigrationScript


def render_script(executor: "MigrationExecutor", scripts: list["MigrationScript"],
                  direction: str, *, create_history: bool) -> str:
    """The statements of ``scripts`` with their transaction boundaries and history
    writes, terminated with the provider's script terminator."""
    from .options import TransactionMode

    provider = executor.provider
    history = executor.history
    mode = executor.options.transaction_mode
    end = provider.script_terminator
    out = [f"-- npa-migrations {direction} script for {provider.display_url()}",
           f"-- transaction mode: {mode.value}", ""]
    if create_history:
        out += [s + end for s in history.create_statements()] + [""]
    if mode is TransactionMode.ALL_IN_ONE and scripts:
        out += [provider.begin_statement + end, ""]
    for script in scripts:
        operations = script.up_operations() if direction == "up" else script.down_operations()
        own_tx = (mode is TransactionMode.PER_MIGRATION and script.transactional
                  and provider.begin_statement)
        out.append(f"-- {script.id} ({direction})")
        if own_tx:
            out.append(provider.begin_statement + end)
        for step in provider.plan(list(operations or [])):
            out.append(f"-- {step.describe()}")
            out += [s.render().rstrip().rstrip(";") + end for s in step.render(None)]
        if direction == "up":
            out.append(history.insert_script(script.id, script.checksum) + end)
        else:
            out.append(history.delete_script(script.id) + end)
        if own_tx:
            out.append((provider.commit_statement or "COMMIT") + end)
        out.append("")
    if mode is TransactionMode.ALL_IN_ONE and scripts:
        out += [(provider.commit_statement or "COMMIT") + end, ""]
    return "\n".join(out)
