"""npa-concurrent-index: build and drop PostgreSQL indexes ``CONCURRENTLY``.

An npa-migrations plugin that overrides the SQL of two operations on one provider --
:class:`~npa_migrations.operations.CreateIndex` and
:class:`~npa_migrations.operations.DropIndex` on PostgreSQL -- through the
``npa_generate_sql`` hook (``tryfirst``), and tells the engine that those statements
cannot run in a transaction block (``npa_operation_transactional``). Every other
operation, and every other database, keeps the provider's own SQL.
"""

__version__ = "0.1.0"
