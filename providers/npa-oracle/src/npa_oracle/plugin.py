"""Entry point of npa-oracle (group ``npa``): serves ``oracle://`` URLs (a bare
``oracle://`` uses python-oracledb, so users need only that driver)."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_register_providers(register):
    register("oracle", "npa_oracle.provider:OracleProvider")
