"""Configuration resolution for the CLI: flags > environment > npa.toml /
``[tool.npa]`` in pyproject.toml > defaults (SPEC §7).

Relative paths follow one rule: a path named in a config file is relative to that file's
folder (the migrations folders, and a SQLite database file in ``database_url``), so a
command run from another folder finds the same files instead of creating an empty
database; a path given with a flag or an environment variable is relative to the current
folder. A dotted package named as a migrations source is imported from the config file's
folder (or the current one), as ``python -m`` would, so no ``PYTHONPATH`` is needed.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from .errors import ConfigurationError

#: ``typing.TYPE_CHECKING`` without importing ``typing`` (the recorded up-to-date answers
#: of :mod:`npa_migrations.uptodate` resolve the configuration before anything else)
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///npa.db"
DEFAULT_MIGRATIONS = "migrations"

#: keys accepted in npa.toml / [tool.npa]
KNOWN_KEYS = {
    "database_url", "migrations", "transaction_mode", "lock_timeout", "timeout",
    "statement_timeout",
    "history_table", "lock_table", "out_of_order", "validate_checksums", "ensure_created",
    "ddl_lock_timeout", "ddl_lock_retries", "log_table", "verify", "check_drift", "model",
    "placeholders", "fleet",
}


#: a dotted Python package name (``myapp.migrations``)
_PACKAGE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


class Config:
    """Resolved settings; ``origin`` says where each came from (for error messages).

    :ivar database_folder: the config file's folder when ``database_url`` came from it:
        a relative database file in the URL is relative to it (:meth:`database`).
    """

    def __init__(self, settings: "dict[str, Any] | None" = None, file: Path | None = None):
        self.database_url: str = DEFAULT_DATABASE_URL
        self.migrations: list[str] = [DEFAULT_MIGRATIONS]
        self.settings: dict[str, Any] = settings or {}
        self.origin: dict[str, str] = {}
        self.file = file
        self.database_folder: Path | None = None

    def database(self) -> Any:
        """The database a command works on: ``database_url``, with a relative database
        file (SQLite) resolved against :attr:`database_folder` when it came from a config
        file. Which URLs name a file is the provider's to say
        (:meth:`~npa_migrations.provider.BaseProvider.database_path`)."""
        if self.database_folder is None:
            return self.database_url
        from .provider.registry import resolve_provider
        from .urls import parse_url

        url = parse_url(self.database_url)
        path = resolve_provider(url).database_path()
        if path is None or path.is_absolute():
            return self.database_url
        return url.set(database=str(self.database_folder / path))


def load_file(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """Settings from ``path``, or from ./npa.toml, or from ./pyproject.toml [tool.npa]."""
    candidates = [path] if path is not None else [Path("npa.toml"), Path("pyproject.toml")]
    for candidate in candidates:
        if candidate is None or not candidate.is_file():
            if path is not None:
                raise ConfigurationError(f"Config file '{path}' does not exist.")
            continue
        import tomllib

        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{candidate}: invalid TOML ({exc}). Fix the file.") from exc
        if candidate.name == "pyproject.toml" and path is None:
            data = data.get("tool", {}).get("npa")
            if data is None:
                continue
        elif "tool" in data and "npa" in data["tool"]:
            data = data["tool"]["npa"]
        unknown = sorted(set(data) - KNOWN_KEYS)
        if unknown:  # a plugin's own section ([lint] of npa-lint) is known to the plugin
            known = KNOWN_KEYS | plugin_sections()
            unknown = [key for key in unknown if key not in known]
        if unknown:
            raise ConfigurationError(
                f"{candidate}: unknown setting(s) {', '.join(unknown)}. Known settings: "
                + ", ".join(sorted(KNOWN_KEYS)) + " (and the sections of installed plugins).")
        return data, candidate
    return {}, None


def plugin_sections() -> set[str]:
    """Configuration sections plugins read (hook ``npa_config_sections``); asked only
    when a file holds a key the core does not know, so plugins load only then."""
    from .plugins import get_plugin_manager

    names: set[str] = set()
    for result in get_plugin_manager().hook.npa_config_sections():
        names.update(result or ())
    return names


def resolve(database_url: str | None, migrations: tuple[str, ...] | list[str] | None,
            config_file: str | None) -> Config:
    """Merge flags, environment, file and defaults."""
    data, file = load_file(Path(config_file) if config_file else None)
    config = Config(settings=dict(data), file=file)
    where = str(file) if file else "config file"
    if database_url:
        config.database_url, config.origin["database_url"] = database_url, "--database-url"
    elif os.environ.get("NPA_DATABASE_URL"):
        config.database_url = os.environ["NPA_DATABASE_URL"]
        config.origin["database_url"] = "NPA_DATABASE_URL"
    elif data.get("database_url"):
        config.database_url, config.origin["database_url"] = str(data["database_url"]), where
        config.database_folder = file.parent if file else Path.cwd()
    if migrations:
        config.migrations = [_source(m, Path.cwd()) for m in migrations]
    elif os.environ.get("NPA_MIGRATIONS"):
        config.migrations = [_source(m, Path.cwd())
                             for m in os.environ["NPA_MIGRATIONS"].split(os.pathsep) if m]
    elif data.get("migrations"):
        value = data["migrations"]
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        folder = file.parent if file else Path.cwd()
        config.migrations = [_source(m, folder, relative=True) for m in values]
    return config


def _source(value: str, folder: Path, relative: bool = False) -> str:
    """A migrations source as discovery gets it. With ``relative`` (named in a config
    file in ``folder``) a relative path is made relative to ``folder``. A dotted package
    name that is no folder there stays a name, importable from ``folder``."""
    path = folder / value
    if Path(value).is_absolute() or path.exists() or not _PACKAGE.fullmatch(value):
        return str(path) if relative else value
    root = str(folder.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    if not relative or "." in value or _importable(value):
        return value
    return str(path)  # a folder to be created (npa migrate new), relative to the file


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package that does not exist
        return False
