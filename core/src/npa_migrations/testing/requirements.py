"""Capability gates of the conformance suite (SQLAlchemy's ``SuiteRequirements`` idea).

A suite test that needs a capability is decorated with a gate::

    from npa_migrations.testing.requirements import requires

    @requires.transactional_ddl
    def test_failure_leaves_no_trace(self, ...): ...

Decorating only marks the test (``@pytest.mark.npa_requires("transactional_ddl")``);
the plugin evaluates the mark against the provider under test when the test is set up,
through :class:`SuiteRequirements`, and **skips with a printed reason** when the gate is
closed (run pytest with ``-rs`` or ``-ra`` to list them). A skipped test is not a pass.

Gates read ``provider.capabilities``
(:class:`~npa_migrations.provider.Capabilities`). A provider whose database differs in a
way the flags do not capture subclasses :class:`SuiteRequirements`, overrides a
property, and returns its class from the ``npa_requirements_class`` fixture in its
``conftest.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.base import BaseProvider

MARK = "npa_requires"


@dataclass(frozen=True)
class Gate:
    """Whether a requirement is met; ``reason`` says why not."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def open_() -> Gate:
    """The requirement is met."""
    return Gate(True)


def closed(reason: str) -> Gate:
    """The requirement is not met, for ``reason``."""
    return Gate(False, reason)


class SuiteRequirements:
    """Every gate the suite uses, one property each, documented by its docstring.

    :param provider: the provider under test (bound to the configured URL).
    """

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider

    # helpers -----------------------------------------------------------------------------
    def _flag(self, name: str, wanted: bool = True) -> Gate:
        value = getattr(self.provider.capabilities, name)
        if bool(value) == wanted:
            return open_()
        return closed(f"provider '{self.provider.name}' declares capabilities.{name} = {value}")

    def unmet(self, name: str) -> str | None:
        """Why requirement ``name`` is not met (a skip reason), or ``None`` if it is."""
        attr = getattr(type(self), name, None)
        if not isinstance(attr, property):
            raise AttributeError(
                f"Unknown conformance requirement '{name}'; define it as a property of "
                f"{type(self).__name__}.")
        gate = getattr(self, name)
        if gate:
            return None
        summary = " ".join((attr.__doc__ or name).strip().split("\n\n")[0].split())
        return f"requires {name} -- {summary.replace('``', '')} -- but {gate.reason}"

    # transactions ------------------------------------------------------------------------
    @property
    def transactional_ddl(self) -> Gate:
        """The database rolls back DDL statements inside a transaction."""
        return self._flag("transactional_ddl")

    @property
    def no_transactional_ddl(self) -> Gate:
        """The database commits DDL implicitly, so a failed migration is recorded as
        failed and ``all-in-one`` is refused."""
        return self._flag("transactional_ddl", wanted=False)

    # schema features ---------------------------------------------------------------------
    @property
    def schemas(self) -> Gate:
        """``create_schema`` / ``drop_schema`` and schema-qualified tables work."""
        return self._flag("schemas")

    @property
    def alter_in_place(self) -> Gate:
        """``ALTER TABLE`` changes a column or constraint in place, without copying the
        table."""
        return self._flag("alter_in_place")

    @property
    def drop_column(self) -> Gate:
        """A column can be dropped from an existing table."""
        return self._flag("drop_column")

    @property
    def partial_indexes(self) -> Gate:
        """``create_index(..., where=...)`` creates an index over the rows that match."""
        return self._flag("partial_indexes")

    # locking -----------------------------------------------------------------------------
    @property
    def table_lock(self) -> Gate:
        """The migration lock is the portable lock table, which ``unlock`` can force-release
        and which expires when its holder crashes."""
        from ..provider.locking import TableLock
        from ..plugins import get_plugin_manager

        lock = get_plugin_manager().hook.npa_create_lock(provider=self.provider,
                                                         table_name="npat_probe_lock")
        if isinstance(lock, TableLock):
            return open_()
        return closed(f"provider '{self.provider.name}' uses {lock.description}")

    @property
    def cross_process(self) -> Gate:
        """A second process can reach the same database: not one whose database is a file
        (:attr:`~npa_migrations.provider.Capabilities.database_file`) while the URL names
        no file path (in memory, or a ``file:`` URI)."""
        if self.provider.capabilities.database_file and self.provider.database_path() is None:
            return closed(f"the URL names no database file: an in-memory "
                          f"{self.provider.name} database is private to one process")
        return open_()

    # identifiers -------------------------------------------------------------------------
    @property
    def quotes_in_identifiers(self) -> Gate:
        """Quoted identifiers may contain double quotes, single quotes and semicolons
        (Oracle forbids a double quote inside one)."""
        return open_()


    @property
    def reflects_quoted_constraint_names(self) -> Gate:
        """Reflection returns constraint names that contain a double quote exactly (a
        provider whose SQLAlchemy dialect does not -- SQLite's reads them from the table's
        SQL text -- closes it in its own requirements)."""
        return open_()

    @property
    def reads_back_hostile_names(self) -> Gate:
        """Drift detection and post-execution verification read names holding quotes,
        backticks and line breaks back exactly (the provider's
        :class:`~npa_migrations.provider.comparison.SchemaRules` correct what its
        dialect's reflection cannot)."""
        return open_()


class _Requires:
    """``requires.<gate>``: a decorator that marks a test or class with a gate."""

    def __getattr__(self, name: str) -> Callable[[Any], Any]:
        if name.startswith("_") or not isinstance(getattr(SuiteRequirements, name, None),
                                                  property):
            raise AttributeError(f"Unknown conformance requirement '{name}'.")
        return requirement(name)


def requirement(name: str) -> Callable[[Any], Any]:
    """A decorator that marks a test (function or class) as needing gate ``name``; use
    this form for gates a provider's own :class:`SuiteRequirements` subclass adds."""
    import pytest

    return getattr(pytest.mark, MARK)(name)


#: ``@requires.transactional_ddl``, ``@requires.schemas``, ...
requires = _Requires()
