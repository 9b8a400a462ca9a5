"""The linter: walks migrations in run order and turns rule hits into findings.

Every discovered migration is replayed on a :class:`~npa_migrations.schema.model.SchemaModel`
(so a check knows a column's type before an ``alter_column`` that does not restate it);
only the selected ones are checked. A hit is dropped when:

* its rule is disabled in ``[lint] disable``, ignored by the migration (``lint_ignore`` /
  ``-- npa:lint-ignore``) or by the statement (a ``-- npa:lint-ignore`` in its SQL);
* it concerns a table created earlier in the same migration -- or, when the selection is
  a run (the pending migrations, ``up --dry-run``), earlier in the same run: nothing uses
  such a table yet;
* it is ``rewrite-large-table`` and the live row estimate is unknown or below
  ``large_table_rows``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Callable, Iterable

from npa_migrations import operations as ops
from npa_migrations.engine.checks import PlanFinding
from npa_migrations.schema.model import SchemaModel, fold
from npa_migrations.sqltext import first_line

from . import rules, sqlscan
from .checks import HANDLERS, Hit, OperationContext
from .settings import LintSettings, migration_ignores, parse_directives

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.engine.executor import MigrationExecutor
    from npa_migrations.migration import MigrationScript
    from npa_migrations.provider import BaseProvider

CHECKER = "npa-lint"
Estimator = Callable[[str | None, str], "int | None"]


class Linter:
    """Lints migrations for one provider.

    :param provider: the database's provider (rules differ per database).
    :param settings: the ``[lint]`` configuration.
    :param estimate: ``(schema, table) -> rows or None`` from the live database; ``None``
        offline (``rewrite-large-table`` then never fires).
    """

    def __init__(self, provider: "BaseProvider", settings: LintSettings | None = None,
                 estimate: Estimator | None = None):
        self.provider = provider
        self.settings = settings or LintSettings()
        self.estimate = estimate
        self.dialect = provider.dialect.name

    def generate(self, operation: ops.MigrationOperation) -> list[str]:
        """The SQL an operation renders to, through the hook (so plugin overrides count)."""
        from npa_migrations.plugins import get_plugin_manager
        from npa_migrations.provider import OFFLINE
        from npa_migrations.statements import Statement

        try:  # the operation alone says what to check: rendered as for an offline script
            result = get_plugin_manager().hook.npa_generate_sql(
                provider=self.provider, operation=operation, context=OFFLINE)
        except Exception:  # a bad identifier etc.: the run reports it, not the linter
            return []
        return [s.sql if isinstance(s, Statement) else str(s) for s in result or []]

    def lint(self, migrations: Iterable["MigrationScript"], selected: Iterable[str], *,
             run: bool) -> list[PlanFinding]:
        """Findings for the ``selected`` ids among ``migrations`` (every discovered
        migration, in run order). ``run``: the selection is one run, so tables created by
        an earlier selected migration count as new."""
        selected = set(selected)
        model = SchemaModel(self.provider.names)
        new_tables: set[tuple[str | None, str]] = set()
        findings: list[PlanFinding] = []
        for script in migrations:
            operations = script.up_operations()
            if script.id not in selected:
                self._replay(model, operations, script.id)
                continue
            if not run:
                new_tables = set()
            ignored = migration_ignores(script)
            for operation in operations:
                findings += self._check(script, operation, model, new_tables, ignored)
                self._track_new(operation, new_tables)
                self._replay(model, [operation], script.id)
            findings += self._check_down(script, ignored)
        return findings

    def _check_down(self, script: "MigrationScript", ignored: set[str]) -> list[PlanFinding]:
        """``empty-down``: a down that records no steps and does not say it means to."""
        try:
            empty = script.down_operations() == [] and not script.empty_down
        except Exception:  # down() raises: the run reports it, not the linter
            return []
        if not empty:
            return []
        where = "'-- npa:down' section" if script.source.endswith(".sql") else "down()"
        hit = Hit(rules.EMPTY_DOWN.id,
                  f"The {where} of {script.id} records no steps: 'npa migrate down' refuses "
                  "to roll it back (it would undo nothing).")
        finding = self._finding(script, hit, "down", set(), ignored)
        return [finding] if finding is not None else []

    # one operation -------------------------------------------------------------------
    def _check(self, script: "MigrationScript", operation: ops.MigrationOperation,
               model: SchemaModel, new_tables: set, ignored: set[str]) -> list[PlanFinding]:
        if isinstance(operation, ops.Execute):
            if not operation.applies_to(self.provider.names):
                return []
            ignored = ignored | parse_directives(operation.sql, f"Migration {script.id} "
                                                               f"({script.source})")
            hits = [(hit, first_line(sqlscan.strip(statement)) or first_line(statement))
                    for statement in self.provider.sql.split_statements(operation.sql)
                    for hit in sqlscan.scan(statement, self.dialect)]
        else:
            handler = HANDLERS.get(type(operation))
            if handler is None:
                return []
            context = OperationContext(self.provider, model, self.generate)
            hits = [(hit, operation.describe()) for hit in handler(context, operation)]
        found = []
        for hit, label in hits:
            finding = self._finding(script, hit, label, new_tables, ignored)
            if finding is not None:
                found.append(finding)
        return found

    def _finding(self, script: "MigrationScript", hit: Hit, label: str, new_tables: set,
                 ignored: set[str]) -> PlanFinding | None:
        rule = rules.RULES[hit.rule]
        if (rule.id in self.settings.disable or rule.id in ignored or rules.ALL in ignored
                or not rule.applies_to(self.dialect)):
            return None
        if hit.table is not None and _key(*hit.table) in new_tables:
            return None
        message = hit.message
        if rule is rules.REWRITE_LARGE_TABLE:
            rows = self.estimate(*hit.table) if self.estimate and hit.table else None
            if rows is None or rows < self.settings.large_table_rows:
                return None
            message = (f"{message}: the table has about {rows:,} rows (large_table_rows = "
                       f"{self.settings.large_table_rows:,}).")
        return PlanFinding(migration_id=script.id, rule=rule.id,
                           severity=self.settings.severity_of(rule.id), message=message,
                           fix=hit.fix or rule.fix, checker=CHECKER, operation=label,
                           source=script.source)

    # bookkeeping ---------------------------------------------------------------------
    def _track_new(self, operation: ops.MigrationOperation, new_tables: set) -> None:
        if isinstance(operation, ops.CreateTable):
            new_tables.add(_key(operation.schema, operation.table))
        elif isinstance(operation, ops.RenameTable):
            if _key(operation.schema, operation.table) in new_tables:
                new_tables.add(_key(operation.schema, operation.new_name))
        elif isinstance(operation, ops.Execute) and operation.applies_to(self.provider.names):
            for statement in self.provider.sql.split_statements(operation.sql):
                new_tables.update(_key(*t) for t in sqlscan.created_tables(statement))

    @staticmethod
    def _replay(model: SchemaModel, operations, migration_id: str) -> None:
        for operation in operations:
            try:
                model.apply(operation, migration_id)
            except Exception as exc:  # the model is a help, never a reason to fail
                model.forget_everything(f"{migration_id}: {exc}")


def _key(schema: str | None, table: str) -> tuple[str | None, str]:
    return (fold(schema), fold(table))


def lint_executor(executor: "MigrationExecutor", ids: Iterable[str] | None = None, *,
                  settings: LintSettings | None = None, connect: bool = True,
                  run: bool | None = None) -> tuple[list[PlanFinding], list[str]]:
    """Lint the migrations of an executor's sources for its database.

    :param ids: the migrations to lint; default: the pending ones when ``connect``, else
        every migration.
    :param connect: read history and row estimates from the database; ``False`` lints
        offline (no ``rewrite-large-table`` findings).
    :param run: whether the selection is one run (see :meth:`Linter.lint`); default: when
        the pending migrations are linted.
    :returns: the findings and the ids that were linted.
    """
    scripts = executor.discover()
    with contextlib.ExitStack() as stack:
        conn = None
        if connect:
            session = stack.enter_context(executor.session(read_only=True))
            conn = session.connection if session.connected else None
        if ids is None:
            if connect:
                pending = set(executor.status().pending)
                ids = [s.id for s in scripts if s.id in pending]
                run = True if run is None else run
            else:
                ids = [s.id for s in scripts]
        ids = list(ids)
        estimate = None
        if conn is not None:
            from .estimates import row_estimator

            estimate = row_estimator(executor.provider, conn)
        linter = Linter(executor.provider, settings, estimate)
        return linter.lint(scripts, ids, run=bool(run)), ids
