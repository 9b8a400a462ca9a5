"""Bytecode of migration modules that is checked against the source's content.

Python's default bytecode cache (``__pycache__/<name>.cpython-311.pyc``) stays valid while
the source file's modification time, in whole seconds, and its size are unchanged. A
migration edited within a second of being imported, to a text of the same length
(``Numeric(10, 2)`` -> ``Numeric(12, 2)``: a script, an editor's quick save, a test), would
run -- and be checksummed -- as its old code: the edit would go unnoticed and the old
operations would be applied. Migrations are imported with *checked hash-based* bytecode
instead (PEP 552), which Python validates against a hash of the source's bytes on every
import, and which keeps the cost of a cached import.

:func:`trusted_cache` says whether the standard loader may import a migration file
(its bytecode is hash-checked, written so here when it is not yet); where the cache can
neither be trusted nor rewritten (a read-only folder, ``PYTHONDONTWRITEBYTECODE`` set
beside an old cache) the file is imported with :class:`SourceOnlyLoader`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

#: the flags word of a checked hash-based ``.pyc`` (PEP 552: hash-based, check source)
CHECKED_HASH_FLAGS = 0b11


class SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Imports a module from its source, never from (nor into) the bytecode cache."""

    def get_code(self, fullname: str):
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


def has_checked_bytecode(path: Path) -> bool:
    """Whether ``path``'s cached bytecode, if any, is checked against the source hash."""
    try:
        with open(importlib.util.cache_from_source(str(path)), "rb") as cached:
            header = cached.read(8)
    except (OSError, NotImplementedError):
        return False
    return (header[:4] == importlib.util.MAGIC_NUMBER
            and int.from_bytes(header[4:8], "little") == CHECKED_HASH_FLAGS)


def trusted_cache(path: Path) -> bool:
    """Whether the standard loader may import ``path``: its bytecode cache is hash-checked
    (written so now, when bytecode may be written), or there is none to be misled by."""
    if has_checked_bytecode(path):
        return True
    try:
        cache = importlib.util.cache_from_source(str(path))
    except NotImplementedError:  # no cache at all (sys.implementation.cache_tag None)
        return True
    if not sys.dont_write_bytecode:
        import py_compile  # only when a file is new or changed

        try:
            py_compile.compile(str(path), cfile=cache, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            return True
        except (py_compile.PyCompileError, OSError):
            pass  # a syntax error is reported by the import itself, from the source
    return not os.path.exists(cache)

