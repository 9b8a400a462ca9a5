"""Entry point of npa-oracle (group ``npa``): resolves ``oracle://`` URLs."""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_for_url(url):
    """``oracle://`` and ``oracle+oracledb://`` -> :class:`~npa_oracle.provider.OracleProvider`
    (a bare ``oracle://`` uses python-oracledb, so users need only that driver)."""
    if url.get_backend_name() == "oracle":
        from .provider import OracleProvider

        return OracleProvider(url)
    return None


@hookimpl
def npa_provider_names():
    return ["oracle"]
