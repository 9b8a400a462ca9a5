from npa_migrations import Migration


class SeedProducts(Migration):
    def up(self, b):
        b.bulk_insert("products", [
            {"id": 1, "name": "Widget", "price": 9.99, "description": "A small widget"},
            {"id": 2, "name": "Gadget", "price": 24.50, "description": None},
        ])

    def down(self, b):
        b.execute("DELETE FROM products WHERE id IN (1, 2)")
