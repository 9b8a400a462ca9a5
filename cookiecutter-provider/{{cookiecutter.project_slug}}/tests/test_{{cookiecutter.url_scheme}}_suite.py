"""The npa-migrations conformance suite, on {{ cookiecutter.provider_name }}.

Every test class of ``npa_migrations.testing.suite``; tests that need a capability your
provider does not declare are skipped with the reason (``pytest -rs`` lists them).
To replace one test where {{ cookiecutter.provider_name }} really behaves differently, subclass its class
under the same name below the star import, and say why in the code::

    from npa_migrations.testing.suite import TestBulkInsert as _TestBulkInsert

    class TestBulkInsert(_TestBulkInsert):
        def test_list_of_rows_with_values_that_need_binding(self):
            pytest.skip("{{ cookiecutter.provider_name }} stores '' as NULL")
"""

from npa_migrations.testing.suite import *  # noqa: F401,F403
