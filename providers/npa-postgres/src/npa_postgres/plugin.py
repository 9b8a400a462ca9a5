"""Entry point of npa-postgres (group ``npa``): serves ``postgresql://`` URLs, and
``postgres://`` (what Heroku, Render and Fly hand out); every one is driven through
psycopg 3, whatever driver it names."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_register_providers(register):
    register(("postgresql", "postgres"), "npa_postgres.provider:PostgresProvider")
