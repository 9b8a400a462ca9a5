"""``.sql`` migrations from the checksum cache (:mod:`npa_migrations.builtin.cache`).

A deploy discovers every migration, applied or not, but needs of an applied, unchanged
``.sql`` file only its id, checksum and flags: decoding, normalising (for the checksum)
and lexing (for the markers) a thousand files is most of what discovery costs. A file
whose bytes hash to a cached entry, for the lexicon the provider splits with, becomes a
:class:`CachedSqlScript` that knows those and finds its text and sections when its
operations are first needed (to run it, roll it back, lint or render it), from the file
read again and checked against the hash. Any other file is read as without a cache (its
marker errors raised at discovery, naming file and line), and its entry stored once the
provider bound it. Large files (:attr:`~SqlMigrationScript.release_text_from`) are
never cached: they are read a block at a time, not whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, cast

from ..migration import MigrationScript
from ..sqltext import Lexicon
from .cache import ChecksumCache, file_digest, lexicon_key
from .sqlfile import (Sections, SqlMigrationScript, decode_text, file_changed, load_sql_migration,
                      read_bytes, read_bytes_below, sql_file_id, sql_migration_of)

#: how many lexicons one entry remembers (the folder of a fleet of several databases)
_LEXICONS = 4


def load_sql_cached(path: Path, cache: ChecksumCache,
                    register: Callable[[MigrationScript], None]) -> None:
    """Register the migration of ``.sql`` file ``path``: from ``cache`` when its bytes
    hash to an entry; else read in full, and stored in ``cache`` once ``register``
    bound it to a provider (its markers were then checked with the provider's lexicon)."""
    data = read_bytes_below(path, SqlMigrationScript.release_text_from)
    if data is None:  # a large file: read a block at a time, not whole
        register(load_sql_migration(path))
        return
    digest = file_digest(data)
    entry = cache.lookup_sql(path.name, digest)
    if entry is not None:
        script: SqlMigrationScript = CachedSqlScript.from_cache(entry, path, digest)
    else:
        migration_id, repeatable = sql_file_id(path)
        script = sql_migration_of(path, decode_text(data, path), migration_id, repeatable)
    del data
    register(script)
    _remember(cache, path.name, digest, entry, script)


def _remember(cache: ChecksumCache, name: str, digest: str, entry: dict | None,
              script: SqlMigrationScript) -> None:
    """Store the entry of a file whose sections were found with the lexicon it is bound
    to (not a file served from the cache, nor one never bound)."""
    if isinstance(script, CachedSqlScript) and script.deferred:
        return
    if script.sections is None:
        return
    key = lexicon_key(script.lexicon)
    lexicons = entry["lexicons"] if entry is not None else []
    if key in lexicons:
        return
    cache.store_sql(name, digest, {
        "id": script.id, "checksum": script.checksum,
        "lexicons": [*lexicons[-(_LEXICONS - 1):], key],
        "transactional": script.transactional, "repeatable": script.repeatable,
        "replaces": list(script.replaces), "has_down": script.build_down is not None,
        "empty_down": script.empty_down})


class CachedSqlScript(SqlMigrationScript):
    """A ``.sql`` migration known from the checksum cache: id, checksum, flags and the
    ids it replaces come from the entry; bound to a lexicon the entry was checked with,
    its text and sections are found when its operations are first needed (the file is
    read again then, and must still hash to :attr:`digest`). Bound to another lexicon,
    it reads and checks the file at once, as without a cache."""

    #: the SHA-256 of the file's bytes that found the entry
    digest: str = ""
    #: the cache entry
    cached: dict
    #: ``True`` while the sections are to be found with :attr:`lexicon` on first need
    deferred: bool = False
    #: the sections, once found
    found: "Sections | None" = None

    @classmethod
    def from_cache(cls, entry: dict, path: Path, digest: str) -> "CachedSqlScript":
        fields = dict(id=entry["id"], source=str(path), transactional=entry["transactional"],
                      repeatable=entry["repeatable"], replaces=tuple(entry["replaces"]),
                      empty_down=entry["empty_down"], known_checksum=entry["checksum"])
        script = cast(CachedSqlScript, cls.from_text(None, **fields))
        script.path = path
        script.digest = digest
        script.cached = entry
        return script

    @property
    def sections(self) -> "Sections | None":
        """The sections, found now if they were left for when first needed."""
        if self.found is None and self.deferred:
            self.found = self._find_sections(self._full_text(), self.lexicon)
        return self.found

    @sections.setter
    def sections(self, value: "Sections | None") -> None:
        self.found = value

    def use_lexicon(self, lexicon: Lexicon) -> None:
        """The entry's answer for a lexicon it was checked with; else the file's
        sections found now (its errors raised now)."""
        if lexicon_key(lexicon) not in self.cached["lexicons"]:
            self.deferred = False
            super().use_lexicon(lexicon)
            return
        self.forget_operations()
        self.streamed = None
        self.found, self.deferred = None, True
        self.build_with(lexicon, self.cached["empty_down"], self.cached["has_down"])

    def _full_text(self) -> str:
        """The text of the bytes that found the entry: read again, checked against the
        hash."""
        text = self.text
        if text is None:
            data = read_bytes(self.path)  # type: ignore[arg-type]
            if file_digest(data) != self.digest:
                raise file_changed(self.source)
            text = self.text = decode_text(data, self.path)  # type: ignore[arg-type]
        return text
