"""Built-in discovery: Python migration modules and ``.sql`` files, from directories or
dotted packages."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Callable

from ..errors import MigrationSourceError
from ..hookspecs import hookimpl
from ..migration import MIGRATION_ID, Migration, MigrationScript
from ..sqltext import normalise, split_statements

FILE_NAME = re.compile(r"^(?P<ts>\d{14})_(?P<rest>[A-Za-z0-9_]+)$")
UP_MARK = re.compile(r"^\s*--\s*npa:up\s*$", re.IGNORECASE | re.MULTILINE)
DOWN_MARK = re.compile(r"^\s*--\s*npa:down\s*$", re.IGNORECASE | re.MULTILINE)
NO_TX_MARK = re.compile(r"^\s*--\s*npa:no-transaction\s*$", re.IGNORECASE)


def camel_case(snake: str) -> str:
    """``add_user_roles`` -> ``AddUserRoles`` (already CamelCase text is kept)."""
    if "_" not in snake and snake[:1].isupper():
        return snake
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


@hookimpl(trylast=True)
def npa_discover_migrations(source: str, register: Callable[[MigrationScript], None]) -> None:
    directory = Path(source)
    package = None
    if not directory.is_dir():
        if re.fullmatch(r"[A-Za-z_][\w.]*", source) and not source.endswith((".py", ".sql")):
            try:
                module = importlib.import_module(source)
            except ImportError as exc:
                raise MigrationSourceError(
                    f"Migrations source '{source}' is neither a directory nor an importable "
                    f"package ({exc}). Pass a folder path or a dotted package name with -m."
                ) from exc
            paths = list(getattr(module, "__path__", []))
            if not paths:
                raise MigrationSourceError(
                    f"Migrations source '{source}' is a module, not a package; "
                    "pass the package that holds the migration modules.")
            directory, package = Path(paths[0]), source
        else:
            raise MigrationSourceError(
                f"Migrations directory '{source}' does not exist. Create it "
                "(npa migrate new NAME does) or point -m / NPA_MIGRATIONS at the right folder.")
    from . import cache as checksum_cache

    cache = checksum_cache.ChecksumCache(directory) if checksum_cache.enabled() else None
    python_files: set[str] = set()
    for path in sorted(directory.iterdir()):
        if path.name.startswith((".", "__")):
            continue
        if path.suffix == ".sql":
            register(load_sql_migration(path))
        elif path.suffix == ".py":
            python_files.add(path.name)
            for script in load_python_cached(path, package, cache):
                register(script)
    if cache is not None:
        cache.prune(python_files)
        cache.save()


def load_sql_migration(path: Path) -> "SqlMigrationScript":
    """Read one ``.sql`` migration with ``-- npa:up`` / ``-- npa:down`` sections."""
    match = FILE_NAME.match(path.stem)
    if not match:
        raise MigrationSourceError(
            f"{path}: SQL migration file names must be '<14-digit UTC timestamp>_<name>.sql', "
            "e.g. 20251119150000_add_user_roles.sql. Rename the file.")
    migration_id = f"{match['ts']}_{camel_case(match['rest'])}"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MigrationSourceError(f"{path}: not valid UTF-8 ({exc}). Save it as UTF-8.") from exc
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    transactional = not NO_TX_MARK.match(first)
    up_match = UP_MARK.search(text)
    down_match = DOWN_MARK.search(text)
    if up_match is None:
        raise MigrationSourceError(
            f"{path}: no '-- npa:up' line. Put '-- npa:up' before the statements that apply "
            "the migration (and '-- npa:down' before those that revert it).")
    if down_match is not None and down_match.start() < up_match.start():
        raise MigrationSourceError(f"{path}: '-- npa:down' must come after '-- npa:up'.")
    up_sql = text[up_match.end():down_match.start() if down_match else len(text)]
    down_sql = text[down_match.end():] if down_match else None
    normalised = normalise(text)
    return SqlMigrationScript.from_sections(
        up_sql, down_sql, id=migration_id, source=str(path), transactional=transactional,
        checksum_payload=lambda: normalised)


class SqlMigrationScript(MigrationScript):
    """A ``.sql`` migration: each section becomes one ``execute()`` per statement (so
    progress, and ``repair --resume``, work per statement), split by the provider the
    migration runs on (:meth:`bind`; the portable splitter until then). The checksum is
    over the normalised file text, so it does not depend on how the text is split."""

    @classmethod
    def from_sections(cls, up_sql: str, down_sql: str | None, **fields) -> "SqlMigrationScript":
        from ..operations import SplitStatement

        def statements(sql: str) -> list[SplitStatement]:
            return [SplitStatement(statement) for statement in script.split(sql)]

        script = cls(build_up=lambda: statements(up_sql), build_down=None, **fields)
        script.split = split_statements
        if down_sql is not None:
            script.build_down = lambda: statements(down_sql)
        return script

    def bind(self, provider) -> None:
        self.split = provider.sql.split_statements
        self._up = self._down = None  # split again, the provider's way


def load_python_migrations(path: Path, package: str | None) -> list[MigrationScript]:
    """Import one Python migration module and return its :class:`Migration` subclasses."""
    module_name = f"{package}.{path.stem}" if package else f"npa_migrations_user.{path.stem}"
    try:
        if package:
            module = importlib.import_module(module_name)
        else:
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any error is a source error
        sys.modules.pop(module_name, None)
        raise MigrationSourceError(
            f"{path}: cannot import migration module: {type(exc).__name__}: {exc}. "
            "Fix the file (run it with python to see the full traceback).") from exc
    classes = [obj for obj in vars(module).values()
               if isinstance(obj, type) and issubclass(obj, Migration) and obj is not Migration
               and obj.__module__ == module.__name__]
    if not classes:
        return []
    match = FILE_NAME.match(path.stem)
    scripts = []
    for cls in classes:
        migration_id = cls.id
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
        if not MIGRATION_ID.match(migration_id):
            raise MigrationSourceError(
                f"{path}: migration id '{migration_id}' of class {cls.__name__} is not "
                "'<14-digit UTC timestamp>_<Name>' (letters, digits, underscores).")
        scripts.append(_python_script(cls, migration_id, path))
    return scripts


def _python_script(cls: type[Migration], migration_id: str, path: Path) -> MigrationScript:
    from ..builder import MigrationBuilder

    def build(method: str) -> Callable[[], list]:
        def run():
            builder = MigrationBuilder()
            try:
                getattr(cls(), method)(builder)
            except Exception as exc:
                raise MigrationSourceError(
                    f"{path}: {cls.__name__}.{method}() raised {type(exc).__name__}: {exc}. "
                    "Fix the migration; up/down must only call the builder.") from exc
            return builder.operations
        return run

    has_down = cls.down is not Migration.down
    depends = cls.depends_on
    if isinstance(depends, str):
        depends = (depends,)
    return MigrationScript(
        id=migration_id, source=str(path), build_up=build("up"),
        build_down=build("down") if has_down else None, depends_on=tuple(depends),
        transactional=bool(cls.transactional), lock_timeout_seconds=cls.lock_timeout_seconds,
        migration_class=cls)


# checksum cache (see :mod:`npa_migrations.builtin.cache`) ---------------------------------
def load_python_cached(path: Path, package: str | None, cache) -> list[MigrationScript]:
    """:func:`load_python_migrations`, or -- when the file's content hash is in the
    checksum cache -- scripts that import the module only when their operations or class
    are needed."""
    if cache is None:
        return load_python_migrations(path, package)
    from .cache import file_digest

    digest = file_digest(path.read_bytes())
    entries = cache.lookup(path.name, digest)
    if entries is not None:
        loader = _ModuleLoader(path, package)
        return [CachedPythonScript.from_cache(entry, path, loader) for entry in entries]
    scripts = load_python_migrations(path, package)
    try:
        migrations = [{
            "id": s.id, "class": s.migration_class.__name__ if s.migration_class else "",
            "checksum": s.checksum, "depends_on": list(s.depends_on),
            "transactional": s.transactional, "has_down": s.build_down is not None,
            "lock_timeout_seconds": s.lock_timeout_seconds} for s in scripts]
    except Exception:  # up()/down() raise: reported when they are needed, never cached
        return scripts
    if file_digest(path.read_bytes()) == digest:  # unchanged while it was imported
        cache.store(path.name, digest, migrations)
    return scripts


class _ModuleLoader:
    """Imports one migration file once, on first need."""

    def __init__(self, path: Path, package: str | None):
        self.path = path
        self.package = package
        self._scripts: dict[str, MigrationScript] | None = None

    def script(self, migration_id: str) -> MigrationScript:
        if self._scripts is None:
            self._scripts = {s.id: s for s in load_python_migrations(self.path, self.package)}
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
                     lock_timeout_seconds=entry.get("lock_timeout_seconds"))
        script._checksum = entry["checksum"]
        script._npa_loader = loader
        return script

    @property
    def migration_class(self):  # type: ignore[override]
        value = self.__dict__.get("_npa_class")
        if value is None and "_npa_loader" in self.__dict__:
            value = self.__dict__["_npa_loader"].script(self.id).migration_class
            self.__dict__["_npa_class"] = value
        return value

    @migration_class.setter
    def migration_class(self, value) -> None:
        if value is not None:
            self.__dict__["_npa_class"] = value
