"""Odd SQL and Python migration files new users hit: file names with ``-`` and ``.``,
markers found with the lexer (not a line search), a byte-order mark, splitting errors
that are loud. Each case either works or is one clear error (exit 2) and nothing ran."""

from __future__ import annotations

import pytest
from npa_migrations import MigrationExecutor
from npa_migrations.builtin.sqlfile import find_sections, sql_migration_id
from npa_migrations.errors import MigrationSourceError
from npa_migrations.sqltext import PORTABLE


# file names ---------------------------------------------------------------------------------
@pytest.mark.parametrize("stem, expected", [
    ("20251119150000_add_user_roles", "20251119150000_AddUserRoles"),
    ("20210225112959_remove-categories", "20210225112959_remove-categories"),
    ("20220101000000_v5.35", "20220101000000_v5.35"),
    ("20220101000000_add users (draft)", "20220101000000_add users (draft)"),
    ("20220101000000_ajouter_clé", "20220101000000_ajouter_clé"),
])
def test_the_id_of_a_sql_file(stem, expected):
    assert sql_migration_id(stem) == expected


def test_names_with_dashes_and_dots_apply_and_work_as_targets(migrations_dir, sqlite_url, migrate,
                                                              user_tables):
    migrations_dir("20210225112959_remove-categories.sql",
                   "-- npa:up\nCREATE TABLE a (id INTEGER);\n-- npa:down\nDROP TABLE a;\n")
    migrations_dir("20220101000000_v5.35.sql",
                   "-- npa:up\nCREATE TABLE b (id INTEGER);\n-- npa:down\nDROP TABLE b;\n")
    migrations_dir("20230101000000_v5.36.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class AddC(Migration):
            def up(self, b):
                b.create_table("c", sa.Column("id", sa.Integer))

            def down(self, b):
                b.drop_table("c")
    """)
    folder = migrations_dir.folder
    result = migrate(sqlite_url, folder, "up", "--target", "20210225112959_remove-categories")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"a"}
    result = migrate(sqlite_url, folder, "up", "--target", "20220101000000")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"a", "b"}
    assert migrate(sqlite_url, folder, "up").exit_code == 0
    assert user_tables(sqlite_url) == {"a", "b", "c"}
    status = migrate(sqlite_url, folder, "status").output
    assert "20220101000000_v5.35" in status and "20230101000000_AddC" in status
    result = migrate(sqlite_url, folder, "down", "--target", "20210225112959_remove-categories")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"a"}


def test_a_python_file_name_that_is_no_identifier_loads_in_a_package(tmp_path, monkeypatch,
                                                                    sqlite_url, user_tables):
    package = tmp_path / "app_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("TABLE = 'from_helper'\n")
    (package / "20220101000000_v5.35.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n"
        "from .helpers import TABLE\n\n"
        "class UseHelper(Migration):\n"
        "    def up(self, b):\n"
        "        b.create_table(TABLE, sa.Column('id', sa.Integer))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = MigrationExecutor(sqlite_url, "app_migrations").execute()
    assert result.success, [e.message for e in result.errors]
    assert user_tables(sqlite_url) == {"from_helper"}


@pytest.mark.parametrize("name", ["20220101000000_a\tb.sql", "2022_short.sql",
                                  "20220101000000_.sql"])
def test_a_name_still_refused_states_the_rule(migrations_dir, sqlite_url, name, migrate,
                                              user_tables):
    migrations_dir(name, "-- npa:up\nCREATE TABLE a (id INTEGER);\n")
    migrations_dir("20200101000000_first.sql", "-- npa:up\nCREATE TABLE first (id INTEGER);\n")
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 2
    assert "<14-digit UTC timestamp>_<name>" in result.output
    assert "Rename the file" in result.output
    assert user_tables(sqlite_url) == set()


def test_an_id_longer_than_the_history_column_is_refused(migrations_dir, sqlite_url, migrate):
    migrations_dir("20220101000000_long.py", f"""
        from npa_migrations import Migration

        class Long(Migration):
            id = "20220101000000_{'x' * 250}"

            def up(self, b):
                b.execute("SELECT 1")
    """)
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 2
    assert "is 265 characters long; the history table holds at most 255" in result.output


# markers ------------------------------------------------------------------------------------
def test_a_down_marker_inside_a_block_comment_is_text(migrations_dir, sqlite_url, migrate,
                                                      user_tables):
    """It used to end the up section: the table after the comment silently went to down."""
    migrations_dir("20250101000000_commented.sql", """
        -- npa:up
        CREATE TABLE a (id INTEGER);
        /* how to revert by hand:
        -- npa:down
        DROP TABLE a;
        */
        CREATE TABLE b (id INTEGER);
        -- npa:down
        DROP TABLE b;
        DROP TABLE a;
    """)
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"a", "b"}
    assert migrate(sqlite_url, migrations_dir.folder, "down").exit_code == 0
    assert user_tables(sqlite_url) == set()


@pytest.mark.parametrize("text", [
    "-- npa:up\nSELECT '\n-- npa:down\n';\n",
    "-- npa:up\nSELECT $$\n-- npa:down\n$$;\n",
    '-- npa:up\nSELECT "\n-- npa:down\n" FROM t;\n',
])
def test_a_marker_inside_a_string_is_text(text):
    sections = find_sections(text, PORTABLE)
    assert sections.down is None
    assert "-- npa:down" in sections.up


def test_sections_keep_the_files_line_numbers():
    text = "-- header\n-- npa:up\nSELECT 1;\n-- npa:down\nSELECT 2;\n"
    sections = find_sections(text, PORTABLE)
    assert sections.up.strip() == "SELECT 1;" and sections.down.strip() == "SELECT 2;"
    assert sections.up.count("\n", 0, sections.up.index("SELECT 1")) + 1 == 3
    assert sections.down.count("\n", 0, sections.down.index("SELECT 2")) + 1 == 5


@pytest.mark.parametrize("text, message", [
    ("CREATE TABLE early (id INTEGER);\n-- npa:up\nCREATE TABLE a (id INTEGER);\n",
     "line 1: SQL before '-- npa:up' never runs"),
    ("-- npa:up\nCREATE TABLE a (id INTEGER);\n-- npa:up\nCREATE TABLE b (id INTEGER);\n",
     "'-- npa:up' is on lines 1 and 3; keep one."),
    ("-- npa:up\nCREATE TABLE a (id INTEGER); -- npa:down\nDROP TABLE a;\n",
     "line 2: '-- npa:down' must be on a line of its own"),
    ("-- npa:up\nCREATE TABLE a (id INTEGER);\n-- npa:down (by hand)\nDROP TABLE a;\n",
     "line 3: '-- npa:down' must be on a line of its own"),
    ("-- npa:up\n-- npa:no-transaction\nCREATE TABLE a (id INTEGER);\n",
     "line 2: '-- npa:no-transaction' must be the first line of the file."),
    ("-- npa:down\nDROP TABLE a;\n-- npa:up\nCREATE TABLE a (id INTEGER);\n",
     "'-- npa:down' must come after '-- npa:up'."),
    ("/*\n-- npa:up\n*/\nCREATE TABLE a (id INTEGER);\n", "no '-- npa:up' line"),
])
def test_marker_mistakes_are_errors_naming_file_and_line(migrations_dir, sqlite_url, text,
                                                        message, migrate, user_tables):
    migrations_dir("20200101000000_first.sql", "-- npa:up\nCREATE TABLE first (id INTEGER);\n")
    path = migrations_dir("20250101000000_odd.sql", text)
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 2, result.output
    assert f"Error: {path}: {message}" in result.output
    assert user_tables(sqlite_url) == set()


def test_a_plugin_directive_is_not_a_marker():
    sections = find_sections("-- npa:lint-ignore drop-table\n-- npa:up\nDROP TABLE a;\n",
                             PORTABLE)
    assert sections.up.strip() == "DROP TABLE a;"


def test_crlf_line_ends(migrations_dir, sqlite_url):
    (migrations_dir.folder / "20250101000000_windows.sql").write_bytes(
        b"-- npa:no-transaction\r\n-- npa:up\r\nCREATE TABLE a (id INTEGER);\r\n"
        b"-- npa:down\r\nDROP TABLE a;\r\n")
    executor = MigrationExecutor(sqlite_url, str(migrations_dir.folder))
    [script] = executor.discover()
    assert script.transactional is False
    assert [op.sql for op in script.down_operations()] == ["DROP TABLE a"]


@pytest.mark.parametrize("seed", range(3))
def test_a_file_reads_as_text_mode_reads_it(seed, tmp_path):
    """read_text decodes the bytes itself: the text is what text mode reads (line ends
    CR LF and CR as LF, a byte-order mark dropped), and what read_blocks gives a block at
    a time (a CR LF may straddle two blocks)."""
    import random

    from npa_migrations.builtin.sqlfile import read_blocks, read_text

    rng = random.Random(seed)
    pieces = ["\n", "\r\n", "\r", " ", "\u2028", "a", "SELECT 1;", "é", "\r\r\n"]
    path = tmp_path / "20250101000000_mixed.sql"
    for _ in range(100):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        path.write_bytes((b"\xef\xbb\xbf" if rng.random() < 0.3 else b"")
                         + text.encode("utf-8"))
        expected = path.read_text(encoding="utf-8-sig")
        assert read_text(path) == expected, repr(text)
        assert "".join(read_blocks(path, 5)) == expected, repr(text)


def test_a_byte_order_mark_is_ignored(migrations_dir, sqlite_url, migrate, user_tables):
    """It gave a misleading "no '-- npa:up' line"."""
    text = "-- npa:no-transaction\n-- npa:up\nCREATE TABLE a (id INTEGER);\n"
    (migrations_dir.folder / "20250101000000_bom.sql").write_bytes(
        b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"a"}
    [script] = MigrationExecutor(sqlite_url, str(migrations_dir.folder)).discover()
    assert script.transactional is False
    (migrations_dir.folder / "20250101000000_bom.sql").write_text(text)  # BOM removed
    assert migrate(sqlite_url, migrations_dir.folder, "validate").exit_code == 0


# splitting errors ---------------------------------------------------------------------------
def test_an_unterminated_string_is_an_error_naming_file_and_line(migrations_dir, sqlite_url,
                                                                 migrate, user_tables):
    migrations_dir("20200101000000_first.sql", "-- npa:up\nCREATE TABLE first (id INTEGER);\n")
    path = migrations_dir("20250101000000_quote.sql", """
        -- npa:up
        CREATE TABLE a (id INTEGER);
        INSERT INTO a VALUES ('it''s);
        CREATE TABLE b (id INTEGER);
    """)
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 2, result.output
    assert (f"Error: {path}: line 3: a string opens here and is never closed: "
            "'it''s);. Close it" in result.output)
    assert user_tables(sqlite_url) == set()


def test_an_unclosed_block_is_an_error(migrations_dir, sqlite_url, migrate):
    path = migrations_dir("20250101000000_trigger.sql", """
        -- npa:up
        CREATE TABLE a (id INTEGER);
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
          UPDATE a SET id = 1;
    """)
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 2, result.output
    assert f"{path}: line 3: a BEGIN ... END block opens here and is never closed" \
        in result.output


def test_sql_before_the_up_marker_is_named_even_after_a_header_comment():
    text = "/* header */\n-- npa:no-transaction\n\n  SELECT 1;\n-- npa:up\n"
    with pytest.raises(MigrationSourceError, match="line 2: '-- npa:no-transaction'"):
        find_sections(text, PORTABLE)
    with pytest.raises(MigrationSourceError, match="line 4: SQL before"):
        find_sections(text.replace("-- npa:no-transaction\n", "\n"), PORTABLE)


def test_drift_reads_a_file_only_its_database_can_split(migrations_dir, sqlite_url, migrate):
    """Drift replays the statements with the portable rules; a SQLite ``[it's]`` name
    (an unclosed string to them) must not break it."""
    migrations_dir("20250101000000_brackets.sql",
                   "-- npa:up\nCREATE TABLE [it's] (id INTEGER);\n")
    assert migrate(sqlite_url, migrations_dir.folder, "up").exit_code == 0
    result = migrate(sqlite_url, migrations_dir.folder, "drift")
    assert result.exit_code == 0, result.output


# a large file's text is released once its up is split -------------------------------------
def _large_file(migrations_dir, rows: int = 300):
    inserts = "".join(f"INSERT INTO big VALUES ({i}, 'row {i}; of many');\n" for i in range(rows))
    return migrations_dir("20240101000000_big.sql",
                          "-- npa:up\nCREATE TABLE big (id INTEGER, note TEXT);\n" + inserts
                          + "-- npa:down\nDROP TABLE big;\n")


def test_a_large_files_text_is_released_after_its_up_split(migrations_dir, monkeypatch):
    """Held once: the statements, not also the file's text; the down section stays, with
    the file's line numbers, and the text is read again when the sections are needed
    again."""
    from npa_migrations.builtin.sqlfile import SqlMigrationScript, load_sql_migration

    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1000)
    path = _large_file(migrations_dir)
    script = load_sql_migration(path)
    script.stream_lexicon = None  # a provider whose split needs the whole text
    script.use_lexicon(PORTABLE)
    assert script.sections is not None
    down = script.sections.down
    assert down is not None and down.index("DROP") == down.count("\n", 0, down.index("DROP"))
    up = script.up_operations()
    assert len(up) == 301 and up[1].sql == "INSERT INTO big VALUES (0, 'row 0; of many')"
    assert script.text is None and not script.sections.whole
    assert script.sections.down == down  # kept, with the file's line numbers
    assert [op.sql for op in script.down_operations()] == ["DROP TABLE big"]
    # built again (operations forgotten; or a fleet target that found the text let go
    # by another one building it at the same time): from the file, read again
    assert script.build_up() == up
    script.forget_operations()
    assert script.up_operations() == up and script.text is None
    script.use_lexicon(PORTABLE)
    assert script.sections.whole and script.up_operations() == up
    assert not script.sections.whole
    path.write_text(path.read_text().replace("row 7;", "row 8;"))
    script.forget_operations()
    with pytest.raises(MigrationSourceError, match="changed while npa was running"):
        script.up_operations()


def test_a_large_file_is_read_a_block_at_a_time(migrations_dir, monkeypatch):
    """Never held whole: discovery reads it a block at a time (first line, checksum),
    finding the sections splits the up section a block at a time and keeps where each
    statement is, and every pass over the statements reads the file again; a file that
    changed since it was read is an error."""
    import os

    from npa_migrations.builtin import sqlfile
    from npa_migrations.builtin.sqlfile import FileStatements, SqlMigrationScript
    from npa_migrations.operations import OperationStream

    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1000)
    monkeypatch.setattr(sqlfile, "_SLICE", 700)
    path = _large_file(migrations_dir)
    script = sqlfile.load_sql_migration(path)
    assert script.text is None
    assert script.known_checksum == sqlfile.text_checksum(path.read_text())
    blocks = list(sqlfile.read_blocks(path))  # the size is read when the file is
    assert len(blocks) > 10 and max(map(len, blocks)) < 800
    script.use_lexicon(PORTABLE)
    up = script.up_operations()
    assert isinstance(up, FileStatements) and isinstance(up, OperationStream)
    assert script.text is None and len(up) == 301
    expected = ["CREATE TABLE big (id INTEGER, note TEXT)"] + [
        f"INSERT INTO big VALUES ({i}, 'row {i}; of many')" for i in range(300)]
    assert [op.sql for op in up] == expected and [op.sql for op in up] == expected
    assert up[1].sql == expected[1] and up[-1].sql == expected[-1]
    assert [op.sql for op in up[298:]] == expected[298:]
    down = script.sections.down  # with the file's line numbers: DROP is on line 304
    assert down.index("DROP") == down.count("\n") - 1 == 303 and down.endswith("DROP TABLE big;\n")
    assert [op.sql for op in script.down_operations()] == ["DROP TABLE big"]
    stat = path.stat()
    path.write_text(path.read_text().replace("row 7;", "row 8;"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    with pytest.raises(MigrationSourceError, match="changed while npa was running"):
        list(script.up_operations())


@pytest.mark.parametrize("seed", range(4))
def test_a_file_read_a_block_at_a_time_gives_what_its_whole_text_gives(
        seed, migrations_dir, monkeypatch):
    """Random files (markers where they may be and where they may not, strings and
    comments holding ';' and markers, statements without a last ';', blocks and dollar
    bodies, errors), read in blocks of a few characters: the same statements, down
    section and errors as the file read whole."""
    import random

    from npa_migrations.builtin import sqlfile
    from npa_migrations.builtin.sqlfile import SqlMigrationScript
    from npa_migrations.errors import NpaError
    from npa_migrations.sqltext import Lexicon

    rng = random.Random(seed)
    statements = ["SELECT 1;\n", "INSERT INTO t VALUES ('a;b');\n", "x 'it''s' y;", "\n",
                  "-- note; here\n", "/* c;\n-- npa:down\n */", "'-- npa:down\n';\n",
                  "CREATE TRIGGER r BEGIN a; b; END;\n", "(1;\n2);\n", "; ",
                  "  -- npa:lint-ignore x\n", "\"q;\";\n", "# h;\n", "'a\\';'\n",
                  # these four rarely: a text that does not split, or splits another way
                  "SELECT 2\n", "$$ a; $$;\n", "'open\n", "/* open\n"]
    markers = ["-- npa:up\n", "-- npa:down\n", "-- npa:empty-down\n", "x; -- npa:down\n",
               "-- npa:up\n", "-- npa:no-transaction\n"]
    lexicons = [PORTABLE, Lexicon(hash_comments=True, dash_comment_needs_space=True,
                                  backslash_escapes=True, dollar_quotes=False)]

    def outcome(path, lexicon, streamed):
        monkeypatch.setattr(SqlMigrationScript, "release_text_from", 0 if streamed else 1 << 40)
        try:
            script = sqlfile.load_sql_migration(path)
            script.stream_lexicon = lexicon
            script.split = lambda sql: sqlfile.split_statements(sql, lexicon=lexicon)
            script.use_lexicon(lexicon)
            up = [op.sql for op in script.up_operations()]
            down = script.sections.down
            return up, down, script.empty_down, script.known_checksum
        except NpaError as exc:
            return type(exc).__name__, str(exc)

    streamed_files = 0
    for case in range(150):
        parts = [rng.choice(statements[:-4] if rng.random() < 0.9 else statements)
                 for _ in range(rng.randint(0, 12))]
        if rng.random() < 0.7:
            parts.insert(rng.randint(len(parts) // 2, len(parts)), rng.choice(markers[1:3]))
        for _ in range(rng.choice([0, 0, 1])):
            parts.insert(rng.randint(0, len(parts)), rng.choice(markers))
        if rng.random() < 0.9:
            parts.insert(0, "-- npa:up\n")
        path = migrations_dir(f"2024010100{case:04d}_f.sql", "".join(parts))
        lexicon = rng.choice(lexicons)
        monkeypatch.setattr(sqlfile, "_SLICE", rng.randint(1, 40))
        whole = outcome(path, lexicon, False)
        assert outcome(path, lexicon, True) == whole, "".join(parts)
        streamed_files += isinstance(whole[0], list)
        path.unlink()
    assert streamed_files > 30


def test_a_large_file_fails_names_its_statement_and_resumes_after_it(
        migrations_dir, sqlite_url, migrate, monkeypatch):
    """A large file outside a transaction: each statement journaled, the one that fails
    named, ``repair --resume`` continues with it (the statement indexes of the file read
    a block at a time are the file's); ``--sql`` writes the same script as for the file
    read whole."""
    import sqlalchemy as sa
    from npa_migrations import MigrationExecutor
    from npa_migrations.builtin import sqlfile
    from npa_migrations.builtin.sqlfile import SqlMigrationScript

    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1000)
    monkeypatch.setattr(sqlfile, "_SLICE", 500)
    inserts = "".join(f"INSERT INTO big VALUES ({i}, 'row {i}; of many');\n" for i in range(300))
    path = migrations_dir("20240101000000_big.sql",
                          "-- npa:no-transaction\n-- npa:up\n" + inserts
                          + "-- npa:down\nDELETE FROM big;\n")
    folder = path.parent
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT)"))
        conn.execute(sa.text("INSERT INTO big VALUES (150, 'in the way')"))
    script = migrate(sqlite_url, folder, "up", "--sql", "--offline")
    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1 << 40)
    assert migrate(sqlite_url, folder, "up", "--sql", "--offline").output == script.output
    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1000)
    assert script.output.count("INSERT INTO big VALUES") == 300
    result = migrate(sqlite_url, folder, "up")
    assert result.exit_code != 0
    assert "INSERT INTO big VALUES (150, 'row 150; of many')" in result.output
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM big")).scalar() == 151
        conn.execute(sa.text("DELETE FROM big WHERE note = 'in the way'"))
    report = MigrationExecutor(sqlite_url, folder).repair("resume")
    assert report.success, report
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT id, note FROM big ORDER BY id")).all()
    assert rows == [(i, f"row {i}; of many") for i in range(300)]
    engine.dispose()


def test_a_small_files_text_is_kept(migrations_dir):
    from npa_migrations.builtin.sqlfile import load_sql_migration

    script = load_sql_migration(_large_file(migrations_dir, rows=3))
    script.up_operations()
    assert script.text is not None


def test_a_large_file_applies_and_rolls_back(migrations_dir, sqlite_url, migrate, user_tables,
                                            monkeypatch):
    from npa_migrations.builtin.sqlfile import SqlMigrationScript

    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1000)
    folder = _large_file(migrations_dir).parent
    result = migrate(sqlite_url, folder, "up")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"big"}
    result = migrate(sqlite_url, folder, "down")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == set()


@pytest.mark.parametrize("seed", range(5))
def test_the_checksum_read_in_slices_is_the_checksum_of_the_normalised_text(seed, monkeypatch):
    """Line ends of every kind, blank lines and trailing blanks at the start, the end and
    across the slices' borders, text that is not ASCII."""
    import random

    from npa_migrations.builtin import sqlfile
    from npa_migrations.migration import checksum_of

    def normalise(text):  # the definition, written out whole: the reference
        lines = [line.rstrip() for line in
                 text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        return "\n".join(lines).strip("\n")

    monkeypatch.setattr(sqlfile, "_SLICE", 7)
    rng = random.Random(seed)
    pieces = ["\n", "\r\n", "\r", " ", "\t", "\u2028", "a", "SELECT 1;", "é", "\n\n", "  \n"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        assert sqlfile.text_checksum(text) == checksum_of(normalise(text)), repr(text)
