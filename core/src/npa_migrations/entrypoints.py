"""The ``npa`` entry points of the installed distributions, remembered per installation.

Every CLI command builds the plugin manager, and reading entry points through
:mod:`importlib.metadata` costs about 30 ms on each start (importing it pulls in ``email``,
``zipfile``, ``csv`` and ``pathlib``, then it reads every distribution's metadata) -- most
of what ``npa migrate --help`` added to a bare interpreter (issue 16: +70 ms at most).
The answer changes only when a distribution is installed, upgraded or removed, so it is
remembered (:mod:`npa_migrations.remembered`: keyed by the interpreter, npa's version and
the state of every folder on ``sys.path``) and reused while that key is unchanged.

Any doubt (no file, another key, a file that cannot be read or written) reads the entry
points through :mod:`importlib.metadata` again; ``NPA_ENTRY_POINTS_CACHE=0`` always does.
"""

from __future__ import annotations

from . import remembered


def cache_path() -> str:
    """The file remembering this interpreter's entry points."""
    return remembered.path_for("entry-points")


def read(group: str) -> list[dict]:
    """The entry points of ``group``: one dict per entry point with its ``name``,
    ``value``, ``distribution`` and ``version``, in the order
    :func:`importlib.metadata.distributions` lists them."""
    if not remembered.enabled():
        return scan(group)
    key = remembered.installation_key()
    path = cache_path()
    answer = remembered.load(path)
    try:
        if answer is not None and answer["key"] == key and group in answer["groups"]:
            return answer["groups"][group]
    except (KeyError, TypeError):
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
    """Write the answer for ``key`` (quietly not at all when the folder is not
    writable)."""
    remembered.write(path, {"key": key, "groups": {group: found}})


def load(value: str) -> object:
    """The object an entry point's ``module:attribute`` value names (as
    :meth:`importlib.metadata.EntryPoint.load`)."""
    import importlib

    module_name, _, attributes = value.split("[")[0].partition(":")
    target: object = importlib.import_module(module_name.strip())
    for attribute in filter(None, attributes.strip().split(".")):
        target = getattr(target, attribute)
    return target
