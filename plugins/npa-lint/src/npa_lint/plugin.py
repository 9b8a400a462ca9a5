"""Entry point of npa-lint (group ``npa``): the ``npa migrate lint`` command, the check
run by ``up --dry-run``, and the ``[lint]`` configuration section.

Kept light: the linter and click are imported only when a hook runs.
"""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_register_commands(migrate):
    """``npa migrate lint``."""
    from .cli import lint

    migrate.add_command(lint)


@hookimpl
def npa_config_sections():
    return ["lint"]


@hookimpl
def npa_check_plan(executor, migrations, direction, settings):
    """Lint what ``up --dry-run`` would apply (one run: tables created by an earlier
    pending migration count as new). Rollbacks are not linted: undoing a migration drops
    what it added by design."""
    if direction != "up" or not migrations:
        return []
    from .engine import lint_executor
    from .settings import LintSettings

    findings, _ = lint_executor(executor, [m.id for m in migrations],
                                settings=LintSettings.from_config(settings), run=True)
    return findings
