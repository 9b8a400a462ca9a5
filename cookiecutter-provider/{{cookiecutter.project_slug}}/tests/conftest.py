"""Test configuration: npa-migrations' conformance suite, run against {{ cookiecutter.provider_name }}.

The suite's pytest plugin adds ``--npa-url`` and the ``npa_*`` fixtures. The database
is, first match wins: ``pytest --npa-url URL``; ``${{ cookiecutter.__env_var }}``; the sample's
default below.
"""

import os

import pytest

from npa_migrations.testing.requirements import SuiteRequirements, closed

pytest_plugins = ["npa_migrations.testing.plugin"]

#: environment variable naming the test database
URL_ENV = "{{ cookiecutter.__env_var }}"


@pytest.fixture(scope="session")
def npa_default_url():
    """The suite's database when ``--npa-url`` is not given.

    SAMPLE: ``{{ cookiecutter.url_scheme }}://`` is SQLite underneath, so every test gets a new database
    file in its ``tmp_path`` (the suite does this for any provider whose capabilities say
    ``database_file=True``). REPLACE the fallback with ``None`` for a server database: the
    suite then skips, saying how to give a URL, until ``${{ cookiecutter.__env_var }}`` is set,
    and runs in that (shared) database, creating and dropping only ``npat_`` objects.
    """
    return os.environ.get(URL_ENV, "{{ cookiecutter.url_scheme }}://")


class {{ cookiecutter.__camel_name }}Requirements(SuiteRequirements):
    """The suite's capability gates for {{ cookiecutter.provider_name }}.

    SAMPLE: SQLAlchemy's SQLite reflection keeps a doubled quote in constraint names it
    reads from the table's SQL text, and this sample keeps the portable ``SchemaRules``
    (npa-sqlite corrects it in ``npa_sqlite/comparison.py``). REPLACE: delete this gate
    once your dialect's reflection reads such names exactly, or once your provider's
    ``schema_rules_class`` corrects them (docs/writing-a-provider.md, "Schema rules").
    """

    @property
    def reads_back_hostile_names(self):
        return closed("the sample keeps the portable SchemaRules, and SQLAlchemy's SQLite "
                      "reflection keeps a doubled quote in constraint names")

    @property
    def reflects_quoted_constraint_names(self):
        return closed("SAMPLE: SQLAlchemy's SQLite reflection reads constraint names from "
                      "the table's SQL text without unescaping doubled quotes")


@pytest.fixture(scope="session")
def npa_requirements_class():
    return {{ cookiecutter.__camel_name }}Requirements
