"""Running migrations from an application framework (docs/frameworks.md).

* :mod:`~npa_migrations.frameworks.starlette` -- a lifespan for Starlette and FastAPI that
  applies the pending migrations before the application serves;
* :mod:`~npa_migrations.frameworks.flask` -- ``flask npa up`` (every ``npa migrate``
  command under ``flask npa``);
* :mod:`~npa_migrations.frameworks.django` -- ``python manage.py npa up``.

Each imports its framework only when used: no framework is a dependency of
npa-migrations (install ``npa-migrations[flask]``, ``[django]`` or ``[starlette]``). Every
one runs through the engine, so it takes the migration lock: many instances starting at
once apply each migration once, and the others wait, then find nothing to do.
"""
