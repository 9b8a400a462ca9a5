"""Hostile identifiers: quotes, spaces, semicolons, reserved words, case, non-ASCII."""

import sqlalchemy as sa

from npa_migrations import Migration


class HostileSchema(Migration):
    def up(self, b):
        b.create_schema("My Schema")
        b.create_table(
            "select",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("it's", sa.String(20), server_default="it's"),
            sa.Column("first name", sa.String(20), nullable=False),
            sa.Column("a;b", sa.Integer),
            sa.Column("level", sa.Integer),
            sa.Column("MixedCase", sa.Boolean, server_default=sa.true()),
            sa.Column("größe", sa.Numeric(5, 1)),
            sa.CheckConstraint('"a;b" >= 0', name="ck;semi"),
            schema="My Schema")
        b.create_index("ix it's", "select", ["first name", "level"], schema="My Schema")
        b.create_table("order", sa.Column("group", sa.Integer, nullable=False),
                       sa.Column("user", sa.String(30)))
        b.create_primary_key("pk order", "order", ["group"])
        b.create_foreign_key("fk 'quote'", "order", "select", ["group"], ["id"],
                             ondelete="CASCADE", referent_schema="My Schema")

    def down(self, b):
        b.drop_constraint("fk 'quote'", "order", type_="foreignkey")
        b.drop_table("order")
        b.drop_index("ix it's", "select", schema="My Schema")
        b.drop_table("select", schema="My Schema")
        b.drop_schema("My Schema")
