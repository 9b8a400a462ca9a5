"""Prices move from a decimal column to whole cents: add the column, fill it in batches,
make it NOT NULL, drop the old column (and the way back for down())."""

import sqlalchemy as sa

from npa_migrations import Migration


class PriceInCents(Migration):
    def up(self, b):
        b.add_column("products", sa.Column("price_cents", sa.Integer(), nullable=True))
        b.backfill("products", {"price_cents": sa.text("CAST(ROUND(price * 100) AS INTEGER)")},
                   batch_size=500)
        b.alter_column("products", "price_cents", nullable=False,
                       existing_type=sa.Integer(), existing_nullable=True)
        b.drop_column("products", "price")

    def down(self, b):
        b.add_column("products", sa.Column("price", sa.Numeric(10, 2), nullable=True))
        b.backfill("products", {"price": sa.text("price_cents / 100.0")}, batch_size=500)
        b.alter_column("products", "price", nullable=False,
                       existing_type=sa.Numeric(10, 2), existing_nullable=True)
        b.drop_column("products", "price_cents")
