"""The checksum cache of migration files.

A Python migration's checksum is computed from its operations, so without a cache
``npa migrate status`` (and a no-op ``up``) would import every migration module and run
every ``up()``/``down()`` just to compare checksums; a ``.sql`` file's is computed from
its normalised text, after its markers were checked with the database's SQL lexer. The
cache remembers, per migration file, what discovery needs -- ids, class names,
dependencies, flags and the checksum -- keyed by the **SHA-256 of the file's content**
(never its modification time). A file whose content hash matches is not imported (a
``.sql`` file: not decoded, normalised or lexed) until its operations or class are
actually needed (to run it, roll it back or render it); a file that changed in any way
is imported (parsed) and checked as if there were no cache. A ``.sql`` entry also names
the lexicons its markers were checked with (:func:`lexicon_key`): it counts only for
those, since a marker-like line can be a comment's text in one dialect and a
marker in another (:mod:`npa_migrations.builtin.sqlcache`).

The cache lives in ``<migrations folder>/__pycache__/npa-migrations.json`` (next to
Python's own bytecode cache, ignored by version control and by discovery). It is written
atomically (a temporary file renamed over the old one), read defensively (anything
malformed, or written by another npa-migrations / SQLAlchemy / Python version, is
ignored), and never required: an unwritable folder just means no cache. Set
``NPA_CHECKSUM_CACHE=0`` to turn it off.

What it cannot see: a migration whose operations depend on *another* module (a helper
imported by the migration file) that changed. Migrations should be self-contained; if
yours are not, turn the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from functools import lru_cache
from typing import Any

CACHE_FILE = "npa-migrations.json"
#: 2: ``.sql`` files have entries (``"sql"`` instead of ``"migrations"``)
FORMAT = 2
#: keys of one cached migration, and the types they must have
FIELDS = {"id": str, "class": str, "checksum": str, "depends_on": list,
          "transactional": bool, "has_down": bool}
#: keys of one cached ``.sql`` file, and the types they must have
SQL_FIELDS = {"id": str, "checksum": str, "lexicons": list, "transactional": bool,
              "repeatable": bool, "replaces": list, "has_down": bool, "empty_down": bool}


def enabled() -> bool:
    return os.environ.get("NPA_CHECKSUM_CACHE", "1").strip().lower() not in (
        "0", "false", "no", "off")


def environment_key() -> str:
    """What a cached checksum depends on besides the file: npa-migrations, SQLAlchemy
    (type canonical forms) and Python versions."""
    from .. import __version__

    import sqlalchemy as sa  # imported already by then; a dictionary lookup

    return f"npa={__version__};sqlalchemy={sa.__version__};python={sys.version_info[:2]}"


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ChecksumCache:
    """The cache of one migrations folder."""

    def __init__(self, directory: Path):
        self.path = directory / "__pycache__" / CACHE_FILE
        self.key = environment_key()
        self.files: dict[str, dict] = {}
        self.dirty = False
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("format") != FORMAT \
                or data.get("key") != self.key or not isinstance(data.get("files"), dict):
            return
        self.files = {name: entry for name, entry in data["files"].items()
                      if _valid(name, entry)}

    def lookup(self, name: str, digest: str) -> list[dict] | None:
        """The cached migrations of Python file ``name`` if its content hash is
        ``digest``."""
        entry = self.files.get(name)
        if entry is None or entry["sha256"] != digest:
            return None
        return entry["migrations"]

    def store(self, name: str, digest: str, migrations: list[dict]) -> None:
        self.files[name] = {"sha256": digest, "migrations": migrations}
        self.dirty = True

    def lookup_sql(self, name: str, digest: str) -> dict | None:
        """The cached migration of ``.sql`` file ``name`` if its content hash is
        ``digest``; its ``lexicons`` are those its markers were checked with."""
        entry = self.files.get(name)
        if entry is None or entry["sha256"] != digest:
            return None
        return entry["sql"]

    def store_sql(self, name: str, digest: str, migration: dict) -> None:
        self.files[name] = {"sha256": digest, "sql": migration}
        self.dirty = True

    def prune(self, names: set[str]) -> None:
        """Forget files that are gone."""
        for name in list(self.files):
            if name not in names:
                del self.files[name]
                self.dirty = True

    def save(self) -> None:
        """Write the cache atomically; silently skipped where the folder is read-only."""
        if not self.dirty:
            return
        payload = json.dumps({"format": FORMAT, "key": self.key, "files": self.files},
                             separators=(",", ":"), sort_keys=True)
        tmp = None
        try:
            self.path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".npa-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(payload)
            os.chmod(tmp, 0o644)  # like the bytecode next to it (mkstemp makes it 0600)
            os.replace(tmp, self.path)
            tmp = None
            self.dirty = False
        except OSError:
            pass
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


@lru_cache(maxsize=None)
def lexicon_key(lexicon: object) -> str:
    """What names a lexicon in the cache: a digest of all its settings (two lexicons
    that find the same markers share it; a changed one is another)."""
    return hashlib.sha256(repr(lexicon).encode("utf-8")).hexdigest()[:16]


def _valid(name: str, entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
        return False
    if name.endswith(".sql"):
        migration = entry.get("sql")
        return isinstance(migration, dict) and _typed(migration, SQL_FIELDS) \
            and all(isinstance(r, str) for r in migration["replaces"] + migration["lexicons"])
    if not isinstance(entry.get("migrations"), list):
        return False
    for migration in entry["migrations"]:
        if not _typed(migration, FIELDS):
            return False
        if not all(isinstance(d, str) for d in migration["depends_on"]):
            return False
        timeout = migration.get("lock_timeout_seconds")
        if timeout is not None and not isinstance(timeout, (int, float)):
            return False
    return True


def _typed(migration: Any, fields: dict[str, type]) -> bool:
    """``migration`` is a dictionary with every key of ``fields``, of its type."""
    if not isinstance(migration, dict):
        return False
    for key, kind in fields.items():  # a loop, not all(): 1,000 entries are read per run
        if not isinstance(migration.get(key), kind):
            return False
    return True
