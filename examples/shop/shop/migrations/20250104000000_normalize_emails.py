"""Emails are compared case-insensitively from now on: store them in lower case."""

import sqlalchemy as sa

from npa_migrations import Migration


def lower_case_emails(connection):
    customers = sa.table("customers", sa.column("id"), sa.column("email"))
    for customer_id, email in connection.execute(sa.select(customers.c.id, customers.c.email)):
        if email != email.lower():
            connection.execute(customers.update().where(customers.c.id == customer_id)
                               .values(email=email.lower()))


class NormalizeEmails(Migration):
    def up(self, b):
        b.run_python(lower_case_emails)

    def down(self, b):
        pass  # nothing to undo: lower-case emails stay valid
