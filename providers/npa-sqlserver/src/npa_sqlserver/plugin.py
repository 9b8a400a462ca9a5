"""Entry point of npa-sqlserver (group ``npa``): resolves ``mssql://`` URLs."""

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_names():
    return ["mssql"]
