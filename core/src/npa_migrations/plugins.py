"""The plugin manager: entry points of group ``npa`` plus the core's built-in plugins.

Loading is lazy (first call of :func:`get_plugin_manager`) so that ``npa --help`` does
not import providers. Set ``NPA_DISABLE_PLUGIN_AUTOLOAD=1`` to skip entry points (tests),
or ``NPA_DISABLE_PLUGINS=name,name`` to skip some entry points by name (as pytest's
``-p no:name``), e.g. ``NPA_DISABLE_PLUGINS=concurrent_index``.
"""

from __future__ import annotations

import os

import pluggy

from . import hookspecs

DEFAULT_PLUGINS = (
    "npa_migrations.builtin.defaults",
    "npa_migrations.builtin.discovery",
)

_manager: pluggy.PluginManager | None = None


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, loading plugins on first use."""
    global _manager
    if _manager is None:
        import importlib

        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        for name in os.environ.get("NPA_DISABLE_PLUGINS", "").split(","):
            if name.strip():
                manager.set_blocked(name.strip())
        if not os.environ.get("NPA_DISABLE_PLUGIN_AUTOLOAD"):
            manager.load_setuptools_entrypoints(hookspecs.PROJECT)
        for name in DEFAULT_PLUGINS:
            manager.register(importlib.import_module(name), name=name)
        manager.check_pending()
        _manager = manager
    return _manager


def _noop(**kwargs) -> None:
    return None


def live(caller: pluggy.HookCaller):
    """``caller``, or a no-op returning ``None`` when no plugin implements the hook: a
    pluggy call costs microseconds even with nothing to call, and a run makes several
    per migration and statement."""
    return caller if caller.get_hookimpls() else _noop


def only_default(caller: pluggy.HookCaller) -> bool:
    """Whether the built-in ``trylast`` default is the hook's only implementation, so
    the engine may call the provider method it delegates to without a hook dispatch
    (microseconds each, several per migration)."""
    impls = caller.get_hookimpls()
    return len(impls) == 1 and impls[0].plugin_name == DEFAULT_PLUGINS[0]
