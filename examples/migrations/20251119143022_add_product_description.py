import sqlalchemy as sa

from npa_migrations import Migration


class AddProductDescription(Migration):
    depends_on = ("20251119120000_InitialCreate",)

    def up(self, b):
        b.add_column("products", sa.Column("description", sa.String(500), nullable=True))
        b.create_index("ix_products_description", "products", ["description"])

    def down(self, b):
        b.drop_index("ix_products_description", "products")
        b.drop_column("products", "description")
