"""An edited Python migration is never run, nor checksummed, as its old bytecode
(npa_migrations.builtin.bytecode): Python's default ``.pyc`` is trusted while the
source's modification time in whole seconds and its size are unchanged, so every test
here edits a file to a text of the same length and gives it back its old mtime."""

from __future__ import annotations

import importlib.util
import os
import py_compile
import sys

import pytest

from npa_migrations import MigrationExecutor
from npa_migrations.builtin.bytecode import CHECKED_HASH_FLAGS

MIGRATION = '''\
import sqlalchemy as sa
from npa_migrations import Migration


class AddPrice(Migration):
    def up(self, b):
        b.create_table("prices", sa.Column("amount", sa.Numeric({precision}, 2)))

    def down(self, b):
        b.drop_table("prices")
'''
NAME = "20250101000000_add_price.py"


def has_checked_bytecode(path) -> bool:
    """Whether ``path``'s cached bytecode is checked hash-based bytecode."""
    try:
        with open(importlib.util.cache_from_source(str(path)), "rb") as cached:
            header = cached.read(8)
    except OSError:
        return False
    return (header[:4] == importlib.util.MAGIC_NUMBER
            and int.from_bytes(header[4:8], "little") == CHECKED_HASH_FLAGS)


def _edit_in_place(path, text):
    """Rewrite ``path`` to ``text`` (the same length) with its old modification time."""
    before = os.stat(path)
    assert len(text.encode()) == before.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _checksum(folder, url):
    for module in [m for m in sys.modules if m.startswith("npa_migrations_user.")]:
        del sys.modules[module]
    return MigrationExecutor(url, str(folder)).status().applied[0].checksum


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("NPA_CHECKSUM_CACHE", "0")  # every run imports the module
    folder = tmp_path / "migrations"
    folder.mkdir()
    path = folder / NAME
    path.write_text(MIGRATION.format(precision=10), encoding="utf-8")
    return folder, path, f"sqlite:///{tmp_path / 'app.db'}"


def test_same_size_edit_in_the_same_second_is_seen(world, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder, path, url = world
    assert MigrationExecutor(url, str(folder)).execute().success
    assert has_checked_bytecode(path)
    applied = _checksum(folder, url)

    _edit_in_place(path, MIGRATION.format(precision=12))
    problems = MigrationExecutor(url, str(folder)).validate()
    assert [(p.code, p.migration_id) for p in problems] == [("checksum", "20250101000000_AddPrice")]
    _edit_in_place(path, MIGRATION.format(precision=10))
    assert _checksum(folder, url) == applied  # back to what was applied: valid again


def test_old_timestamp_bytecode_is_not_trusted_when_it_cannot_be_rewritten(world, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # PYTHONDONTWRITEBYTECODE=1
    folder, path, url = world
    # bytecode of the original text as Python writes it by default (mtime and size)
    py_compile.compile(str(path), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    assert MigrationExecutor(url, str(folder)).execute().success
    _edit_in_place(path, MIGRATION.format(precision=12))
    problems = MigrationExecutor(url, str(folder)).validate()
    assert [p.code for p in problems] == ["checksum"]
    assert not has_checked_bytecode(path)  # nothing was written


def test_syntax_error_is_reported_not_hidden_by_old_bytecode(world, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder, path, url = world
    py_compile.compile(str(path), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    _edit_in_place(path, MIGRATION.format(precision=10).replace("b.drop_table(", "b.drop_table "))
    from npa_migrations.errors import MigrationSourceError

    with pytest.raises(MigrationSourceError, match="20250101000000_add_price.py"):
        MigrationExecutor(url, str(folder)).status()


def test_the_module_is_what_the_bytes_read_say(world, monkeypatch):
    """Discovery hashes the bytes it read for the checksum cache and imports those same
    bytes: a file replaced in between cannot make the cached entry describe other code."""
    from npa_migrations.builtin.sources import load_python_migrations

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder, path, url = world
    read = MIGRATION.format(precision=12).encode()
    [script] = load_python_migrations(path, None, read)  # the file says 10
    [operation] = script.up_operations()
    assert operation.columns[0].type.precision == 12
    [script] = load_python_migrations(path, None)  # read now: bytecode of 12 is not used
    assert script.up_operations()[0].columns[0].type.precision == 10


def test_corrupt_checked_bytecode_is_compiled_over(world, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder, path, url = world
    assert MigrationExecutor(url, str(folder)).execute().success
    cache = importlib.util.cache_from_source(str(path))
    with open(cache, "r+b") as pyc:  # a valid header of this source, a body cut short
        pyc.truncate(20)
    assert _checksum(folder, url)  # imported from the source
