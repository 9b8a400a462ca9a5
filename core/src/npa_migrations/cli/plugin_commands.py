"""The commands plugins add to ``npa`` and ``npa migrate``, remembered per installation,
so that ``npa migrate --help`` lists them without loading the plugins.

Plugins add commands through the hook
:func:`~npa_migrations.hookspecs.npa_register_commands`, and asking them means building
the plugin manager: importing pluggy, every plugin module of the ``npa`` entry points
(providers included), the core's built-in plugins and the modules of the commands --
≈ 15 ms of the +70 ms over a bare interpreter issue 16 allows ``npa migrate --help``. A
listing needs little of each command: its name, ``help``, ``short_help``, ``hidden`` and
``deprecated``. So after the plugins registered their commands (:func:`remember`), those
are kept in a JSON file (:mod:`npa_migrations.remembered`) with what they depend on:

- the installation (:func:`npa_migrations.remembered.installation_key`: interpreter, npa's
  version, the size and modification time of every folder on ``sys.path``);
- the variables that choose plugins (:data:`ENVIRONMENT`);
- the size and modification time of the file of every registered plugin and of the
  modules defining each command's callback and class, where a command's help is written
  (an editable installation changes them in place, not the folders on ``sys.path``).

The help then lists stand-ins (:class:`RememberedCommand`, from :func:`stand_ins`) that
carry only those attributes; the group resolves a stand-in to the real command, loading
the plugins, before it parses or runs anything. Nothing is remembered -- and the plugins
are loaded as before -- when there is any doubt: plugins registered or removed in this
process (tests), a plugin or callback without a source file, a command class with its own
short help, attributes that are not plain text, or ``NPA_ENTRY_POINTS_CACHE=0``. Nor is
anything read once this process imported :mod:`npa_migrations.plugins`: its manager may
hold plugins no file knows of, and asking it costs little then.
"""

from __future__ import annotations

import os
import sys
import types

import click

from .. import remembered

#: the command attributes a listing of commands reads (click's ``format_commands``)
ATTRIBUTES = ("help", "short_help", "hidden", "deprecated")
#: the variables that choose which plugins load (:mod:`npa_migrations.plugins`)
ENVIRONMENT = ("NPA_DISABLE_PLUGIN_AUTOLOAD", "NPA_DISABLE_PLUGINS", "NPA_PLUGINS")
#: the file's name (:func:`npa_migrations.remembered.path_for`)
KIND = "plugin-commands"


class RememberedCommand(click.Command):
    """A plugin's command as remembered for help listings: its name and the attributes
    of :data:`ATTRIBUTES`, nothing to run. ``npa``'s groups resolve it to the real
    command (loading the plugins) before parsing its arguments."""

    def __init__(self, name: str, attributes: dict):
        super().__init__(name)
        for attribute in ATTRIBUTES:
            setattr(self, attribute, attributes[attribute])

    def invoke(self, ctx: click.Context):
        raise RuntimeError(f"the remembered stand-in of the plugin command {self.name!r} "
                           "was run instead of the command: resolve it through its group")


#: ``(environment, groups)`` read by :func:`stand_ins` in this process
_read: list[tuple[tuple, dict | None]] = []


def key() -> list:
    """What the remembered commands depend on, besides the files they list."""
    return [remembered.installation_key(), {name: os.environ.get(name) for name in ENVIRONMENT}]


def stand_ins(group: str) -> dict[str, RememberedCommand] | None:
    """Stand-ins of the commands plugins add to ``group`` (``"npa"`` or ``"migrate"``)
    by name, when they are remembered and nothing they depend on changed; ``None`` when
    the plugins must be asked. Read once per process (and environment)."""
    if "npa_migrations.plugins" in sys.modules or not remembered.enabled():
        return None
    environment = tuple(os.environ.get(name) for name in ENVIRONMENT)
    if not _read or _read[0][0] != environment:
        _read[:] = [(environment, _groups())]
    groups = _read[0][1]
    if groups is None:
        return None
    return {name: RememberedCommand(name, attributes)
            for name, attributes in groups.get(group, {}).items()}


def _groups() -> dict | None:
    payload = remembered.load(remembered.path_for(KIND))
    try:
        if payload is None or payload["key"] != key():
            return None
        if any(remembered.file_state(state[0]) != state for state in payload["files"]):
            return None
        groups = payload["groups"]
        for commands in groups.values():
            for attributes in commands.values():
                if set(attributes) != set(ATTRIBUTES):
                    return None
        return groups
    except (KeyError, TypeError, AttributeError, IndexError):
        return None


def remember(manager, added: dict[str, dict[str, click.Command]]) -> None:
    """Remember the commands the plugins of ``manager`` just added (``added``: by group,
    ``"npa"`` and ``"migrate"``, then by name), unless there is a doubt (see the module's
    docstring)."""
    if not remembered.enabled() or not manager.holds_only_configured_plugins():
        return
    files: set[str | None] = set()
    for plugin in manager.get_plugins():
        files.add(source_file(plugin))
    groups: dict[str, dict[str, dict]] = {}
    for group, commands in added.items():
        groups[group] = {}
        for name, command in commands.items():
            if type(command).get_short_help_str is not click.Command.get_short_help_str:
                return
            attributes = {attribute: getattr(command, attribute) for attribute in ATTRIBUTES}
            if not all(value is None or isinstance(value, (str, bool))
                       for value in attributes.values()):
                return
            files.add(source_file(type(command)))
            if command.callback is not None:
                files.add(source_file(command.callback))
            groups[group][name] = attributes
    if None in files:
        return
    payload = {"key": key(),
               "files": sorted(remembered.file_state(f) for f in files if f is not None),
               "groups": groups}
    path = remembered.path_for(KIND)
    if remembered.load(path) != payload:
        remembered.write(path, payload)


def source_file(thing: object) -> str | None:
    """The source file of a module, or of the module defining a class, function or
    instance; ``None`` when it has none (code typed into ``python -c``)."""
    module: types.ModuleType | None = thing if isinstance(thing, types.ModuleType) else \
        sys.modules.get(getattr(thing, "__module__", None) or type(thing).__module__)
    return getattr(module, "__file__", None)
