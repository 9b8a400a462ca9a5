import sqlalchemy as sa

from npa_migrations import Migration


class CreateCatalog(Migration):
    def up(self, b):
        b.create_table(
            "customers",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("email", sa.String(length=200), nullable=False),
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_customers"),
            sa.UniqueConstraint("email", name="uq_customers_email"),
        )
        b.create_table(
            "products",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("price", sa.Numeric(10, 2), nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_products"),
        )

    def down(self, b):
        b.drop_table("products")
        b.drop_table("customers")
