"""Entry point of npa-sqlserver (group ``npa``): serves ``mssql://`` URLs (a bare
``mssql://`` means pyodbc)."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_register_providers(register):
    register("mssql", "npa_sqlserver.provider:SqlServerProvider")
