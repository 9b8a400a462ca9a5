"""Recorded up-to-date answers: ``npa migrate up`` and ``npa migrate status`` on a
database with nothing to do, answered without loading the engine.

Most runs of ``up`` in a deploy and most ``status`` checks find nothing to do, and the
full answer costs far more than the question: importing click, SQLAlchemy, pluggy and a
provider (≈ 0.3 s) and reading every migration file, where a bare driver reads the
history table in ≈ 20 ms. So when the full command finds the database up to date -- no
migration pending, failed, interrupted, missing or changed, no validation problem -- it
records that answer (:func:`record`), and the next identical invocation gives it again
(:func:`answer`) after checking, cheaply, that nothing it depends on changed:

- the invocation: the arguments, the current folder, the whole environment, the Python
  interpreter and npa's version, and whether stdout is a terminal (colours);
- the files: the config files the CLI reads (``npa.toml``, ``pyproject.toml``, a
  ``--config`` file), every migrations folder's entries (name, size, modification time
  in nanoseconds) and every folder on ``sys.path`` (installing, upgrading or removing a
  package -- npa, a provider, a plugin, SQLAlchemy -- changes its folder);
- the history table, read through the bare driver with the query the provider compiled
  (``SELECT`` of every column, in applied order): every row and every column must be
  what it was.

Anything else -- no record, a difference, a database the quick reader cannot open, any
error at all -- runs the full command, which is always right; this module never
reports an error of its own. A record is written only when the quick read and the
engine's read of the history agree, and not while a watched file is younger than
:data:`SETTLE_SECONDS` (a file written in the same clock tick as the record could change
without changing its time). Records live next to the checksum cache, in
``<first migrations folder>/__pycache__/npa-uptodate-<key>.json``;
``NPA_UPTODATE_RECORDS=0`` turns them off, ``NPA_CHECKSUM_CACHE=0`` turns them and the
checksum cache off (see docs/performance.md).

Which driver opens the database is the provider's to say: its
:class:`~npa_migrations.provider.driver.Driver` names a quick connect function
(:attr:`~npa_migrations.provider.driver.Driver.quick_connect`) in a module that imports
only the driver, and gives the connect arguments without the password
(:meth:`~npa_migrations.provider.driver.Driver.quick_connect_arguments`); the password
is taken again from the URL of the invocation, never written down.

This module imports only ``os``, ``sys`` and ``time`` at the top, as it runs before every
command of the CLI; the rest waits until a command line is one it answers.
"""

from __future__ import annotations

import os
import sys
import time

#: a record's layout; records of another format are ignored
FORMAT = 1
#: a record is not written while a watched file is younger than this (seconds)
SETTLE_SECONDS = 2.0
#: environment variables a shell sets on its own (the last command, the folders, the
#: nesting level), which npa does not read: not part of an invocation's key
SHELL_VARIABLES = {"_", "OLDPWD", "PWD", "SHLVL"}
#: the commands answered, and what follows ``migrate`` for them
COMMANDS = ("up", "status")
#: global options of ``npa`` that take a value
_VALUE_OPTIONS = {"-d": "database_url", "--database-url": "database_url",
                  "-m": "migrations", "--migrations": "migrations",
                  "--config": "config_file"}


#: the command line of this process when the ``npa`` launcher started it
_launched: list[list[str]] = []


def enabled() -> bool:
    """Whether records are read and written: ``NPA_UPTODATE_RECORDS=0`` turns them off,
    and so does ``NPA_CHECKSUM_CACHE=0`` (which turns the checksum cache off too)."""
    return all(os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")
               for name in ("NPA_UPTODATE_RECORDS", "NPA_CHECKSUM_CACHE"))


class Invocation:
    """One ``npa [global options] migrate up|status [options]`` command line: what the
    record of its answer is keyed by."""

    def __init__(self, argv: list[str], database_url: str | None, migrations: list[str],
                 config_file: str | None, command: str, as_json: bool):
        self.argv = argv
        self.database_url = database_url
        self.migrations = migrations
        self.config_file = config_file
        self.command = command
        self.as_json = as_json

    @classmethod
    def parse(cls, argv: list[str]) -> "Invocation | None":
        """The invocation ``argv`` (without the program name) names, or ``None`` when it
        is not a plain ``migrate up`` / ``migrate status``."""
        values: dict[str, list[str]] = {"database_url": [], "migrations": [],
                                        "config_file": []}
        i = 0
        while i < len(argv) and argv[i].startswith("-"):
            name, has_value, value = argv[i].partition("=")
            if name in _VALUE_OPTIONS:
                if not has_value:
                    i += 1
                    if i >= len(argv):
                        return None
                    value = argv[i]
                values[_VALUE_OPTIONS[name]].append(value)
            elif argv[i] not in ("-v", "--verbose"):
                return None  # --help, --version, an unknown option: the CLI's to answer
            i += 1
        if argv[i:i + 1] != ["migrate"] or len(argv) < i + 2 or argv[i + 1] not in COMMANDS:
            return None
        options = argv[i + 2:]
        if any(o in ("-h", "--help") for o in options):
            return None
        last = {name: found[-1] if found else None for name, found in values.items()}
        return cls(list(argv), last["database_url"], values["migrations"],
                   last["config_file"], argv[i + 1], "--json" in options)

    def key(self) -> str:
        """The digest of everything about the invocation an answer depends on."""
        import hashlib
        import json

        from . import __version__

        stdout = sys.stdout
        facts = [FORMAT, __version__, sys.executable, sys.version, self.argv, os.getcwd(),
                 sorted(kv for kv in os.environ.items() if kv[0] not in SHELL_VARIABLES),
                 bool(getattr(stdout, "isatty", lambda: False)()),
                 getattr(stdout, "encoding", None)]
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:24]


def folder_entries(folder: str) -> list[list]:
    """Name, size and modification time (ns) of every entry of ``folder``, sorted."""
    entries = []
    with os.scandir(folder) as found:
        for entry in found:
            if entry.name == "__pycache__":
                continue
            stat = entry.stat()
            entries.append([entry.name, stat.st_size, stat.st_mtime_ns])
    entries.sort()
    return entries


def watched_files(config_file: str | None) -> list[str]:
    """The files and folders whose change invalidates a record, besides the migrations
    folders: the config files the CLI may read and the folders on ``sys.path``."""
    paths = ["npa.toml", "pyproject.toml"] + ([config_file] if config_file else [])
    return [os.path.abspath(p) for p in paths] + [p for p in sys.path if p]


def stat_of(path: str) -> list:
    """``[size, mtime_ns]`` of ``path``, or ``None`` when it does not exist."""
    try:
        stat = os.stat(path)
    except OSError:
        return [None, None]
    return [stat.st_size, stat.st_mtime_ns]


def files_digest(folders: list[str], watched: list[str]) -> tuple[str, int]:
    """The digest of the migrations folders' entries and of the watched paths, and the
    newest modification time among them (ns)."""
    import hashlib
    import json

    listing = [[folder, folder_entries(folder)] for folder in folders]
    stats = [[path, stat_of(path)] for path in watched]
    newest = max([e[2] for _, entries in listing for e in entries]
                 + [s[1] for _, s in stats if s[1] is not None] + [0])
    return hashlib.sha256(json.dumps([listing, stats]).encode()).hexdigest(), newest


def rows_digest(rows: list) -> str:
    """The digest of history rows as the quick reader returns them."""
    import hashlib

    return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()


def password_of(url: str) -> str | None:
    """The password in ``url`` (percent-decoded), or ``None``."""
    from urllib.parse import unquote, urlsplit

    password = urlsplit(url).password
    return unquote(password) if password is not None else None


def read_rows(reader: dict, url: str) -> list:
    """The history rows through the provider's quick connect function."""
    from importlib import import_module

    module, _, function = reader["connect"].partition(":")
    kwargs = dict(reader["kwargs"])
    if reader["password"]:
        kwargs["password"] = password_of(url)
    connection = getattr(import_module(module), function)(list(reader["args"]), kwargs)
    try:
        cursor = connection.cursor()
        cursor.execute(reader["sql"])
        return cursor.fetchall()
    finally:
        connection.close()


def record_path(folder: str, key: str) -> str:
    return os.path.join(folder, "__pycache__", f"npa-uptodate-{key}.json")


# answering ---------------------------------------------------------------------------------
def answer(argv: list[str]) -> int | None:
    """Give the recorded answer of ``argv`` and return the exit status, or ``None`` when
    the full command must run (nothing is printed then)."""
    started = time.perf_counter()
    try:
        _launched[:] = [list(argv)]
        if not enabled():
            return None
        invocation = Invocation.parse(argv)
        if invocation is None:
            return None
        return _answer(invocation, started)
    except Exception:  # never an error of its own: the full command answers
        return None


def _answer(invocation: Invocation, started: float) -> int | None:
    import json

    from .config import resolve

    config = resolve(invocation.database_url, invocation.migrations, invocation.config_file)
    folders = [str(m) for m in config.migrations]
    if not os.path.isdir(folders[0]):
        return None
    key = invocation.key()
    with open(record_path(folders[0], key), encoding="utf-8") as file:
        saved = json.load(file)
    if saved.get("format") != FORMAT or saved.get("key") != key \
            or saved.get("folders") != [os.path.abspath(f) for f in folders]:
        return None
    digest, _ = files_digest(saved["folders"], saved["watched"])
    if digest != saved["files"]:
        return None
    if rows_digest(read_rows(saved["reader"], config.database_url)) != saved["history"]:
        return None
    output = saved["output"]
    if saved["timing"]:
        output += timing_line(saved["timing"], time.perf_counter() - started)
    sys.stdout.write(output)
    sys.stdout.flush()
    return 0


def timing_line(timing: dict, seconds: float) -> str:
    """The last line of ``up``'s answer, which says how long it took: ``timing`` is
    ``{"human": "Time: {seconds:.3f}s"}`` (a format) or ``{"json": {...}}`` (the result
    object, whose ``duration_ms`` is filled in)."""
    import json

    if "json" in timing:
        payload = dict(timing["json"], duration_ms=round(seconds * 1000, 3))
        return json.dumps(payload, default=str) + "\n"
    return timing["human"].format(seconds=seconds) + "\n"


# recording ---------------------------------------------------------------------------------
def launched() -> Invocation | None:
    """The invocation of this process, when the ``npa`` launcher started it (the CLI run
    in-process, by a test runner, records nothing)."""
    return Invocation.parse(_launched[0]) if _launched and enabled() else None


def record(invocation: Invocation, *, folders: list[str], reader: dict, database_url: str,
           engine_rows: list[tuple[str, str]], output: str, timing: dict | None) -> bool:
    """Record the answer ``output`` (plus a time line shaped by ``timing``) of
    ``invocation`` on a database found up to date, whose history the engine read as
    ``engine_rows`` (``(migration id, checksum)`` in applied order). ``reader`` is the
    quick reader: ``connect`` (``module:function``), ``args``, ``kwargs`` (no password),
    ``password`` (whether the URL's goes in) and ``sql``. Returns whether it was
    written: not when the quick read disagrees with the engine's, the history changed
    meanwhile, a watched file is too young, or the folder cannot be written."""
    try:
        absolute = [os.path.abspath(f) for f in folders]
        if not absolute or not os.path.isdir(absolute[0]):
            return False
        watched = watched_files(invocation.config_file)
        digest, newest = files_digest(absolute, watched)
        if time.time_ns() - newest < SETTLE_SECONDS * 1e9:
            return False
        rows = read_rows(reader, database_url)
        if [(r[0], r[1]) for r in rows] != engine_rows \
                or read_rows(reader, database_url) != rows:
            return False
        key = invocation.key()
        payload = {"format": FORMAT, "key": key, "folders": absolute, "watched": watched,
                   "files": digest, "reader": reader, "history": rows_digest(rows),
                   "output": output, "timing": timing}
        _write(record_path(absolute[0], key), payload)
        return True
    except Exception:  # a record is never required
        return False


def _write(path: str, payload: dict) -> None:
    """Write ``payload`` atomically (a temporary file renamed over the old record)."""
    import json
    import tempfile

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".npa-uptodate-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(payload, file)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
