"""The ``npa`` console script: a recorded up-to-date answer when there is one
(:mod:`npa_migrations.uptodate`), else the CLI.

It is a module of its own so that answering ``npa migrate up`` on an up-to-date
database imports neither click nor SQLAlchemy.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    from .uptodate import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from .cli import main as cli_main

    cli_main()
