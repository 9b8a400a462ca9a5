"""SQL files that SQLite reads differently from the portable splitter: ``[bracket]``
names, a column named ``begin`` (only ``CREATE TRIGGER`` opens a ``BEGIN ... END``
block), a byte-order mark. Each is split and then really run."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

from npa_migrations import MigrationExecutor
from npa_migrations.sqltext import split_statements
from npa_sqlite.provider import SQLITE


def run(tmp_path: Path, text: str | bytes):
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    path = folder / "20250101000000_odd.sql"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    result = MigrationExecutor(url, str(folder)).execute()
    assert result.success, [e.message for e in result.errors]
    return sqlite3.connect(tmp_path / "app.db")


def test_bracket_names_hold_semicolons(tmp_path):
    text = "CREATE TABLE [odd;name] ([a;b] INTEGER); INSERT INTO [odd;name] VALUES (1)"
    assert split_statements(text, lexicon=SQLITE) == [
        "CREATE TABLE [odd;name] ([a;b] INTEGER)", "INSERT INTO [odd;name] VALUES (1)"]
    conn = run(tmp_path, f"-- npa:up\n{text};\n")
    assert conn.execute('SELECT "a;b" FROM "odd;name"').fetchall() == [(1,)]


def test_a_column_named_begin_next_to_a_trigger(tmp_path):
    conn = run(tmp_path, """
        -- npa:up
        CREATE TABLE slots (id INTEGER, begin INTEGER);
        INSERT INTO slots (id, begin) VALUES (1, 10);
        UPDATE slots SET begin = begin + 1;
        CREATE TABLE log (begin INTEGER);
        CREATE TRIGGER slots_log AFTER UPDATE ON slots BEGIN
            INSERT INTO log (begin) VALUES (NEW.begin);
            UPDATE log SET begin = begin * 2;
        END;
        UPDATE slots SET begin = 5;
    """)
    assert conn.execute("SELECT begin FROM slots").fetchall() == [(5,)]
    assert conn.execute("SELECT begin FROM log").fetchall() == [(10,)]


def test_a_byte_order_mark_is_ignored(tmp_path):
    conn = run(tmp_path, b"\xef\xbb\xbf-- npa:up\nCREATE TABLE marked (id INTEGER);\n")
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'marked'").fetchall()
