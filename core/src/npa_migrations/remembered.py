"""Small answers remembered per installation, in JSON files beside npa's bytecode.

Some answers a command needs at start-up cost far more to find than to keep: the entry
points of group ``npa`` (:mod:`npa_migrations.entrypoints`: importing
:mod:`importlib.metadata` and reading every distribution's metadata) and the commands the
plugins add (:mod:`npa_migrations.cli.plugin_commands`: building the plugin manager, which
imports every plugin). They change only when a distribution is installed, upgraded or
removed, so they are kept in a file, as Python keeps compiled modules, with the state they
were read in (:func:`installation_key`, plus whatever else the answer depends on), and
reused while that state is unchanged:

- the interpreter (``sys.executable``, ``sys.version``) and npa's version;
- every folder on ``sys.path``: its size and modification time, which installing or
  removing a distribution changes (its ``.dist-info`` folder is created or deleted there;
  installers replace the folder on upgrades and reinstalls).

Any doubt -- no file, another key, a file that cannot be read or written -- finds the
answer again; ``NPA_ENTRY_POINTS_CACHE=0`` always does. Each file holds one answer per
interpreter, overwritten when the key changes.
"""

from __future__ import annotations

import json
import os
import sys

FORMAT = 1


def enabled() -> bool:
    """Whether answers may be remembered (``NPA_ENTRY_POINTS_CACHE=0`` turns it off)."""
    return os.environ.get("NPA_ENTRY_POINTS_CACHE", "1") != "0"


def file_state(path: str) -> list:
    """``[path, size, modification time in ns]`` of a file or folder (``None`` for both
    when it is missing): what installing, upgrading or editing it changes."""
    path = os.path.abspath(path)
    try:
        stat = os.stat(path)
    except OSError:
        return [path, None, None]
    return [path, stat.st_size, stat.st_mtime_ns]


def installation_key() -> list:
    """What the installed distributions' answers depend on: interpreter, npa's version,
    and the state of every folder on ``sys.path``."""
    from . import __version__

    folders = [file_state(entry or os.curdir) for entry in sys.path]
    return [FORMAT, __version__, sys.executable, sys.version, folders]


def path_for(kind: str) -> str:
    """The file remembering this interpreter's answer of ``kind`` (e.g. ``entry-points``)."""
    import zlib

    tag = zlib.crc32(sys.executable.encode("utf-8", "surrogateescape"))
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__",
                        f"npa-{kind}-{tag:08x}.json")


def load(path: str) -> dict | None:
    """The JSON object remembered in ``path``; ``None`` when there is none or it cannot
    be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def write(path: str, payload: dict) -> None:
    """Remember ``payload`` in ``path`` (atomically; quietly not at all when the folder
    is not writable, e.g. a system-wide installation)."""
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
