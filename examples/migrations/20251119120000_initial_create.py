import sqlalchemy as sa

from npa_migrations import Migration


class InitialCreate(Migration):
    def up(self, b):
        b.create_table(
            "users",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(255), nullable=False, unique=True),
            sa.Column("created_at", sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP")),
        )
        b.create_table(
            "products",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("price", sa.Numeric(10, 2), nullable=False, server_default="0"),
        )

    def down(self, b):
        b.drop_table("products")
        b.drop_table("users")
