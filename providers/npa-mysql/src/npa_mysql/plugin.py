"""Entry point of npa-mysql (group ``npa``): resolves ``mysql://`` and ``mariadb://`` URLs."""

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_names():
    return ["mysql", "mariadb"]
