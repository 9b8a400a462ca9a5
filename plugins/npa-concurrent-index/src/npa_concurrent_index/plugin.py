"""Entry point of npa-concurrent-index (group ``npa``).

``CREATE INDEX CONCURRENTLY`` builds an index without blocking writes to the table, and
``DROP INDEX CONCURRENTLY`` drops one without blocking reads and writes; PostgreSQL
refuses both inside a transaction block. So the two hooks go together: one renders the
statement, the other makes the engine run the migration that contains it outside a
transaction.
"""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl

#: SQLAlchemy dialect names this plugin applies to
DIALECTS = frozenset({"postgresql"})
#: the kinds of the operations whose SQL it overrides (``MigrationOperation.kind``);
#: the operation classes themselves are not imported here, so that loading the plugin
#: (for ``npa migrate --help``, say) stays cheap
KINDS = frozenset({"create_index", "drop_index"})


def applies(provider, operation) -> bool:
    """Whether the operation is an index operation on a PostgreSQL provider."""
    return getattr(operation, "kind", None) in KINDS and provider.dialect.name in DIALECTS


@hookimpl(tryfirst=True)
def npa_generate_sql(provider, operation):
    """``CREATE [UNIQUE] INDEX CONCURRENTLY`` / ``DROP INDEX CONCURRENTLY``, compiled by
    the provider's dialect (so names are quoted by it); ``None`` for anything else."""
    if not applies(provider, operation):
        return None
    import sqlalchemy as sa

    index = provider.sql.index_for(operation, postgresql_concurrently=True)
    ddl = (sa.schema.CreateIndex(index) if operation.kind == "create_index"
           else sa.schema.DropIndex(index))
    return [provider.sql.compile(ddl)]


@hookimpl(tryfirst=True)
def npa_operation_transactional(provider, operation):
    """``False`` for the operations rendered above: PostgreSQL refuses ``CONCURRENTLY``
    in a transaction block, so their migration runs outside one."""
    return False if applies(provider, operation) else None
