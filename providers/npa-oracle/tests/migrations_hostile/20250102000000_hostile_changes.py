"""Hostile identifiers through every kind of change."""

import sqlalchemy as sa

from npa_migrations import Migration


class HostileChanges(Migration):
    depends_on = ("20250101000000_HostileSchema",)

    def up(self, b):
        b.add_column("order", sa.Column("date", sa.Date))
        b.alter_column("order", "user", type_=sa.String(60), nullable=False,
                       existing_nullable=True)
        b.rename_column("order", "date", "from")
        b.rename_table("order", "Order Items")
        b.create_unique_constraint("uq;user", "Order Items", ["user"])
        b.create_check_constraint("ck 'from'", "Order Items", "\"from\" > DATE '2000-01-01'")
        b.bulk_insert("Order Items", [{"group": 1, "user": "O'Brien; DROP TABLE x"}])
        b.execute("UPDATE \"Order Items\" SET \"user\" = 'it''s' WHERE \"group\" = 1",
                  dialects=["oracle"])

    def down(self, b):
        b.execute("DELETE FROM \"Order Items\"", dialects=["oracle"])
        b.drop_constraint("ck 'from'", "Order Items", type_="check")
        b.drop_constraint("uq;user", "Order Items", type_="unique")
        b.rename_table("Order Items", "order")
        b.rename_column("order", "from", "date")
        b.alter_column("order", "user", type_=sa.String(30), nullable=True,
                       existing_nullable=False)
        b.drop_column("order", "date")
