"""The targets of a fleet: where they come from and which share of them one machine takes.

A fleet is one migration history run against many databases or schemas ("tenants").
The list comes from a tenants file (one URL per line), from a query on one database that
returns schema names (each schema becomes a target through its provider's
:meth:`~npa_migrations.provider.BaseProvider.tenant_url`), or from the configuration.

``--shard I/N`` keeps the targets whose identity hashes (SHA-256, never Python's
salted ``hash()``) to ``I`` modulo ``N``: every machine of a Kubernetes Indexed Job or a
CI matrix computes the same split with no coordinator, each target lands in exactly one
shard, and adding a target moves no other one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError


@dataclass(frozen=True)
class Tenant:
    """One target of a fleet.

    :ivar name: its identity: shown in output, the ``tenant`` field of JSON events, and
        what ``--shard`` hashes (the URL as written, password hidden, or the schema name).
    :ivar database: what :class:`~npa_migrations.engine.executor.MigrationExecutor`
        connects to (a URL string or SQLAlchemy URL, with its password).
    """

    name: str
    database: Any

    def __str__(self) -> str:
        return self.name


def tenants_from_urls(urls: list[Any]) -> list[Tenant]:
    """Targets from database URLs (the Python API's list); each one's name is the URL
    with its password hidden. A duplicate is a
    :class:`~npa_migrations.errors.ConfigurationError`."""
    from ..urls import display_url, parse_url

    tenants: list[Tenant] = []
    seen: set[str] = set()
    for database in urls:
        name = display_url(parse_url(database))
        if name in seen:
            raise ConfigurationError(f"The fleet lists {name} twice; list each target once.")
        seen.add(name)
        tenants.append(Tenant(name, database))
    return tenants


def read_tenants_file(path: str | Path) -> list[Tenant]:
    """Targets from a tenants file: one database URL per line; blank lines and text after
    ``#`` are ignored. Errors name the file and line."""
    from ..provider.registry import resolve_provider
    from ..urls import display_url, parse_url

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigurationError(f"Cannot read the tenants file {file}: "
                                 f"{exc.strerror or exc}. Check --tenants.") from None
    tenants: list[Tenant] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        entry = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not entry:
            continue
        where = f"{file}, line {number}"
        try:
            url = parse_url(entry)
            provider = resolve_provider(url)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
        name = display_url(url)
        if name in seen:
            raise ConfigurationError(f"{where}: {name} is listed twice (first on line "
                                     f"{seen[name]}). Remove one of the lines.")
        seen[name] = number
        database: Any = entry
        local = provider.database_path()
        if local is not None and not local.is_absolute():
            database = url.set(database=str(file.parent / local))
        tenants.append(Tenant(name, database))
    if not tenants:
        raise ConfigurationError(f"The tenants file {file} lists no database URL. Put one "
                                 "URL per line ('#' starts a comment).")
    return tenants


def schema_tenants(database: Any, query: str) -> list[Tenant]:
    """Targets from ``query`` run on ``database``: each row's first column names a
    schema (a database on MySQL), which the provider turns into a target URL
    (:meth:`~npa_migrations.provider.BaseProvider.tenant_url`)."""
    from .target import DatabaseTarget

    target = DatabaseTarget(database)
    provider = target.provider
    conn = target.connect()
    try:
        try:
            rows = conn.query(query)
        except Exception as exc:
            raise ConfigurationError(
                f"The --tenant-schemas query failed on {provider.display_url()}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}. "
                "It must return one schema name per row.") from None
    finally:
        conn.close()
    tenants: list[Tenant] = []
    seen: set[str] = set()
    for row in rows:
        if not row or row[0] is None or str(row[0]) == "":
            raise ConfigurationError(
                "The --tenant-schemas query returned an empty schema name; make it return "
                "one non-empty name per row.")
        schema = str(row[0])
        if schema in seen:
            continue
        seen.add(schema)
        tenants.append(Tenant(schema, provider.tenant_url(target.url, schema)))
    if not tenants:
        raise ConfigurationError(f"The --tenant-schemas query returned no schema on "
                                 f"{provider.display_url()}: there is nothing to migrate.")
    return tenants


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with ``0 <= I < N``; anything else is a usage error."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise ConfigurationError(f"--shard '{text}': write it as I/N, e.g. 0/4 (shard I of "
                                 "N, counted from 0).")
    index, count = int(match[1]), int(match[2])
    if count < 1 or index >= count:
        raise ConfigurationError(f"--shard {index}/{count}: I must be at least 0 and less "
                                 f"than N (shards 0/{max(count, 1)} to "
                                 f"{max(count, 1) - 1}/{max(count, 1)}).")
    return index, count


def shard_of(name: str, count: int) -> int:
    """The shard (0 to ``count - 1``) of a target's identity: SHA-256 of its UTF-8 bytes,
    the first 8 bytes as an unsigned integer, modulo ``count`` -- the same on every
    machine and every Python version."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def select_shard(tenants: list[Tenant], index: int, count: int) -> list[Tenant]:
    """The targets of shard ``index`` of ``count``, in their listed order."""
    return [t for t in tenants if shard_of(t.name, count) == index]
