"""``npa migrate lint``: list dangerous operations with the migration id and a fix."""

from __future__ import annotations

import sys

import click

from npa_migrations.cli import (EXIT_VALIDATION, Context, echo, echo_json, handle_errors,
                                json_flag, print_findings)


@click.command()
@click.argument("migration_ids", nargs=-1, metavar="[ID]...")
@click.option("--all", "lint_all", is_flag=True,
              help="Lint every migration, applied ones too (default: the pending ones).")
@click.option("--offline", is_flag=True,
              help="Do not connect: lint every migration (or the IDs given) without history "
                   "or row-count estimates.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]),
              help="Exit 3 when a finding has this severity or worse (default error; config "
                   "[lint] fail_on).")
@json_flag
@click.pass_obj
@handle_errors
def lint(obj: Context, migration_ids, lint_all, offline, fail_on, as_json):
    """Flag dangerous operations (from the npa-lint plugin).

    Lints the pending migrations (or the IDs given, full id or timestamp) for the
    configured database: NOT NULL columns without default, CREATE INDEX without
    CONCURRENTLY on PostgreSQL, dropped columns and tables, narrowed types, renames, and
    rewrites of large tables (row estimates from the live database). Exit code 3 when a
    finding is an error (see --fail-on), 2 for a configuration error.
    """
    from .engine import lint_executor
    from .rules import RULES
    from .settings import LintSettings

    settings = LintSettings.from_config(obj.config.settings)
    if fail_on:
        settings.fail_on = fail_on
    executor = obj.executor()
    ids = [executor.resolve_target(i) for i in migration_ids] or None
    if ids is None and (lint_all or offline):
        ids = [s.id for s in executor.discover()]
    findings, linted = lint_executor(executor, ids, settings=settings, connect=not offline)
    failed = settings.fails(f.severity for f in findings)
    if as_json:
        counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
        echo_json({
            "database": executor.provider.display_url(), "provider": executor.provider.name,
            "offline": offline, "linted": linted, "findings": [f.to_json() for f in findings],
            "counts": counts, "rules": list(RULES), "exit_code": EXIT_VALIDATION if failed else 0})
    else:
        where = "offline" if offline else executor.provider.display_url()
        echo(f"Linted {len(linted)} migration(s) for {executor.provider.name} ({where}).")
        if findings:
            echo()
        print_findings(findings)
        if findings:
            echo("Ignore a rule in one migration with lint_ignore = {'<rule>'} (Python) or "
                 "'-- npa:lint-ignore <rule>' (SQL); everywhere with [lint] disable.")
    if failed:
        sys.exit(EXIT_VALIDATION)
