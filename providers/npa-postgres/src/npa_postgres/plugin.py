"""Entry point of npa-postgres (group ``npa``): resolves ``postgresql://`` URLs."""

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_names():
    return ["postgresql"]
