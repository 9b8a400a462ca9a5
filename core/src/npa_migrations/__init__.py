"""npa-migrations: a database migration execution engine with pluggable providers.

The public API is imported lazily so that ``npa --help`` stays fast::

    from npa_migrations import MigrationExecutor, MigrationExecutorOptions, TransactionMode
"""

from __future__ import annotations

from importlib import import_module

#: ``typing.TYPE_CHECKING`` without importing ``typing``, which the recorded up-to-date
#: answers of :mod:`npa_migrations.uptodate` do without (type checkers read it as true)
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "Migration": "migration",
    "MigrationScript": "migration",
    "MigrationBuilder": "builder",
    "MigrationExecutor": "engine.executor",
    "FleetExecutor": "engine.fleet",
    "FleetResult": "engine.fleet",
    "Tenant": "engine.tenants",
    "MigrationExecutorOptions": "options",
    "TransactionMode": "options",
    "OutOfOrder": "options",
    "MigrationResult": "results",
    "MigrationError": "results",
    "MigrationStatus": "results",
    "ProgressStep": "results",
    "MigrationException": "errors",
    "NpaError": "errors",
    "ConfigurationError": "errors",
    "ValidationError": "errors",
    "LockTimeoutError": "errors",
    "BaseProvider": "provider",
    "Capabilities": "provider",
    "Statement": "statements",
    "hookimpl": "hookspecs",
    "hookspec": "hookspecs",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'npa_migrations' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from .builder import MigrationBuilder
    from .errors import (ConfigurationError, LockTimeoutError, MigrationException, NpaError,
                         ValidationError)
    from .engine.executor import MigrationExecutor
    from .engine.fleet import FleetExecutor, FleetResult
    from .engine.tenants import Tenant
    from .hookspecs import hookimpl, hookspec
    from .migration import Migration, MigrationScript
    from .options import MigrationExecutorOptions, OutOfOrder, TransactionMode
    from .provider.base import BaseProvider, Capabilities
    from .results import MigrationError, MigrationResult, MigrationStatus, ProgressStep
    from .statements import Statement
