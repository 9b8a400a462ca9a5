"""{{ cookiecutter.project_slug }}'s own tests: registration and the SQL it renders.

The conformance suite checks behaviour on a live database; tests here pin what only this
package decides. Add a golden-SQL test for every ``sql_<kind>`` method you override.
"""

import sqlalchemy as sa

from npa_migrations import MigrationBuilder
from npa_migrations.engine.target import parse_url
from npa_migrations.provider.registry import resolve_provider
from npa_migrations.provider.registry import installed_plugins

from {{ cookiecutter.package_name }}.provider import {{ cookiecutter.__camel_name }}Provider
from npa_migrations.provider import OFFLINE


def test_entry_point_is_registered():
    rows = {row["distribution"]: row for row in installed_plugins()}
    row = rows["{{ cookiecutter.project_slug }}"]
    assert row["name"] == "{{ cookiecutter.url_scheme }}"
    assert row["module"] == "{{ cookiecutter.package_name }}.plugin"
    assert row["backends"] == ["{{ cookiecutter.url_scheme }}"]


def test_url_scheme_resolves_to_this_provider(tmp_path):
    provider = resolve_provider(parse_url(f"{{ cookiecutter.url_scheme }}:///{tmp_path / 'app.db'}"))
    assert type(provider) is {{ cookiecutter.__camel_name }}Provider
    assert provider.name == "{{ cookiecutter.url_scheme }}"


def test_only_its_own_scheme_is_registered():
    from npa_migrations.provider.registry import registrations

    mine = [name for name, r in registrations().items() if r.plugin == "{{ cookiecutter.url_scheme }}"]
    assert mine == ["{{ cookiecutter.url_scheme }}"]


def render(operation):
    """The SQL statements the engine would run for one operation (one line each)."""
    provider = resolve_provider(parse_url("{{ cookiecutter.url_scheme }}://"))
    statements = provider.sql.generate(operation, OFFLINE)
    return [" ".join(getattr(s, "sql", s).split()) for s in statements]


def test_create_table_sql():
    # REPLACE the expected text with what your database's dialect renders
    b = MigrationBuilder()
    b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("name", sa.String(50), nullable=False))
    assert render(b.operations[0]) == [
        "CREATE TABLE items ( id INTEGER NOT NULL, name VARCHAR(50) NOT NULL, "
        "PRIMARY KEY (id) )"]


def test_rename_column_sql_quotes_names():
    b = MigrationBuilder()
    b.rename_column("items", "name", "Full Name")
    assert render(b.operations[0]) == ['ALTER TABLE items RENAME COLUMN name TO "Full Name"']
