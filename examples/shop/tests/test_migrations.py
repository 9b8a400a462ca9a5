"""The shop's own tests of its data migrations, with rows in the tables."""

from decimal import Decimal

PRICE_IN_CENTS = "20250103000000_PriceInCents"


def test_prices_become_cents_and_back(npa_runner):
    npa_runner.up(PRICE_IN_CENTS, before=True)
    npa_runner.insert("products", [{"id": n, "name": f"p{n}", "price": Decimal(price)}
                                   for n, price in enumerate(["9.99", "0.10", "1250.00"], 1)])
    npa_runner.up(PRICE_IN_CENTS)
    assert npa_runner.rows("SELECT id, price_cents FROM products ORDER BY id") == [
        (1, 999), (2, 10), (3, 125000)]
    npa_runner.down()
    prices = npa_runner.rows("SELECT id, price FROM products ORDER BY id")
    assert [(n, round(float(price), 2)) for n, price in prices] == [
        (1, 9.99), (2, 0.1), (3, 1250.0)]


def test_emails_are_lower_cased(npa_runner):
    npa_runner.up("20250104000000_NormalizeEmails", before=True)
    npa_runner.insert("customers", [{"id": 1, "email": "Ada@Example.COM", "name": "Ada"}])
    npa_runner.up()
    assert npa_runner.rows("SELECT email FROM customers") == [("ada@example.com",)]
