"""Entry point of npa-sqlite (group ``npa``): resolves ``sqlite://`` URLs."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_for_url(url):
    if url.get_backend_name() == "sqlite":
        from .provider import SqliteProvider

        return SqliteProvider(url)
    return None


@hookimpl
def npa_provider_names():
    return ["sqlite"]
