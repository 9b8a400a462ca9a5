"""Default (``trylast``) implementations of the firstresult hooks: they delegate to the
provider's own methods, so a plugin can override any of them with ``tryfirst``."""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl(trylast=True)
def npa_generate_sql(provider, operation, context):
    return provider.sql.generate(operation, context)


@hookimpl(trylast=True)
def npa_create_lock(provider, table_name):
    return provider.create_lock(table_name)


@hookimpl(trylast=True)
def npa_history_store(provider, table_name):
    from ..engine.history import HistoryStore

    return HistoryStore(provider, table_name)
