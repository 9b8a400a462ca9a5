"""The plugin manager: entry points of group ``npa`` plus the core's built-in plugins.

Loading is lazy (first call of :func:`get_plugin_manager`) so that ``npa --help`` does
not import providers. Set ``NPA_DISABLE_PLUGIN_AUTOLOAD=1`` to skip entry points (tests),
or ``NPA_DISABLE_PLUGINS=name,name`` to skip some entry points by name (as pytest's
``-p no:name``), e.g. ``NPA_DISABLE_PLUGINS=concurrent_index``. ``NPA_PLUGINS=module,module``
registers extra plugin modules in this process (as pytest's ``-p module``), without
installing them as entry points -- e.g. ``NPA_PLUGINS=npa_migrations.testing.crash``, the
crash-point injector a child process of the crash tests loads. The variable is read only
when the manager is built, so it costs nothing on paths that never load plugins.
"""

from __future__ import annotations

import os

import pluggy

from . import hookspecs
from .errors import ConfigurationError

DEFAULT_PLUGINS = (
    "npa_migrations.builtin.defaults",
    "npa_migrations.builtin.discovery",
)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, which also remembers the plugins it loaded from entry points and
    the entry point of each (:func:`entry_point_plugins`)."""

    def __init__(self, project_name: str):
        super().__init__(project_name)
        #: ``(plugin, entry point)`` of every plugin loaded from an entry point
        self.entry_point_plugins: list[tuple[object, dict]] = []
        #: the names of the plugins :func:`get_plugin_manager` registered: what the
        #: installation and the environment chose
        self.configured: frozenset[str] = frozenset()

    def holds_only_configured_plugins(self) -> bool:
        """Whether the plugins registered are exactly those the installation and the
        environment chose: none added or removed in this process since (an in-test
        plugin, the CLI's reporter), so what they do is what any new process would get."""
        return self.configured == {name for name, plugin in self.list_name_plugin()
                                   if plugin is not None}


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """Return the process-wide plugin manager, loading plugins on first use."""
    global _manager
    if _manager is None:
        import importlib

        manager = PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        for name in os.environ.get("NPA_DISABLE_PLUGINS", "").split(","):
            if name.strip():
                manager.set_blocked(name.strip())
        if not os.environ.get("NPA_DISABLE_PLUGIN_AUTOLOAD"):
            _load_entry_points(manager)
        for name in DEFAULT_PLUGINS:
            manager.register(importlib.import_module(name), name=name)
        for name in extra_plugin_modules():
            manager.register(_import_plugin(name), name=name)
        manager.check_pending()
        manager.configured = frozenset(name for name, plugin in manager.list_name_plugin()
                                       if plugin is not None)
        _manager = manager
    return _manager


def _load_entry_points(manager: PluginManager) -> None:
    """Register the plugins of the ``npa`` entry points, skipping a name already
    registered or blocked (what pluggy's ``load_setuptools_entrypoints`` does, with the
    entry points read through :mod:`npa_migrations.entrypoints`)."""
    from . import entrypoints

    for entry in entrypoints.read(hookspecs.PROJECT):
        name = entry["name"]
        if manager.has_plugin(name) or manager.is_blocked(name):
            continue
        plugin = entrypoints.load(entry["value"])
        manager.register(plugin, name=name)
        manager.entry_point_plugins.append((plugin, entry))


def entry_point_plugins() -> list[tuple[object, dict]]:
    """``(plugin, entry point)`` of every plugin loaded from an entry point, the entry
    point as :func:`npa_migrations.entrypoints.read` gives it (name, value, distribution,
    version)."""
    return list(get_plugin_manager().entry_point_plugins)


def reset_plugin_manager() -> None:
    """Forget the process-wide manager: the next :func:`get_plugin_manager` builds a new
    one from the environment (a forked child of the crash-point campaign, which must read
    its own ``NPA_PLUGINS`` / ``NPA_DISABLE_PLUGINS``)."""
    global _manager
    _manager = None


def extra_plugin_modules() -> list[str]:
    """The modules ``NPA_PLUGINS`` names (comma-separated, blanks ignored), in order."""
    return [name.strip() for name in os.environ.get("NPA_PLUGINS", "").split(",")
            if name.strip()]


def _import_plugin(name: str) -> object:
    import importlib

    try:
        return importlib.import_module(name)
    except Exception as exc:  # not found, or failed while importing: either way, say which
        raise ConfigurationError(
            f"NPA_PLUGINS names the module {name!r}, which cannot be imported "
            f"({type(exc).__name__}: {exc}). Install the package that provides it, fix "
            "what the message says, or remove it from NPA_PLUGINS.") from exc


def _noop(**kwargs) -> None:
    return None


def live(caller: pluggy.HookCaller):
    """``caller``, or a cheaper stand-in: a no-op returning ``None`` when no plugin
    implements the hook, a direct call of the implementations when none is a wrapper
    (:func:`direct_caller`). A pluggy call costs microseconds even with little to call,
    and a run makes several per migration and statement."""
    impls = caller.get_hookimpls()
    if not impls:
        return _noop
    return direct_caller(caller, impls) or caller


def direct_caller(caller: pluggy.HookCaller, impls: list):
    """A function that calls ``impls`` (the hook's implementations) as pluggy would --
    the last registered (``tryfirst`` ones) first, each with the arguments it asks for;
    a ``firstresult`` hook stops at the first non-``None`` result, any other returns the
    list of results -- without pluggy's dispatch; ``None`` when an implementation is a
    wrapper, which only pluggy itself can run. (pluggy's call monitoring does not see
    such calls.)"""
    if any(impl.hookwrapper or impl.wrapper for impl in impls):
        return None
    plan = [(impl.function, tuple(impl.argnames)) for impl in reversed(impls)]
    spec = caller.spec
    if spec is not None and spec.opts.get("firstresult"):
        def first(**kwargs):
            for function, names in plan:
                result = function(*[kwargs[name] for name in names])
                if result is not None:
                    return result
            return None
        return first

    def every(**kwargs):
        results = []
        for function, names in plan:
            result = function(*[kwargs[name] for name in names])
            if result is not None:
                results.append(result)
        return results
    return every


def only_builtin(caller: pluggy.HookCaller) -> bool:
    """Whether only the core's own plugins (:data:`DEFAULT_PLUGINS`) implement the hook:
    no installed plugin changes what it does."""
    return all(impl.plugin_name in DEFAULT_PLUGINS for impl in caller.get_hookimpls())


def only_default(caller: pluggy.HookCaller) -> bool:
    """Whether the built-in ``trylast`` default is the hook's only implementation, so
    the engine may call the provider method it delegates to without a hook dispatch
    (microseconds each, several per migration)."""
    impls = caller.get_hookimpls()
    return len(impls) == 1 and impls[0].plugin_name == DEFAULT_PLUGINS[0]
