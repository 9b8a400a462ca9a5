"""The checksum cache of Python migrations (npa_migrations.builtin.cache): a hit skips
the import, any change to the file is a miss, a broken cache is ignored."""

from __future__ import annotations

import json
import sys

from npa_migrations import MigrationExecutor
from npa_migrations.builtin.cache import CACHE_FILE

MIGRATION = '''\
import sqlalchemy as sa
from npa_migrations import Migration

IMPORTS = __import__("builtins").__dict__.setdefault("npa_cache_imports", [])
IMPORTS.append(__name__)


class CreateThings(Migration):
    def up(self, b):
        b.create_table("things", sa.Column("id", sa.Integer, primary_key=True){extra})

    def down(self, b):
        b.drop_table("things")
'''


def _write(folder, extra=""):
    path = folder / "20250101000000_create_things.py"
    path.write_text(MIGRATION.replace("{extra}", extra), encoding="utf-8")
    return path


def _imports():
    import builtins

    return builtins.__dict__.setdefault("npa_cache_imports", [])


def test_hit_skips_import_and_change_is_detected(tmp_path, monkeypatch):
    monkeypatch.delenv("NPA_CHECKSUM_CACHE", raising=False)
    folder = tmp_path / "migrations"
    folder.mkdir()
    _write(folder)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert MigrationExecutor(url, str(folder)).execute().success
    cache = folder / "__pycache__" / CACHE_FILE
    assert cache.exists()
    _imports().clear()
    sys.modules.pop("npa_migrations_user.20250101000000_create_things", None)

    status = MigrationExecutor(url, str(folder)).status()
    assert status.pending == [] and status.applied[0].id == "20250101000000_CreateThings"
    assert _imports() == []  # answered from the cache: the module was not imported

    _write(folder, extra=', sa.Column("name", sa.String(20))')  # a real change
    problems = MigrationExecutor(url, str(folder)).validate()
    assert [p.code for p in problems] == ["checksum"]
    assert _imports()  # the changed file was imported again

    # rolling back needs the operations: a cached script imports its module then
    _write(folder)
    _imports().clear()
    result = MigrationExecutor(url, str(folder)).rollback()
    assert result.success and result.migration_ids == ["20250101000000_CreateThings"]


def test_corrupt_or_foreign_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.delenv("NPA_CHECKSUM_CACHE", raising=False)
    folder = tmp_path / "migrations"
    folder.mkdir()
    _write(folder)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert MigrationExecutor(url, str(folder)).execute().success
    cache = folder / "__pycache__" / CACHE_FILE
    data = json.loads(cache.read_text(encoding="utf-8"))
    for entry in data["files"].values():  # a lying cache entry for another content hash
        entry["sha256"] = "0" * 64
        entry["migrations"][0]["checksum"] = "sha256:bogus"
    cache.write_text(json.dumps(data), encoding="utf-8")
    assert MigrationExecutor(url, str(folder)).validate() == []
    cache.write_text("{not json", encoding="utf-8")
    assert MigrationExecutor(url, str(folder)).validate() == []


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("NPA_CHECKSUM_CACHE", "0")
    folder = tmp_path / "migrations"
    folder.mkdir()
    _write(folder)
    assert MigrationExecutor(f"sqlite:///{tmp_path / 'app.db'}", str(folder)).execute().success
    assert not (folder / "__pycache__" / CACHE_FILE).exists()


def test_a_file_changed_after_its_cache_hit_is_not_run_with_the_cached_checksum(
        tmp_path, monkeypatch):
    """The cache entry matched the text discovery read; the module is imported later,
    when its operations are needed: a file changed in between would run under the
    checksum of its old text, so it is refused instead."""
    import pytest

    from npa_migrations.errors import MigrationSourceError

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    folder = tmp_path / "migrations"
    folder.mkdir()
    _write(folder)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    MigrationExecutor(url, str(folder)).status()  # fills the cache
    executor = MigrationExecutor(url, str(folder))
    [script] = executor.discover()  # a cache hit: not imported yet
    _write(folder, extra=', sa.Column("name", sa.Text)')
    with pytest.raises(MigrationSourceError, match="changed while npa was running"):
        script.up_operations()
