"""Entry point of npa-sqlite (group ``npa``): serves ``sqlite://`` URLs."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_register_providers(register):
    register("sqlite", "npa_sqlite.provider:SqliteProvider")
