"""Entry point of {{ cookiecutter.project_slug }} (group ``npa``): the hooks npa-migrations calls.

``pyproject.toml`` registers this module::

    [project.entry-points.npa]
    {{ cookiecutter.url_scheme }} = "{{ cookiecutter.package_name }}.plugin"

A provider needs only the hook below. Everything else the engine asks of a database
goes through the provider object it names (``provider.py``). Other hooks of
:mod:`npa_migrations.hookspecs` are optional here; implement one only to replace a
default, for example:

* ``npa_generate_sql(provider, operation, context)`` with ``@hookimpl(tryfirst=True)`` to
  render one operation differently (return ``None`` when it does not apply);
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
def npa_register_providers(register):
    """Tell npa-migrations which URLs this provider serves. The provider class is named as
    ``"module:Class"``: it is imported only when a URL of one of :data:`BACKENDS` is used.
    Two installed plugins claiming one scheme is an error naming both."""
    register(BACKENDS, "{{ cookiecutter.package_name }}.provider:{{ cookiecutter.__camel_name }}Provider")
