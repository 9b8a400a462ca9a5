"""Entry point of npa-mysql (group ``npa``): serves ``mysql://`` and ``mariadb://`` URLs.

Bare ``mysql://`` and ``mariadb://`` URLs are served through PyMySQL (the only driver
this package needs), as are ``mysql+pymysql://`` and ``mariadb+pymysql://``.
"""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_register_providers(register):
    register(("mysql", "mariadb"), "npa_mysql.provider:MysqlProvider")
