"""The lint rules: id, default severity, the databases they apply to, and the advice.

Each rule is documented in docs/plugins/npa-lint.md (id, what, why it is dangerous, the
fix, how to disable it). The checks themselves live in :mod:`npa_lint.checks` (builder
operations) and :mod:`npa_lint.sqlscan` (raw SQL); both report by rule id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One lint rule.

    :ivar id: the stable id used in findings, ``lint_ignore`` and ``disable``.
    :ivar severity: default severity (``error`` / ``warning`` / ``info``); config may
        change it (``[lint.severity]``).
    :ivar summary: one line: what the rule flags.
    :ivar fix: what to do instead (shown with every finding).
    :ivar dialects: SQLAlchemy dialect names it applies to; ``None`` means every database.
    """

    id: str
    severity: str
    summary: str
    fix: str
    dialects: frozenset[str] | None = None

    def applies_to(self, dialect_name: str) -> bool:
        return self.dialects is None or dialect_name in self.dialects


ADD_NOT_NULL_COLUMN = Rule(
    "add-not-null-column", "error",
    "adding a NOT NULL column without a server default to an existing table",
    "Add the column nullable (or with a server_default), backfill it, then make it NOT NULL "
    "with alter_column(nullable=False) in a later migration.")

CREATE_INDEX_NOT_CONCURRENTLY = Rule(
    "create-index-not-concurrently", "warning",
    "CREATE INDEX on an existing PostgreSQL table without CONCURRENTLY",
    "Install npa-concurrent-index (it renders create_index as CREATE INDEX CONCURRENTLY, "
    "outside the transaction), or write CREATE INDEX CONCURRENTLY in a migration marked "
    "transactional = False / '-- npa:no-transaction'.",
    frozenset({"postgresql"}))

DROP_COLUMN = Rule(
    "drop-column", "warning",
    "dropping a column",
    "Release application code that no longer reads or writes the column first, and drop it "
    "in a later migration; keep a backup if the data may be needed.")

DROP_TABLE = Rule(
    "drop-table", "warning",
    "dropping a table",
    "Release application code that no longer uses the table first; rename it (or keep a "
    "backup) and drop it in a later migration once nothing broke.")

EMPTY_DOWN = Rule(
    "empty-down", "warning",
    "a down() / '-- npa:down' section with no steps (the generated template's), which makes "
    "the migration irreversible",
    "Write the steps that revert the migration in down() / after '-- npa:down'; if there "
    "is nothing to undo, say so: 'empty_down = True' on the class, or '-- npa:empty-down' "
    "instead of '-- npa:down'.")

NARROW_COLUMN_TYPE = Rule(
    "narrow-column-type", "error",
    "changing a column to a type that holds fewer values (shorter, smaller, less precise)",
    "Check that every existing value fits (e.g. SELECT max(length(col))), clean up the ones "
    "that do not, or add a new column of the new type, backfill it and switch over.")

RENAME_COLUMN = Rule(
    "rename-column", "warning",
    "renaming a column that running application code may use",
    "Expand and contract: add the new column, write both, backfill, switch reads to the new "
    "one, and drop the old column in a later release (or keep a view with the old name).")

RENAME_TABLE = Rule(
    "rename-table", "warning",
    "renaming a table that running application code may use",
    "Expand and contract: create the new table (or an updatable view with the new name), "
    "switch the application over, and drop the old name in a later release.")

REWRITE_LARGE_TABLE = Rule(
    "rewrite-large-table", "error",
    "an ALTER that rewrites or scans a large table while holding a lock (row-count estimate "
    "from the live database at or above large_table_rows)",
    "Run it in a maintenance window, or split it into steps that do not lock for long "
    "(see the message); raise large_table_rows if this size is fine for you.")

#: every rule by id, in documentation order
RULES: dict[str, Rule] = {rule.id: rule for rule in (
    ADD_NOT_NULL_COLUMN, CREATE_INDEX_NOT_CONCURRENTLY, DROP_COLUMN, DROP_TABLE, EMPTY_DOWN,
    NARROW_COLUMN_TYPE, RENAME_COLUMN, RENAME_TABLE, REWRITE_LARGE_TABLE)}

#: what ``lint_ignore`` / ``-- npa:lint-ignore`` accept to ignore every rule
ALL = "all"
