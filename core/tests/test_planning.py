"""Statement ordering inside one migration (npa_migrations.engine.planner)."""

import sqlalchemy as sa

from npa_migrations.builder import MigrationBuilder
from npa_migrations.engine.planner import order_operations
from npa_migrations.engine.planner import plan_steps
from npa_migrations.provider import OFFLINE


def names(operations):
    """A short label per operation: kind and the name or table it concerns."""
    return [f"{op.kind}:{getattr(op, 'name', None) or getattr(op, 'table', None)}"
            for op in operations]


def builder():
    return MigrationBuilder()


def col(name="id"):
    return sa.Column(name, sa.Integer)


def test_author_order_is_kept_when_nothing_needs_moving():
    b = builder()
    b.create_table("customers", col())
    b.create_table("orders", col(), col("customer_id"))
    b.create_foreign_key("fk_o_c", "orders", "customers", ["customer_id"], ["id"])
    b.execute("UPDATE orders SET customer_id = 1")
    b.drop_constraint("uq_x", "orders", type_="unique")
    b.drop_table("legacy")
    assert order_operations(b.operations) == b.operations


def test_foreign_key_moves_after_the_create_table_of_its_referent():
    b = builder()
    b.create_table("orders", col(), col("customer_id"))
    b.create_foreign_key("fk_o_c", "orders", "customers", ["customer_id"], ["id"])
    b.create_index("ix_orders_customer", "orders", ["customer_id"])
    b.create_table("customers", col())
    b.bulk_insert("customers", [{"id": 1}])
    assert names(order_operations(b.operations)) == [
        "create_table:orders", "create_index:ix_orders_customer", "create_table:customers",
        "create_foreign_key:fk_o_c", "bulk_insert:customers"]


def test_several_foreign_keys_keep_their_relative_order():
    b = builder()
    b.create_table("a", col(), col("c_id"))
    b.create_foreign_key("fk_1", "a", "c", ["c_id"], ["id"])
    b.create_foreign_key("fk_2", "a", "b", ["c_id"], ["id"])
    b.create_foreign_key("fk_3", "a", "c", ["c_id"], ["id"])
    b.create_table("b", col())
    b.create_table("c", col())
    assert names(order_operations(b.operations)) == [
        "create_table:a", "create_table:b", "create_foreign_key:fk_2", "create_table:c",
        "create_foreign_key:fk_1", "create_foreign_key:fk_3"]


def test_referent_matching_ignores_case_and_respects_schema():
    b = builder()
    b.create_table("a", col(), col("c_id"))
    b.create_foreign_key("fk_case", "a", "Customers", ["c_id"], ["id"])
    b.create_foreign_key("fk_schema", "a", "customers", ["c_id"], ["id"],
                         referent_schema="other")
    b.create_table("customers", col())
    assert names(order_operations(b.operations)) == [
        "create_table:a", "create_foreign_key:fk_schema", "create_table:customers",
        "create_foreign_key:fk_case"]


def test_foreign_key_does_not_move_past_what_it_depends_on():
    b = builder()
    b.create_table("a", col(), col("c_id"))
    b.create_foreign_key("fk", "a", "c", ["c_id"], ["id"])
    b.drop_column("a", "c_id")  # the author's order fails as written; not hidden
    b.create_table("c", col())
    assert order_operations(b.operations) == b.operations

    b = builder()
    b.create_foreign_key("fk", "a", "c", ["x"], ["id"])
    b.rename_table("a", "a2")
    b.create_table("c", col())
    assert order_operations(b.operations) == b.operations


def test_self_reference_and_existing_referents_stay_put():
    b = builder()
    b.create_table("tree", col(), col("parent_id"))
    b.create_foreign_key("fk_tree", "tree", "tree", ["parent_id"], ["id"])
    b.create_foreign_key("fk_old", "tree", "existing", ["parent_id"], ["id"])
    b.create_table("unrelated", col())
    assert order_operations(b.operations) == b.operations


def test_foreign_key_drop_moves_before_the_table_it_may_reference():
    b = builder()
    b.drop_index("ix_a", "a")
    b.drop_table("customers")
    b.drop_constraint("fk_orders_customers", "orders", type_="foreignkey")
    b.drop_constraint("fk_untyped", "orders")
    assert names(order_operations(b.operations)) == [
        "drop_index:ix_a", "drop_constraint:fk_orders_customers", "drop_constraint:fk_untyped",
        "drop_table:customers"]


def test_constraint_of_the_dropped_table_itself_moves_before_it():
    b = builder()
    b.drop_table("t")
    b.drop_constraint("uq_t", "t", type_="unique")
    assert names(order_operations(b.operations)) == ["drop_constraint:uq_t", "drop_table:t"]


def test_constraints_that_cannot_reference_the_table_stay_put():
    b = builder()
    b.create_foreign_key("fk_known", "orders", "other", ["x"], ["id"])
    b.drop_table("customers")
    b.drop_constraint("uq_orders", "orders", type_="unique")
    b.drop_constraint("ck_orders", "orders", type_="check")
    b.drop_constraint("fk_known", "orders")  # created above, towards 'other'
    assert order_operations(b.operations) == b.operations


def test_known_foreign_key_moves_before_its_referent_only():
    b = builder()
    b.create_foreign_key("fk_known", "orders", "customers", ["x"], ["id"])
    b.execute("SELECT 1")
    b.drop_table("customers")
    b.drop_table("audit")
    b.drop_constraint("fk_known", "orders")
    assert names(order_operations(b.operations)) == [
        "create_foreign_key:fk_known", "execute:None", "drop_constraint:fk_known",
        "drop_table:customers", "drop_table:audit"]


def test_drop_does_not_move_before_the_creation_of_its_constraint_or_table():
    b = builder()
    b.drop_table("customers")
    b.create_table("orders", col(), col("customer_id"))
    b.drop_constraint("fk", "orders")
    assert order_operations(b.operations) == b.operations

    b = builder()
    b.drop_table("customers")
    b.create_foreign_key("fk", "orders", "x", ["a"], ["id"])
    b.drop_constraint("fk", "orders")
    assert order_operations(b.operations) == b.operations


def test_base_provider_plans_in_that_order():
    from npa_migrations.provider import BaseProvider

    b = builder()
    b.create_table("orders", col(), col("customer_id"))
    b.create_foreign_key("fk_o_c", "orders", "customers", ["customer_id"], ["id"])
    b.create_table("customers", col())
    provider = BaseProvider(sa.engine.make_url("postgresql://u@h/db"))
    steps = plan_steps(provider, list(b.operations))
    assert [s.operations[0].kind for s in steps] == ["create_table", "create_table",
                                                      "create_foreign_key"]
    assert "ADD CONSTRAINT fk_o_c FOREIGN KEY" in steps[2].render(OFFLINE)[0].sql


def test_a_migration_written_in_the_wrong_order_applies(tmp_path):
    """End to end on SQLite: the foreign key is created once its referent exists."""
    import sqlite3

    from npa_migrations import MigrationExecutor

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "20250101000000_shop.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n"
        "class Shop(Migration):\n    def up(self, b):\n"
        "        b.create_table('orders', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                       sa.Column('customer_id', sa.Integer))\n"
        "        b.create_foreign_key('fk_o_c', 'orders', 'customers', ['customer_id'], ['id'])\n"
        "        b.create_table('customers', sa.Column('id', sa.Integer, primary_key=True))\n")
    db = tmp_path / "shop.db"
    result = MigrationExecutor(f"sqlite:///{db}", folder).execute()
    assert result.success, result.errors
    with sqlite3.connect(db) as conn:
        fks = conn.execute("SELECT \"table\", \"from\" FROM pragma_foreign_key_list('orders')")
        assert fks.fetchall() == [("customers", "customer_id")]
