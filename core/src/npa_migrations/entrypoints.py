"""The ``npa`` entry points of the installed distributions, remembered per installation.

Every CLI command builds the plugin manager, and reading entry points through
:mod:`importlib.metadata` costs about 30 ms on each start (importing it pulls in ``email``,
``zipfile``, ``csv`` and ``pathlib``, then it reads every distribution's metadata) -- most
of what ``npa migrate --help`` adds to a bare interpreter (issue 16: +70 ms at most).
The answer changes only when a distribution is installed, upgraded or removed, so it is
remembered in a small JSON file next to this module's bytecode, as Python remembers
compiled modules, and reused while nothing it depends on changed:

- the interpreter (``sys.executable``, ``sys.version``) and npa's version;
- every folder on ``sys.path``: its size and modification time, which installing or
  removing a distribution changes (its ``.dist-info`` folder is created or deleted there;
  installers replace the folder on upgrades and reinstalls).

Any doubt (no file, another key, a file that cannot be read or written) reads the entry
points through :mod:`importlib.metadata` again; ``NPA_ENTRY_POINTS_CACHE=0`` always does.
The file holds one answer per interpreter, overwritten when the key changes.
"""

from __future__ import annotations

import json
import os
import sys

FORMAT = 1


def enabled() -> bool:
    """Whether answers may be remembered (``NPA_ENTRY_POINTS_CACHE=0`` turns it off)."""
    return os.environ.get("NPA_ENTRY_POINTS_CACHE", "1") != "0"


def installation_key() -> list:
    """What the entry points depend on: interpreter, npa's version, and the state of
    every folder on ``sys.path``."""
    from . import __version__

    folders = []
    for entry in sys.path:
        path = os.path.abspath(entry or os.curdir)
        try:
            stat = os.stat(path)
            folders.append([path, stat.st_size, stat.st_mtime_ns])
        except OSError:
            folders.append([path, None, None])
    return [FORMAT, __version__, sys.executable, sys.version, folders]


def cache_path() -> str:
    """The file remembering this interpreter's answer."""
    import zlib

    tag = zlib.crc32(sys.executable.encode("utf-8", "surrogateescape"))
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__",
                        f"npa-entry-points-{tag:08x}.json")


def read(group: str) -> list[dict]:
    """The entry points of ``group``: one dict per entry point with its ``name``,
    ``value``, ``distribution`` and ``version``, in the order
    :func:`importlib.metadata.distributions` lists them."""
    if not enabled():
        return scan(group)
    key = installation_key()
    path = cache_path()
    try:
        with open(path, encoding="utf-8") as handle:
            remembered = json.load(handle)
        if remembered["key"] == key and group in remembered["groups"]:
            return remembered["groups"][group]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = scan(group)
    remember(path, key, group, found)
    return found


def scan(group: str) -> list[dict]:
    """Read ``group``'s entry points from every installed distribution."""
    import importlib.metadata

    found = []
    for dist in importlib.metadata.distributions():
        for entry in dist.entry_points:
            if entry.group == group:
                found.append({"name": entry.name, "value": entry.value,
                              "distribution": dist.metadata["name"],
                              "version": dist.version})
    return found


def remember(path: str, key: list, group: str, found: list[dict]) -> None:
    """Write the answer for ``key`` (atomically; quietly not at all when the folder is
    not writable, e.g. a system-wide installation)."""
    payload = {"key": key, "groups": {group: found}}
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def load(value: str) -> object:
    """The object an entry point's ``module:attribute`` value names (as
    :meth:`importlib.metadata.EntryPoint.load`)."""
    import importlib

    module_name, _, attributes = value.split("[")[0].partition(":")
    target: object = importlib.import_module(module_name.strip())
    for attribute in filter(None, attributes.strip().split(".")):
        target = getattr(target, attribute)
    return target
