"""File templates for ``npa migrate new``."""

PYTHON = '''"""{name}"""

import sqlalchemy as sa

from npa_migrations import Migration


class {name}(Migration):
    def up(self, b):
        pass

    def down(self, b):
        pass
'''

SQL = """-- npa:up

-- npa:down

"""
