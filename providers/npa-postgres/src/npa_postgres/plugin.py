"""Entry point of npa-postgres (group ``npa``): resolves ``postgresql://`` and
``postgres://`` URLs."""

from npa_migrations.hookspecs import hookimpl

#: URL schemes of PostgreSQL: ``postgres://`` is what Heroku, Render and Fly hand out
#: (SQLAlchemy itself no longer reads it)
SCHEMES = ("postgresql", "postgres")


@hookimpl
def npa_provider_for_url(url):
    """A :class:`~npa_postgres.provider.PostgresProvider` for any ``postgresql`` or
    ``postgres`` URL (``postgresql://``, ``postgresql+psycopg://``, ``postgres://``...);
    it always connects with psycopg 3."""
    if url.get_backend_name() in SCHEMES:
        from .provider import PostgresProvider

        return PostgresProvider(url)
    return None


@hookimpl
def npa_provider_names():
    return ["postgresql"]
