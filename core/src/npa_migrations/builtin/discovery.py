"""Built-in discovery: the hook that finds the migrations of a source.

Only the hook lives here: the plugin manager imports this module whenever it loads the
plugins (``npa migrate --help`` does, to list the plugins' commands), so the reading and
parsing of migration files (:mod:`npa_migrations.builtin.sources`, with the SQL lexer
and hashing) is imported on the first discovery, not at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript


@hookimpl(trylast=True)
def npa_discover_migrations(source: str, register: Callable[["MigrationScript"], None]) -> None:
    """Python migration modules and ``.sql`` files of a folder or dotted package."""
    from .sources import discover

    discover(source, register)
