"""Entry point of npa-postgres (group ``npa``): resolves ``postgresql://`` URLs."""

from npa_migrations.hookspecs import hookimpl


@hookimpl
def npa_provider_for_url(url):
    """A :class:`~npa_postgres.provider.PostgresProvider` for any ``postgresql`` URL
    (``postgresql://``, ``postgresql+psycopg://``, ...); it always connects with psycopg 3."""
    if url.get_backend_name() == "postgresql":
        from .provider import PostgresProvider

        return PostgresProvider(url)
    return None


@hookimpl
def npa_provider_names():
    return ["postgresql"]
