"""Data migrations on PostgreSQL (psycopg, ``%(name)s`` parameters) and MariaDB (PyMySQL,
``%s``): ``execute`` binds its values in the driver's style, a Python step gets a
SQLAlchemy connection on the run's own session and cannot end its transaction
(core/tests/test_data_migrations.py has the SQLite side)."""

from __future__ import annotations

import textwrap

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationExecutor, hookimpl
from npa_migrations.plugins import get_plugin_manager

from server_databases import fresh_database

PRODUCTS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Products(Migration):
        def up(self, b):
            b.create_table("products", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("name", sa.String(100)),
                           sa.Column("price_cents", sa.Integer))
            b.bulk_insert("products", [{"id": i, "name": f"p{i}"} for i in range(1, 6)])

        def down(self, b):
            b.drop_table("products")
"""

DATA = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    def price_everything(connection):
        connection.execute(sa.text("UPDATE products SET price_cents = id * 100 "
                                   "WHERE price_cents IS NULL"))
        {ending}

    class Data(Migration):
        transactional = {transactional}

        def up(self, b):
            b.execute("UPDATE products SET name = :name WHERE id = :id",
                      {{"name": "50% off; it's \\"new\\"", "id": 2}})
            b.run_python(price_everything)

        def down(self, b):
            b.execute("UPDATE products SET price_cents = NULL")
"""


@pytest.fixture(params=["postgresql", "mariadb"])
def database(request):
    with fresh_database(request.param, "npa_data") as url:
        yield url.render_as_string(hide_password=False)


def write(folder, ending: str = "", transactional: bool = True) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "20250101000000_products.py").write_text(textwrap.dedent(PRODUCTS))
    (folder / "20250102000000_data.py").write_text(textwrap.dedent(DATA.format(
        ending=ending, transactional=transactional)))


def products(database: str) -> list[tuple]:
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, name, price_cents FROM products ORDER BY id"))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("transactional", [True, False])
def test_bound_parameters_and_a_python_step(database, tmp_path, transactional):
    sent = []

    class Spy:
        @hookimpl
        def npa_statement_start(self, migration, statement):
            sent.append(statement)

    manager, spy = get_plugin_manager(), Spy()
    manager.register(spy)
    try:
        write(tmp_path / "migrations", transactional=transactional)
        result = MigrationExecutor(database, tmp_path / "migrations").execute()
    finally:
        manager.unregister(spy)
    assert result.success, result.errors
    assert products(database)[:2] == [(1, "p1", 100), (2, "50% off; it's \"new\"", 200)]
    update = next(s for s in sent if s.sql.startswith("UPDATE products SET name"))
    assert "50%" not in update.sql and "new" not in update.sql


@pytest.mark.parametrize("transactional", [True, False])
def test_a_python_step_cannot_commit(database, tmp_path, transactional):
    write(tmp_path / "migrations", ending="connection.commit()", transactional=transactional)
    result = MigrationExecutor(database, tmp_path / "migrations").execute()
    assert not result.success
    assert "price_everything() tried to commit or roll back" in result.errors[0].message
    # outside a transaction the execute() before it took effect; the Python step never
    renamed = "50% off; it's \"new\"" if not transactional else "p2"
    assert products(database) == [(i, renamed if i == 2 else f"p{i}", None)
                                  for i in range(1, 6)]
