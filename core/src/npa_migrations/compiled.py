"""SQLAlchemy Core statements compiled once per dialect and run on a raw DB-API cursor.

The engine's own SQL (history, lock table) is written as SQLAlchemy Core, compiled
once, and executed without per-call compilation; bind and result processors of the
column types are applied so values travel exactly as SQLAlchemy would send them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .provider.connection import DbConnection

_compiled: dict[tuple, dict[str, Any]] = {}
_compiling = threading.RLock()  # a build (compiled_once) may compile a statement it made


def compiled_once(what: tuple, provider: Any, build: Callable[[], dict[str, Any]]
                  ) -> dict[str, Any]:
    """What ``build`` compiles for ``provider`` (a dict of attributes: tables and
    statements), reused by later providers of the same kind on the same server.

    The engine's own SQL (history table, event log) depends on the provider's class, its
    SQL generator, its dialect (and the server version once it is known) and the table
    names -- not on the database or schema a URL names. A fleet of 1,000 tenants on one
    server compiles it once instead of 1,000 times (several milliseconds of CPU each). The
    key also holds the URL's driver, host and port, so servers that could differ in
    version never share statements.
    """
    dialect = provider.dialect
    url = provider.url
    key = (what, type(provider), type(provider.sql), type(dialect), dialect.name,
           getattr(dialect, "server_version_info", None), url.drivername, url.host, url.port)
    found = _compiled.get(key)
    if found is None:
        with _compiling:
            found = _compiled.get(key)
            if found is None:
                found = _compiled[key] = build()
    return found


class CompiledSql:
    """One statement: ``sql`` plus a way to bind keyword values to it, compiled when first
    used.

    A store of the engine's tables holds every statement it may run, and a command runs
    few of them (a deploy: the history's select and insert, not its update, delete and
    journal statements): compiling costs a quarter of a millisecond per statement, so it
    waits for the first use of :attr:`sql` or of the binds. A value set before that use
    (``sql`` of a statement the provider rewrites) is kept.
    """

    sql: str
    positional: bool
    _names: list  # the driver's names of the binds, in order
    _binds: list  # (our key, bind processor, literal value compiled in) of each bind
    _no_params: tuple | dict | None
    _results: list | None

    def __init__(self, dialect: Any, element: Any):
        self._source = (dialect, element)

    def __getattr__(self, name: str) -> Any:
        """Compile on the first use of a compiled attribute; every later use finds it set."""
        source = self.__dict__.get("_source")
        if source is None or name.startswith("__"):
            raise AttributeError(name)
        with _compiling:
            for key, value in _compile(*source).items():
                self.__dict__.setdefault(key, value)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def params(self, values: dict[str, Any]) -> Any:
        """Bound parameters in the driver's parameter style."""
        get = values.get
        bound = [get(key, default) if proc is None else proc(get(key, default))
                 for key, proc, default in self._binds]  # one pass: two rows a migration
        if self.positional:
            return tuple(bound)
        return dict(zip(self._names, bound))

    def arguments(self, **values: Any) -> Any:
        """What the driver gets beside :attr:`sql`: the bound parameters, or (no bind)
        what makes it read the statement in its parameter style."""
        return self.params(values) if self._binds else self._no_params

    def execute(self, conn: "DbConnection", **values: Any):
        return conn.execute(self.sql, self.arguments(**values))

    def fetchall(self, conn: "DbConnection", **values: Any) -> list[tuple]:
        return [self.processed(row) for row in self.execute(conn, **values).fetchall()]

    def processed(self, row: Any) -> tuple:
        """One row as the driver returned it, with the column types' result processors
        applied (what :meth:`fetchall` gives for it)."""
        procs = self._results
        if not procs:
            return tuple(row)
        return tuple(p(v) if p else v for p, v in zip(procs, row))


def _compile(dialect: Any, element: Any) -> dict[str, Any]:
    """The attributes of a :class:`CompiledSql` of ``element`` for ``dialect``."""
    compiled = element.compile(dialect=dialect)
    positional = dialect.positional
    binds = compiled.binds
    names = list(compiled.positiontup) if positional else list(binds)
    results = None
    if getattr(element, "is_select", False):
        procs = [c.type.result_processor(dialect, None) for c in element.selected_columns]
        if any(procs):
            results = procs
    return {
        "sql": str(compiled),
        "positional": positional,
        "_names": names,
        "_binds": [(binds[name].key, binds[name].type.bind_processor(dialect),
                    binds[name].value) for name in names],
        # with no bind, the driver still has to read the statement in its paramstyle: a
        # format/pyformat driver turns the '%%' the compiler wrote for a '%' in a name
        # into '%' only when it gets parameters (none, for a qmark/numeric driver)
        "_no_params": (None if dialect.paramstyle not in ("format", "pyformat")
                       else () if positional else {}),
        "_results": results,
    }
