"""Entry point of {{ cookiecutter.project_slug }} (group ``npa``): the hooks npa-migrations calls.

``pyproject.toml`` registers this module::

    [project.entry-points.npa]
    {{ cookiecutter.url_scheme }} = "{{ cookiecutter.package_name }}.plugin"

A provider needs only the two hooks below. Everything else the engine asks of a
database goes through the provider object they return (``provider.py``). Other hooks of
:mod:`npa_migrations.hookspecs` are optional here; implement one only to replace a
default, for example:

* ``npa_generate_sql(provider, operation)`` with ``@hookimpl(tryfirst=True)`` to render
  one operation differently (return ``None`` when it does not apply);
* ``npa_create_lock(provider, table_name)`` or ``npa_history_store(provider, table_name)``
  for a lock or history table of your own (``BaseProvider.create_lock`` is simpler);
* the event hooks (``npa_migration_start``, ``npa_statement_executed``, ...) to observe runs.

Keep imports of the provider (and so of SQLAlchemy and the driver) inside the hooks:
``npa --help`` loads every plugin module and should stay fast.
"""

from __future__ import annotations

from npa_migrations.hookspecs import hookimpl

#: URL schemes (SQLAlchemy backend names, ``url.get_backend_name()``) this provider serves
BACKENDS = ("{{ cookiecutter.url_scheme }}",)


@hookimpl
def npa_provider_for_url(url):
    """Return a provider bound to ``url`` when its scheme is one of :data:`BACKENDS`.

    npa-migrations asks every installed provider in turn and uses the first non-``None``
    answer, so return ``None`` for every URL that is not yours.
    """
    if url.get_backend_name() in BACKENDS:
        from .provider import {{ cookiecutter.__camel_name }}Provider

        return {{ cookiecutter.__camel_name }}Provider(url)
    return None


@hookimpl
def npa_provider_names():
    """The schemes this provider serves, listed by ``npa providers``."""
    return list(BACKENDS)
