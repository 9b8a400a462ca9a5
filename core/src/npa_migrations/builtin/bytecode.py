"""Bytecode of migration modules that is checked against the bytes that are run.

Python's default bytecode cache (``__pycache__/<name>.cpython-311.pyc``) stays valid while
the source file's modification time, in whole seconds, and its size are unchanged. A
migration edited within a second of being imported, to a text of the same length
(``Numeric(10, 2)`` -> ``Numeric(12, 2)``: a script, an editor's quick save, a test), would
run -- and be checksummed -- as its old code: the edit would go unnoticed and the old
operations would be applied. Migrations are imported with *checked hash-based* bytecode
instead (PEP 552), which keeps the cost of a cached import.

:class:`BytesLoader` imports a module from the source bytes discovery read already (to
hash the file for the checksum cache), so each file is read once, and its code is
exactly what those bytes say: the cached bytecode only when it is checked hash-based
bytecode of these very bytes, else compiled from them (and cached so, when bytecode may be
written). An old default ``.pyc``, or one of another text, is never used.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import marshal
import sys

#: the flags word of a checked hash-based ``.pyc`` (PEP 552: hash-based, check source)
CHECKED_HASH_FLAGS = 0b11
_CHECKED_HEADER = importlib.util.MAGIC_NUMBER + CHECKED_HASH_FLAGS.to_bytes(4, "little")


class BytesLoader(importlib.machinery.SourceFileLoader):
    """Imports the module at ``path`` from ``source``, the file's bytes as read once."""

    def __init__(self, fullname: str, path: str, source: bytes):
        super().__init__(fullname, path)
        self.source = source

    def get_code(self, fullname: str):
        path = self.get_filename(fullname)
        try:
            cache = importlib.util.cache_from_source(path)
        except NotImplementedError:  # no cache at all (sys.implementation.cache_tag None)
            return self.source_to_code(self.source, path)
        source_hash = importlib.util.source_hash(self.source)
        code = cached_code(cache, source_hash)
        if code is None and not sys.dont_write_bytecode:
            import py_compile  # only when a file is new or changed

            try:  # written from the file: read back only if it holds these bytes' hash
                py_compile.compile(path, cfile=cache, doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
                code = cached_code(cache, source_hash)
            except (py_compile.PyCompileError, OSError):
                pass  # a syntax error is reported by compiling the source, below
        return code if code is not None else self.source_to_code(self.source, path)


def cached_code(cache: str, source_hash: bytes):
    """The code object in the bytecode file ``cache`` when it is checked hash-based
    bytecode of a source whose hash is ``source_hash``; else ``None``."""
    try:
        with open(cache, "rb", buffering=0) as cached:  # read whole, once
            data = cached.read()
    except OSError:
        return None
    if data[:8] != _CHECKED_HEADER or data[8:16] != source_hash:
        return None
    try:
        return marshal.loads(memoryview(data)[16:])
    except (EOFError, ValueError, TypeError):  # truncated or corrupt: compile instead
        return None
