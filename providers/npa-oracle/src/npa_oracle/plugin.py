"""Entry point of npa-oracle (group ``npa``): resolves ``oracle://`` URLs."""

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_names():
    return ["oracle"]
