"""The checksum cache of ``.sql`` migrations (npa_migrations.builtin.sqlcache): an
unchanged file is known from its entry without being decoded, normalised or lexed; its
text is read (and checked against the hash) when its statements are needed; any change,
another lexicon or a broken entry means the file is read as without a cache."""

from __future__ import annotations

import json

import pytest

from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.builtin import sqlfile
from npa_migrations.builtin.cache import CACHE_FILE
from npa_migrations.builtin.sqlcache import CachedSqlScript
from npa_migrations.errors import MigrationSourceError
from npa_migrations.sqltext import Lexicon

#: files that take every path of a .sql file: name -> bytes
VARIED = {
    "20250101000000_create_items.sql":
        b"-- npa:up\nCREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\n"
        b"-- npa:down\nDROP TABLE items;\n",
    "20250102000000_crlf_bom.sql":
        b"\xef\xbb\xbf-- npa:up\r\nCREATE TABLE crlf (id INTEGER);  \r\n"
        b"INSERT INTO crlf VALUES (1);\r\n-- npa:down\r\nDROP TABLE crlf;\r\n",
    "20250103000000_no_transaction.sql":
        b"-- npa:no-transaction\n-- npa:up\nCREATE TABLE nt (id INTEGER);\n",
    "20250104000000_placeholders.sql":
        b"-- npa:up\nCREATE TABLE ${prefix}_things (id INTEGER);\n"
        b"-- npa:down\nDROP TABLE ${prefix}_things;\n",
    "20250105000000_empty_down.sql":
        b"-- npa:up\nCREATE INDEX ix_items_name ON items (name);\n-- npa:empty-down\n",
    "20250106000000_old_cr.sql": b"-- npa:up\rCREATE TABLE cr (id INTEGER);\r",
    "20250107000000_squash.sql":
        b"-- npa:replaces 20240101000000_A, 20240102000000_B\n-- npa:up\n"
        b"CREATE TABLE squashed (id INTEGER);\n-- npa:down\nDROP TABLE squashed;\n",
    "20250108000000_trigger.sql":
        b"-- npa:up\nCREATE TRIGGER trg AFTER INSERT ON items BEGIN\n"
        b"  UPDATE items SET name = '-- npa:down' WHERE id = NEW.id;\nEND;\n"
        b"/* -- npa:down */\n-- npa:down\nDROP TRIGGER trg;\n",
    "R__view.sql": b"-- npa:up\nDROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT 1 AS one;\n",
}
OPTIONS = MigrationExecutorOptions(placeholders={"prefix": "app"})


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.delenv("NPA_CHECKSUM_CACHE", raising=False)
    folder = tmp_path / "migrations"
    folder.mkdir()
    return folder


def _url(folder) -> str:
    return f"sqlite:///{folder.parent / 'app.db'}"


def _discover(folder, **options) -> dict:
    executor = MigrationExecutor(_url(folder), str(folder), options=options.get("options"))
    return {s.id: s for s in executor.discover()}


def _entries(folder) -> dict:
    return json.loads((folder / "__pycache__" / CACHE_FILE).read_text("utf-8"))["files"]


def _write_entries(folder, files: dict) -> None:
    path = folder / "__pycache__" / CACHE_FILE
    data = json.loads(path.read_text("utf-8"))
    data["files"] = files
    path.write_text(json.dumps(data), encoding="utf-8")


def _facts(script) -> tuple:
    """Everything a script tells, its statements (built) included."""
    down = script.down_operations()
    return (script.id, script.checksum, script.transactional, script.repeatable,
            script.replaces, script.empty_down, [op.sql for op in script.up_operations()],
            None if down is None else [op.sql for op in down])


def test_a_hit_gives_what_the_full_path_computes(folder, monkeypatch):
    for name, data in VARIED.items():
        (folder / name).write_bytes(data)
    first = _discover(folder, options=OPTIONS)  # the full path, entries stored
    assert not any(isinstance(s, CachedSqlScript) for s in first.values())
    assert set(_entries(folder)) == set(VARIED)

    monkeypatch.setenv("NPA_CHECKSUM_CACHE", "0")
    uncached = {i: _facts(s) for i, s in _discover(folder, options=OPTIONS).items()}
    monkeypatch.delenv("NPA_CHECKSUM_CACHE")
    cached = _discover(folder, options=OPTIONS)
    assert all(isinstance(s, CachedSqlScript) and s.deferred for s in cached.values())
    assert {i: _facts(s) for i, s in cached.items()} == uncached
    assert uncached["20250104000000_Placeholders"][6] == ["CREATE TABLE app_things (id INTEGER)"]
    assert uncached["20250107000000_Squash"][4] == ("20240101000000_A", "20240102000000_B")
    assert uncached["20250103000000_NoTransaction"][2] is False
    assert uncached["20250105000000_EmptyDown"][5] is True
    assert uncached["R__view"][3] is True


def test_a_hit_neither_decodes_normalises_nor_lexes(folder, monkeypatch):
    (folder / "20250101000000_create_items.sql").write_bytes(
        VARIED["20250101000000_create_items.sql"])
    _discover(folder)

    def refused(*args, **kwargs):
        raise AssertionError("the file was parsed")

    for name in ("find_sections", "text_checksum", "decode_text", "replaced_ids"):
        monkeypatch.setattr(sqlfile, name, refused)
    [script] = _discover(folder).values()
    assert script.text is None and script.found is None
    monkeypatch.undo()
    assert [op.sql for op in script.up_operations()] == [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)"]
    assert script.sections is not None and script.sections.down is not None


def test_an_edited_file_misses(folder):
    path = folder / "20250101000000_create_items.sql"
    path.write_bytes(VARIED["20250101000000_create_items.sql"])
    [before] = _discover(folder).values()
    path.write_bytes(path.read_bytes().replace(b"name TEXT", b"name VARCHAR(20)"))
    [after] = _discover(folder).values()
    assert not isinstance(after, CachedSqlScript)
    assert after.checksum != before.checksum
    assert _entries(folder)[path.name]["sql"]["checksum"] == after.checksum


def test_a_lying_or_broken_entry_is_not_used(folder):
    path = folder / "20250101000000_create_items.sql"
    path.write_bytes(VARIED["20250101000000_create_items.sql"])
    [real] = _discover(folder).values()
    entry = _entries(folder)[path.name]
    lying = json.loads(json.dumps(entry))
    lying["sha256"] = "0" * 64  # another content's entry
    lying["sql"]["checksum"] = "sha256:bogus"
    _write_entries(folder, {path.name: lying})
    [script] = _discover(folder).values()
    assert not isinstance(script, CachedSqlScript) and script.checksum == real.checksum

    for broken in ({"transactional": "yes"}, {"replaces": [1]}, {"lexicons": None}):
        bad = json.loads(json.dumps(entry))
        bad["sql"].update(broken)
        bad["sql"]["checksum"] = "sha256:bogus"
        _write_entries(folder, {path.name: bad})
        [script] = _discover(folder).values()
        assert not isinstance(script, CachedSqlScript) and script.checksum == real.checksum


def test_an_entry_counts_only_for_the_lexicon_that_checked_it(folder, monkeypatch):
    """``# -- npa:down`` is a comment's text where ``#`` starts a comment (MySQL), and a
    misplaced marker elsewhere: an entry stored for the first lexicon must not hide the
    error from the second."""
    path = folder / "20250101000000_hash.sql"
    path.write_bytes(b"-- npa:up\nCREATE TABLE h (id INTEGER);\n# -- npa:down\n")
    hashes = Lexicon(hash_comments=True)

    def discover(lexicon):
        executor = MigrationExecutor(_url(folder), str(folder))
        if lexicon is not None:
            monkeypatch.setattr(executor.provider.sql, "lexicon", lexicon)
        return executor.discover()

    [script] = discover(hashes)
    assert script.build_down is None
    [script] = discover(hashes)
    assert isinstance(script, CachedSqlScript) and script.deferred
    with pytest.raises(MigrationSourceError, match=r"20250101000000_hash.sql: line 3: "
                                                   r"'-- npa:down' must be on a line of its own"):
        discover(None)
    assert _entries(folder)[path.name]["sql"]["lexicons"] != []


def test_a_file_changed_between_discovery_and_run_is_not_run(folder):
    path = folder / "20250101000000_create_items.sql"
    path.write_bytes(VARIED["20250101000000_create_items.sql"])
    MigrationExecutor(_url(folder), str(folder)).status()  # fills the cache
    executor = MigrationExecutor(_url(folder), str(folder))
    [script] = executor.discover()
    assert isinstance(script, CachedSqlScript)
    path.write_bytes(path.read_bytes().replace(b"name TEXT", b"name TEXT, price INTEGER"))
    with pytest.raises(MigrationSourceError, match="changed while npa was running"):
        executor.execute()
    status = MigrationExecutor(_url(folder), str(folder)).status()
    assert status.applied == [] and status.pending == [script.id]
    import sqlite3

    with sqlite3.connect(folder.parent / "app.db") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'items'").fetchall() == []


def test_a_marker_error_is_raised_every_time_until_fixed(folder):
    path = folder / "20250101000000_broken.sql"
    path.write_bytes(b"-- npa:up\nSELECT 1;\n-- npa:down\nSELECT 2;\n-- npa:down\n")
    for _ in range(2):  # never cached
        with pytest.raises(MigrationSourceError,
                           match=r"20250101000000_broken.sql: '-- npa:down' is on lines 3 and 5"):
            _discover(folder)
    assert path.name not in _entries(folder) if (folder / "__pycache__").exists() else True
    path.write_bytes(b"-- npa:up\nSELECT 1;\n-- npa:down\nSELECT 2;\n")
    [script] = _discover(folder).values()
    assert not isinstance(script, CachedSqlScript)
    [script] = _discover(folder).values()
    assert isinstance(script, CachedSqlScript)
    assert [op.sql for op in script.down_operations()] == ["SELECT 2"]


def test_large_files_are_read_a_block_at_a_time_not_cached(folder, monkeypatch):
    monkeypatch.setattr(sqlfile.SqlMigrationScript, "release_text_from", 64)
    path = folder / "20250101000000_large.sql"
    path.write_text("-- npa:up\n" + "".join(f"INSERT INTO t VALUES ({i});\n" for i in range(20))
                    + "-- npa:down\nDELETE FROM t;\n", encoding="utf-8")
    for _ in range(2):
        [script] = _discover(folder).values()
        assert not isinstance(script, CachedSqlScript) and script.stamp is not None
        assert len(list(script.up_operations())) == 20
    assert path.name not in _entries(folder) if (folder / "__pycache__").exists() else True


def test_the_cache_can_be_turned_off(folder, monkeypatch):
    (folder / "20250101000000_create_items.sql").write_bytes(
        VARIED["20250101000000_create_items.sql"])
    monkeypatch.setenv("NPA_CHECKSUM_CACHE", "0")
    for _ in range(2):
        [script] = _discover(folder).values()
        assert not isinstance(script, CachedSqlScript)
    assert not (folder / "__pycache__" / CACHE_FILE).exists()
