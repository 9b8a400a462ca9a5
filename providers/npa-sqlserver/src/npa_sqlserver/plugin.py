"""Entry point of npa-sqlserver (group ``npa``): resolves ``mssql://`` URLs."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_for_url(url):
    """``mssql+pyodbc://...`` (and bare ``mssql://``, which means pyodbc)."""
    if url.get_backend_name() == "mssql":
        from .provider import SqlServerProvider

        return SqlServerProvider(url)
    return None


@hookimpl
def npa_provider_names():
    return ["mssql"]
