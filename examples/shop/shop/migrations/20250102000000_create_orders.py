import sqlalchemy as sa

from npa_migrations import Migration


class CreateOrders(Migration):
    def up(self, b):
        b.create_table(
            "orders",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=False),
            sa.Column("placed_at", sa.DateTime(), nullable=False,
                      server_default=sa.func.current_timestamp()),
            sa.PrimaryKeyConstraint("id", name="pk_orders"),
            sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                    name="fk_orders_customer_id_customers"),
        )
        b.create_index("ix_orders_customer_id", "orders", ["customer_id"])

    def down(self, b):
        b.drop_table("orders")  # with its index (MySQL will not drop an index a key uses)
