"""Reading migrations from a source: Python migration modules and ``.sql`` files, from
directories or dotted packages (what the built-in discovery hook,
:mod:`npa_migrations.builtin.discovery`, does)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Callable

from ..errors import MigrationSourceError
from ..migration import REPEATABLE_PREFIX, Migration, MigrationScript, id_problem
from .bytecode import BytesLoader
from .sqlfile import FILE_NAME, file_changed, load_sql_migration, read_bytes


def discover(source: str, register: Callable[[MigrationScript], None]) -> None:
    """Register every migration of ``source`` (a folder or a dotted package), in file
    name order."""
    directory, package = source_directory(source)
    from . import cache as checksum_cache
    from .sqlcache import load_sql_cached

    cache = checksum_cache.ChecksumCache(directory) if checksum_cache.enabled() else None
    files: set[str] = set()
    for path in _entries(directory, source):
        if path.name.startswith((".", "__")):
            continue
        if path.suffix == ".sql":
            files.add(path.name)
            if cache is None:
                register(load_sql_migration(path))
            else:
                load_sql_cached(path, cache, register)
        elif path.suffix == ".py":
            files.add(path.name)
            for script in load_python_cached(path, package, cache):
                register(script)
    if cache is not None:
        cache.prune(files)
        cache.save()


def source_directory(source: str) -> tuple[Path, str | None]:
    """The folder a source names, and its package name when it is a dotted package."""
    directory = Path(source)
    if directory.is_dir():
        return directory, None
    if os.path.islink(source):
        what = ("is not a folder" if directory.exists()
                else "does not exist or loops back on itself")
        raise MigrationSourceError(
            f"Migrations source '{source}' is a symbolic link to '{os.readlink(source)}', "
            f"which {what}. Point the link at the migrations folder, or pass the folder "
            "itself with -m.")
    if directory.exists():
        raise MigrationSourceError(
            f"Migrations source '{source}' is a file, not a folder. Pass the folder that "
            "holds the migration files with -m (or NPA_MIGRATIONS).")
    if re.fullmatch(r"[A-Za-z_][\w.]*", source) and not source.endswith((".py", ".sql")):
        try:
            module = importlib.import_module(source)
        except Exception as exc:  # the package's own code may raise anything
            raise MigrationSourceError(
                f"Migrations source '{source}' is neither a directory nor an importable "
                f"package ({type(exc).__name__}: {exc}). Pass a folder path or a dotted "
                "package name with -m.") from exc
        paths = list(getattr(module, "__path__", []))
        if not paths:
            raise MigrationSourceError(
                f"Migrations source '{source}' is a module, not a package; "
                "pass the package that holds the migration modules.")
        return Path(paths[0]), source
    raise MigrationSourceError(
        f"Migrations directory '{source}' does not exist. Create it "
        "(npa migrate new NAME does) or point -m / NPA_MIGRATIONS at the right folder.")


def _entries(directory: Path, source: str) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except OSError as exc:
        raise MigrationSourceError(
            f"Migrations folder '{source}' cannot be read ({exc.strerror or exc}). Check its "
            "permissions.") from exc


def load_python_migrations(path: Path, package: str | None,
                           source: bytes | None = None) -> list[MigrationScript]:
    """Import one Python migration module and return its :class:`Migration` subclasses.
    ``source``: the file's bytes when the caller read them already (the module is what
    they say, see :class:`~npa_migrations.builtin.bytecode.BytesLoader`)."""
    name = module_name(path, package)
    if source is None:
        source = read_bytes(path)
    try:  # by path, also in a package: "." in a file name is no package separator
        # (20220101000000_v5.35.py), and the module run is the one of these bytes
        loader = BytesLoader(name, str(path), source)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        if spec is None:  # not with a loader given; the signature says it may be
            raise ImportError(f"not a Python module: {path.name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
        if package and "." not in path.stem:  # its package's attribute, as an import sets
            setattr(sys.modules[package], path.stem, module)
    except (Exception, SystemExit) as exc:  # the user's code: any error is a source error
        sys.modules.pop(name, None)
        raise MigrationSourceError(
            f"{path}: cannot import migration module: it {_what_happened(exc)}. "
            "Fix the file (run it with python to see the full traceback).") from exc
    classes = [obj for obj in vars(module).values()
               if isinstance(obj, type) and issubclass(obj, Migration) and obj is not Migration
               and obj.__module__ == module.__name__]
    if not classes:
        return []
    match = FILE_NAME.match(path.stem)
    scripts = []
    for cls in classes:
        repeatable = bool(cls.repeatable)
        migration_id = cls.id
        if migration_id is None and repeatable:
            migration_id = f"{REPEATABLE_PREFIX}{cls.__name__}"
        if migration_id is None:
            if not match:
                raise MigrationSourceError(
                    f"{path}: class {cls.__name__} has no 'id' and the file name does not start "
                    "with a 14-digit timestamp. Add id = '<timestamp>_<Name>' or rename the file.")
            if len(classes) > 1:
                raise MigrationSourceError(
                    f"{path}: {len(classes)} migration classes without 'id' in one file. "
                    "Give each an explicit id, or use one file per migration.")
            migration_id = f"{match['ts']}_{cls.__name__}"
        problem = id_problem(str(migration_id), repeatable)
        if problem:
            raise MigrationSourceError(f"{path}: class {cls.__name__}: {problem}")
        scripts.append(_python_script(cls, migration_id, path))
    return scripts


def module_name(path: Path, package: str | None) -> str:
    """The module name a migration file is imported as: ``<package>.<stem>``, or
    ``npa_migrations_user.<stem>`` for a folder; a ``.`` in the stem becomes ``_``, with
    a digest of the stem so that two such files never share a name."""
    stem = path.stem
    if "." in stem:
        digest = hashlib.sha1(stem.encode("utf-8")).hexdigest()[:8]
        stem = stem.replace(".", "_") + "_" + digest
    return f"{package or 'npa_migrations_user'}.{stem}"


def _what_happened(exc: BaseException) -> str:
    """``raised ValueError: ...``, or ``called sys.exit(0)``: a migration must not end the
    process, and a ``SystemExit`` escaping would end the run as if it had succeeded."""
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r}), which a migration must not do"
    return f"raised {type(exc).__name__}: {exc}"


def _python_script(cls: type[Migration], migration_id: str, path: Path) -> MigrationScript:
    from ..builder import MigrationBuilder

    def build(method: str) -> Callable[[], list]:
        def run():
            builder = MigrationBuilder()
            try:
                getattr(cls(), method)(builder)
            except (Exception, SystemExit) as exc:
                raise MigrationSourceError(
                    f"{path}: {cls.__name__}.{method}() {_what_happened(exc)}. "
                    "Fix the migration; up/down must only call the builder.") from exc
            return builder.operations
        return run

    has_down = cls.down is not Migration.down
    return MigrationScript(
        id=migration_id, source=str(path), build_up=build("up"),
        build_down=build("down") if has_down else None, depends_on=_ids(cls.depends_on),
        transactional=bool(cls.transactional), lock_timeout_seconds=cls.lock_timeout_seconds,
        migration_class=cls, repeatable=bool(cls.repeatable), replaces=_ids(cls.replaces),
        empty_down=bool(getattr(cls, "empty_down", False)))


def _ids(value: "str | tuple | list") -> tuple[str, ...]:
    """``depends_on`` / ``replaces`` as a tuple of ids (one id may be given alone)."""
    return (value,) if isinstance(value, str) else tuple(value)


# checksum cache (see :mod:`npa_migrations.builtin.cache`) ---------------------------------
def load_python_cached(path: Path, package: str | None, cache) -> list[MigrationScript]:
    """:func:`load_python_migrations`, or -- when the file's content hash is in the
    checksum cache -- scripts that import the module only when their operations or class
    are needed."""
    if cache is None:
        return load_python_migrations(path, package)
    from .cache import file_digest

    source = read_bytes(path)
    digest = file_digest(source)
    entries = cache.lookup(path.name, digest)
    if entries is not None:
        loader = _ModuleLoader(path, package, digest)
        return [CachedPythonScript.from_cache(entry, path, loader) for entry in entries]
    scripts = load_python_migrations(path, package, source)  # the bytes hashed: the entry
    try:  # is of what ran
        migrations = [{
            "id": s.id, "class": s.migration_class.__name__ if s.migration_class else "",
            "checksum": s.checksum, "depends_on": list(s.depends_on),
            "transactional": s.transactional, "has_down": s.build_down is not None,
            "lock_timeout_seconds": s.lock_timeout_seconds, "repeatable": s.repeatable,
            "replaces": list(s.replaces), "empty_down": s.empty_down} for s in scripts]
    except Exception:  # up()/down() raise: reported when they are needed, never cached
        return scripts
    cache.store(path.name, digest, migrations)
    return scripts


class _ModuleLoader:
    """Imports one migration file once, on first need: the text whose hash, ``digest``,
    found its entry in the checksum cache (the checksum recorded is the one of the
    code that runs)."""

    def __init__(self, path: Path, package: str | None, digest: str):
        self.path = path
        self.package = package
        self.digest = digest
        self._scripts: dict[str, MigrationScript] | None = None

    def script(self, migration_id: str) -> MigrationScript:
        if self._scripts is None:
            from .cache import file_digest

            source = read_bytes(self.path)
            if file_digest(source) != self.digest:
                raise file_changed(self.path)
            self._scripts = {s.id: s for s in load_python_migrations(self.path, self.package,
                                                                     source)}
        script = self._scripts.get(migration_id)
        if script is None:
            raise MigrationSourceError(
                f"{self.path}: migration {migration_id} is no longer defined by this file "
                "(a module it imports changed?). Run again with NPA_CHECKSUM_CACHE=0.")
        return script


class CachedPythonScript(MigrationScript):
    """A Python migration known from the checksum cache: id, dependencies, flags and
    checksum come from the cache; the module is imported when :attr:`migration_class`
    or the operations are first needed."""

    @classmethod
    def from_cache(cls, entry: dict, path: Path, loader: _ModuleLoader) -> "CachedPythonScript":
        migration_id = entry["id"]

        def build(direction: str):
            def run():
                real = loader.script(migration_id)
                return (real.up_operations() if direction == "up"
                        else real.down_operations() or [])
            return run

        script = cls(id=migration_id, source=str(path), build_up=build("up"),
                     build_down=build("down") if entry["has_down"] else None,
                     depends_on=tuple(entry["depends_on"]),
                     transactional=entry["transactional"],
                     lock_timeout_seconds=entry.get("lock_timeout_seconds"),
                     repeatable=bool(entry.get("repeatable", False)),
                     replaces=tuple(entry.get("replaces", ())),
                     empty_down=bool(entry.get("empty_down", False)),
                     known_checksum=entry["checksum"])
        script.loader = loader
        return script

    #: imports the module on first need
    loader: "_ModuleLoader | None" = None
    #: the imported class, once asked for
    imported_class: type | None = None

    @property
    def migration_class(self) -> type | None:
        if self.imported_class is None and self.loader is not None:
            self.imported_class = self.loader.script(self.id).migration_class
        return self.imported_class

    @migration_class.setter
    def migration_class(self, value: type | None) -> None:
        if value is not None:
            self.imported_class = value
