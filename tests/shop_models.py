"""Three versions of a shop's SQLAlchemy models, for the autogenerate round trips
(tests/test_autogen_roundtrip.py) and the example in docs/autogenerate.md.

* :func:`version_1` -- eleven tables: keys, foreign keys (one referring to its own table,
  one composite primary key), unique and check constraints, indexes, server defaults.
* :func:`version_2` -- what a team changes in a sprint: a renamed column and a renamed
  table (which autogenerate sees as a drop and an add), added and dropped columns, a NOT
  NULL column with a server default, a type that grows and one that shrinks, a
  nullability, a default and a comment changed, a new table, new and dropped indexes
  (one partial), a new unique and a new check constraint.
* :func:`version_3` -- a foreign key's ON DELETE changes, an index changes columns, a
  unique constraint and a table go, and on databases with schemas a table in a new
  schema.

Every constraint is named through the MetaData's naming convention, as Alembic and npa's
docs recommend, so that autogenerate can drop and change them by name.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _money(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.Numeric(10, 2), **kw)


def _catalogue(md: sa.MetaData, name_length: int = 200, description=sa.Text) -> None:
    sa.Table("categories", md, _id(), sa.Column("name", sa.String(50), nullable=False,
                                                  unique=True),
             sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.id")))
    sa.Table("products", md, _id(),
             sa.Column("sku", sa.String(32), nullable=False, unique=True),
             sa.Column("name", sa.String(name_length), nullable=False),
             _money("price", nullable=False, server_default="0"),
             sa.Column("description", description),
             sa.CheckConstraint("price >= 0", name="price_positive"))
    sa.Table("product_categories", md,
             sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"),
                       primary_key=True),
             sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id"),
                       primary_key=True))


def _addresses(md: sa.MetaData, *indexes: sa.Index, ondelete: str = "CASCADE") -> None:
    sa.Table("addresses", md, _id(),
             sa.Column("customer_id", sa.Integer,
                       sa.ForeignKey("customers.id", ondelete=ondelete),
                       nullable=ondelete == "SET NULL"),
             sa.Column("street", sa.String(200)), sa.Column("city", sa.String(100)),
             sa.Column("country", sa.String(2), nullable=False), *indexes)


def _fulfilment(md: sa.MetaData, payment_method: bool = True,
                unique_tracking: bool = False) -> None:
    """order_items, payments, shipments."""
    sa.Table("order_items", md, _id(),
             sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"),
                       nullable=False),
             sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
             sa.Column("quantity", sa.Integer, nullable=False), _money("unit_price"))
    sa.Table("payments", md, _id(),
             sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
             _money("amount", nullable=False),
             *([sa.Column("method", sa.String(20))] if payment_method else []))
    sa.Table("shipments", md, _id(),
             sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
             sa.Column("carrier", sa.String(50)),
             sa.Column("tracking_no", sa.String(40), unique=unique_tracking))


def _reviews_and_codes(md: sa.MetaData, codes: str, *checks: sa.CheckConstraint) -> None:
    sa.Table("reviews", md, _id(),
             sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
             sa.Column("rating", sa.SmallInteger, nullable=False), sa.Column("body", sa.Text),
             *checks)
    sa.Table(codes, md, _id(), sa.Column("code", sa.String(20), nullable=False, unique=True),
             sa.Column("discount_pct", sa.Integer, nullable=False))


def version_1() -> sa.MetaData:
    """The first release: eleven tables."""
    md = sa.MetaData(naming_convention=NAMING)
    sa.Table("customers", md, _id(),
             sa.Column("email", sa.String(255), nullable=False, unique=True),
             sa.Column("name", sa.String(100), nullable=False),
             sa.Column("created_at", sa.DateTime, server_default=sa.func.current_timestamp()),
             sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()))
    _addresses(md)
    _catalogue(md)
    sa.Table("orders", md, _id(),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"),
                       nullable=False, index=True),
             sa.Column("status", sa.String(20), nullable=False, server_default="new",
                       index=True),
             sa.Column("placed_at", sa.DateTime))
    _fulfilment(md)
    _reviews_and_codes(md, "coupons")
    return md


def version_2(partial_indexes: bool = True) -> sa.MetaData:
    """The sprint's changes (``partial_indexes``: the database has ``CREATE INDEX ...
    WHERE``)."""
    md = sa.MetaData(naming_convention=NAMING)
    sa.Table("customers", md, _id(),
             sa.Column("email", sa.String(255), nullable=False, unique=True,
                       comment="login; unique per customer"),
             sa.Column("full_name", sa.String(100), nullable=False),
             sa.Column("phone", sa.String(20)),
             sa.Column("loyalty_points", sa.Integer, nullable=False, server_default="0"),
             sa.Column("created_at", sa.DateTime, server_default=sa.func.current_timestamp()),
             sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()))
    _addresses(md, sa.Index("ix_addresses_city", "city"))
    _catalogue(md, name_length=300, description=sa.String(500))
    md.tables["products"].append_constraint(sa.Index("ix_products_name", "name"))
    where = {"postgresql_where": sa.text("status <> 'delivered'"),
             "sqlite_where": sa.text("status <> 'delivered'")} if partial_indexes else {}
    sa.Table("orders", md, _id(),
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"),
                       nullable=False, index=True),
             sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
             sa.Column("placed_at", sa.DateTime, nullable=False),
             sa.Index("ix_orders_open", "status", **where))
    _fulfilment(md, payment_method=False, unique_tracking=True)
    _reviews_and_codes(md, "promo_codes",
                       sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"))
    sa.Table("wishlists", md,
             sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"),
                       primary_key=True),
             sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"),
                       primary_key=True),
             sa.Column("added_at", sa.DateTime, server_default=sa.func.current_timestamp()))
    return md


def version_3(partial_indexes: bool = True, schemas: bool = False) -> sa.MetaData:
    """A foreign key's ON DELETE, an index's columns, a dropped unique constraint and
    table; with ``schemas``, a table in a new schema."""
    md = version_2(partial_indexes)
    for name in ("wishlists", "addresses", "order_items", "payments", "shipments"):
        md.remove(md.tables[name])
    _addresses(md, sa.Index("ix_addresses_city", "country", "city"), ondelete="SET NULL")
    _fulfilment(md, payment_method=False)
    if schemas:
        sa.Table("daily_sales", md, sa.Column("day", sa.Date, primary_key=True),
                 _money("total", nullable=False, server_default="0"), schema="reporting")
    return md
