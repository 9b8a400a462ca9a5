"""``python -m npa_migrations.cli``: the same as the ``npa`` command."""

from . import main

main()
