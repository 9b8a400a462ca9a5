"""The provider conformance suite of npa-migrations.

A provider package runs the same backend tests as the core's own providers, in the
spirit of ``sqlalchemy.testing.suite`` and ``alembic.testing.suite``::

    # tests/conftest.py
    pytest_plugins = ["npa_migrations.testing.plugin"]

    # tests/test_suite.py
    from npa_migrations.testing.suite import *  # noqa: F401,F403

then ``pytest tests --npa-url postgresql://me@localhost/test``. See
``docs/conformance-suite.md``.

* :mod:`~npa_migrations.testing.plugin` -- the pytest plugin: ``--npa-url`` and fixtures.
* :mod:`~npa_migrations.testing.requirements` -- capability gates (skips with reasons).
* :mod:`~npa_migrations.testing.provision` -- a fresh, empty database for each test.
* :mod:`~npa_migrations.testing.reflection` -- asserting real database state.
* :mod:`~npa_migrations.testing.catalog` -- a provider's own reading of tables
  (``SchemaRules.read_tables``) against the inspector's.
* :mod:`~npa_migrations.testing.migrations` -- writing migration files for a test.
* :mod:`~npa_migrations.testing.suite` -- the tests themselves.
"""

#: every table, index, constraint and schema the suite creates starts with this prefix;
#: on a shared server database, objects with it are dropped before and after each test
PREFIX = "npat_"
