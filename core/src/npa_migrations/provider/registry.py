"""Which provider serves a database URL.

Every provider package registers the backend names it serves (SQLAlchemy's
``url.get_backend_name()``: ``"postgresql"``, ``"mysql"``, ...) through the hook
:func:`~npa_migrations.hookspecs.npa_register_providers`, naming its provider class as
``"module:Class"`` so that nothing of the provider (nor SQLAlchemy's dialect, nor the
driver) is imported until a URL of that backend is used. The registry is read once per
plugin manager; two plugins claiming one backend name is an error naming both.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..errors import ConfigurationError, ProviderNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from .base import BaseProvider

#: backend name -> extra of npa-migrations that installs its provider
PROVIDER_EXTRAS = {
    "sqlite": "sqlite",
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "sqlserver",
    "oracle": "oracle",
}


@dataclass(frozen=True)
class Registration:
    """One provider a plugin registered.

    :ivar backends: the backend names it serves, e.g. ``("postgresql", "postgres")``.
    :ivar provider: the provider class as ``"module:Class"``, or a callable taking the URL.
    :ivar plugin: the name of the plugin that registered it (its entry-point name).
    """

    backends: tuple[str, ...]
    provider: "str | Callable[[sa.engine.URL], BaseProvider]"
    plugin: str

    def create(self, url: "sa.engine.URL") -> "BaseProvider":
        """A provider instance bound to ``url`` (imports the provider's module now)."""
        factory = self.provider
        if isinstance(factory, str):
            module, _, attr = factory.partition(":")
            factory = getattr(importlib.import_module(module), attr)
        return factory(url)


_cache: tuple[Any, dict[str, Registration]] | None = None


def registrations() -> dict[str, Registration]:
    """Every registered backend name and the registration that serves it."""
    global _cache
    from ..plugins import get_plugin_manager

    manager = get_plugin_manager()
    if _cache is not None and _cache[0] is manager:
        return _cache[1]
    found: dict[str, Registration] = {}
    for impl in manager.hook.npa_register_providers.get_hookimpls():
        def register(backends: "str | Iterable[str]", provider: Any,
                     plugin: str = impl.plugin_name) -> None:
            names = (backends,) if isinstance(backends, str) else tuple(backends)
            registration = Registration(names, provider, plugin)
            for name in names:
                other = found.get(name)
                if other is not None and other.plugin != plugin:
                    raise ConfigurationError(
                        f"Two installed plugins serve '{name}' URLs: '{other.plugin}' and "
                        f"'{plugin}'. Uninstall one, or block one by its entry-point name "
                        f"with NPA_DISABLE_PLUGINS={plugin}.")
                found[name] = registration
        impl.function(register=register)
    _cache = (manager, found)
    return found


def resolve_provider(url: "sa.engine.URL") -> "BaseProvider":
    """The provider instance serving ``url``; a clear error naming the package to install
    when none does."""
    backend = url.get_backend_name()
    registration = registrations().get(backend)
    if registration is None:
        extra = PROVIDER_EXTRAS.get(backend)
        hint = (f" Install it: pip install 'npa-migrations[{extra}]'" if extra else
                " Install a provider package that registers it in the 'npa' entry-point group.")
        raise ProviderNotFoundError(f"No provider for '{backend}'.{hint}")
    return registration.create(url)


def backends_of(plugin: str) -> list[str]:
    """The backend names a plugin registered (for ``npa providers``)."""
    names: list[str] = []
    for name, registration in registrations().items():
        if registration.plugin == plugin and name not in names:
            names.append(name)
    return names


def installed_plugins() -> list[dict]:
    """Name, module, distribution and version of every entry-point plugin loaded."""
    from ..plugins import entry_point_plugins

    rows = []
    for plugin, entry in entry_point_plugins():
        rows.append({
            "name": entry["name"],
            "module": getattr(plugin, "__name__", repr(plugin)),
            "distribution": entry["distribution"],
            "version": entry["version"],
            "backends": backends_of(entry["name"]),
        })
    return sorted(rows, key=lambda r: r["name"])
