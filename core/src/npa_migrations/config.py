"""Configuration resolution for the CLI: flags > environment > npa.toml /
``[tool.npa]`` in pyproject.toml > defaults (SPEC §7)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///npa.db"
DEFAULT_MIGRATIONS = "migrations"

#: keys accepted in npa.toml / [tool.npa]
KNOWN_KEYS = {
    "database_url", "migrations", "transaction_mode", "lock_timeout", "timeout",
    "history_table", "lock_table", "out_of_order", "validate_checksums", "ensure_created",
    "ddl_lock_timeout", "ddl_lock_retries", "log_table", "verify", "check_drift", "model",
}


@dataclass
class Config:
    """Resolved settings; ``origin`` says where each came from (for error messages)."""

    database_url: str = DEFAULT_DATABASE_URL
    migrations: list[str] = field(default_factory=lambda: [DEFAULT_MIGRATIONS])
    settings: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    file: Path | None = None


def load_file(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """Settings from ``path``, or from ./npa.toml, or from ./pyproject.toml [tool.npa]."""
    import tomllib

    candidates = [path] if path is not None else [Path("npa.toml"), Path("pyproject.toml")]
    for candidate in candidates:
        if candidate is None or not candidate.is_file():
            if path is not None:
                raise ConfigurationError(f"Config file '{path}' does not exist.")
            continue
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
    if migrations:
        config.migrations = list(migrations)
    elif os.environ.get("NPA_MIGRATIONS"):
        config.migrations = [p for p in os.environ["NPA_MIGRATIONS"].split(os.pathsep) if p]
    elif data.get("migrations"):
        value = data["migrations"]
        config.migrations = [value] if isinstance(value, str) else [str(v) for v in value]
        if file is not None:  # relative to the config file's folder
            config.migrations = [m if Path(m).is_absolute() or not (file.parent / m).exists()
                                 else str(file.parent / m) for m in config.migrations]
    return config
