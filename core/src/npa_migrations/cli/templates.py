"""File templates for ``npa migrate new``."""

PYTHON = '''"""{name}"""

import sqlalchemy as sa

from npa_migrations import Migration


class {name}(Migration):
    def up(self, b):
        pass

    def down(self, b):
        # what reverts up(); while it records nothing, 'npa migrate down' refuses this
        # migration (set empty_down = True on the class if there is nothing to undo)
        pass
'''

SQL = """-- npa:up

-- npa:down
-- what reverts the up section; while it is empty, 'npa migrate down' refuses this
-- migration (write '-- npa:empty-down' instead if there is nothing to undo)

"""
