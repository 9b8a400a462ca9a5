"""Entry point of npa-mysql (group ``npa``): resolves ``mysql://`` and ``mariadb://`` URLs.

Bare ``mysql://`` and ``mariadb://`` URLs are served through PyMySQL (the only driver
this package needs), as are ``mysql+pymysql://`` and ``mariadb+pymysql://``.
"""

from npa_migrations.hookspecs import hookimpl

BACKENDS = ("mysql", "mariadb")


@hookimpl
def npa_provider_for_url(url):
    if url.get_backend_name() in BACKENDS:
        from .provider import MysqlProvider

        return MysqlProvider(url)
    return None


@hookimpl
def npa_provider_names():
    return list(BACKENDS)
