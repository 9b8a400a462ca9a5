"""A large ``.sql`` file on MySQL / MariaDB is split a block at a time with MySQL's
lexicon (``MysqlSql.streaming_lexicon``) unless it holds the word ``DELIMITER``: the
statements must be exactly those :func:`~npa_mysql.sqltext.split_mysql` cuts from the
whole text (random texts cut anywhere, random files read in blocks of 1-40 characters,
both backslash modes), a ``DELIMITER`` file keeps the whole-text path, and on the
server a streamed file runs in batches, names the statement that fails and resumes
after it, running each of the others once."""

from __future__ import annotations

import itertools
import random

import pytest
import sqlalchemy as sa

from npa_migrations.builtin import sqlfile
from npa_migrations.builtin.sqlfile import FileStatements, SqlMigrationScript
from npa_migrations.errors import NpaError, SqlSplitError
from npa_migrations.sqltext import split_complete
from npa_mysql.provider import MysqlProvider
from npa_mysql.sqltext import lexicon_for, split_mysql

from mysql_support import q

#: what MySQL's lexer reads differently from the portable one, and what opens blocks
FRAGMENTS = ["SELECT", "x", "1", " ", "\n", "\n", ";", ";", ";\n", "(", ")", "'", "'a'", "''",
             '"', '"b"', '""', "`", "`c;d`", "``", "--", "-- c;\n", "--\n", "--\t;", "-",
             "/", "*", "/*", "*/", "/* c; */", "/*!", "/*!40101 SET a=1; */", "/*M!100100 ",
             "#", "# h;\n", "\\", "\\'", "'a\\';'", '"q\\";"', "'\\\\'", "begin", "BEGIN",
             "end", "END", "END IF", "case", "CASE", "END CASE", "IF x THEN", "ELSE", "DO",
             "LOOP", "lbl:", "CREATE PROCEDURE p()", "CREATE TRIGGER t", "legend", "$",
             "N'x'", "'it''s'"]


def random_texts(seed: str, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield rng, "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 30)))


def outcome(split, *args, **kwargs):
    try:
        return split(*args, **kwargs)
    except SqlSplitError:
        return "error"


def split_in_pieces(text: str, sizes, backslash_escapes: bool) -> list[str]:
    """``text`` fed to :func:`split_complete` in pieces of ``sizes`` characters, as a
    large file's up section is: the statements a ``;`` ended so far, then the rest."""
    lexicon = lexicon_for(backslash_escapes)
    statements: list[str] = []
    buffer, at = "", 0
    while at < len(text):
        piece = next(sizes)
        buffer += text[at:at + piece]
        at += piece
        found, _, rest = split_complete(buffer, lexicon)
        statements += found
        buffer = buffer[rest:]
    statements += split_complete(buffer, lexicon, final=True)[0]
    return statements


@pytest.mark.parametrize("backslash_escapes", [True, False])
def test_a_split_in_pieces_is_the_split_of_the_whole_text(backslash_escapes):
    """Random texts of MySQL's tokens cut anywhere (pieces of 1-40 characters): the
    same statements as ``split_mysql`` of the whole text, or an error for both."""
    compared = 0
    for rng, text in random_texts(f"pieces-{backslash_escapes}", 4000):
        for body in (text, "INSERT INTO t VALUES (1, 'a;b');\n" * 3 + text + "\nSELECT 9;"):
            whole = outcome(split_mysql, body, backslash_escapes=backslash_escapes)
            sizes = itertools.starmap(rng.randint, itertools.repeat((1, 40)))
            pieces = outcome(split_in_pieces, body, sizes, backslash_escapes)
            assert pieces == whole, body
            compared += whole != "error"
    assert compared > 2000


# files: the script's own path, bound to the provider --------------------------------------
def provider(backslash_escapes: bool = True) -> MysqlProvider:
    """A provider that knows the server's ``sql_mode`` without connecting."""
    mysql = MysqlProvider(sa.make_url("mysql+pymysql://u@localhost/db"))
    mysql.backslash_escapes = backslash_escapes
    return mysql


def load(path, mysql: MysqlProvider, streamed: bool, monkeypatch):
    """The file's migration bound to ``mysql``, read a block at a time or whole."""
    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 0 if streamed else 1 << 40)
    script = sqlfile.load_sql_migration(path)
    script.bind(mysql)
    return script


def file_outcome(path, mysql, streamed, monkeypatch):
    try:
        script = load(path, mysql, streamed, monkeypatch)
        up = [op.sql for op in script.up_operations()]
        return (up, script.sections.down, isinstance(script.streamed, FileStatements),
                script.known_checksum)
    except NpaError as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("seed", range(3))
def test_a_file_read_a_block_at_a_time_gives_what_its_whole_text_gives(
        seed, tmp_path, monkeypatch):
    """Random files of MySQL's statements, comments and strings (markers where they may
    be and inside comments and strings; now and then a ``DELIMITER`` block or a string
    never closed), read in blocks of 1-40 characters: the statements, down section and
    errors of the file read whole; a file with the word ``DELIMITER`` is read whole."""
    rng = random.Random(seed)
    parts = ["SELECT 1;\n", "INSERT INTO t VALUES ('a;b', \"c\\\";\");\n", "x 'it\\'s' y;",
             "\n", "-- note; here\n", "--not a comment;\n", "# h; -- npa:down\n",
             "/* c;\n-- npa:down\n */", "/*!40101 SET a = 1 */;\n", "'-- npa:down\n';\n",
             "CREATE PROCEDURE p() BEGIN IF a THEN b; END IF; END;\n", "(1;\n2);\n",
             "`n;\n-- npa:down\n`;\n", "; ", "CASE x WHEN 1 THEN 2 END;\n",
             "'a\\\\';\n", "SELECT begin, end FROM t;\n",
             # rarely: what does not split
             "SELECT 'open\n", "/* open\n", "SELECT 2\n"]
    delimiter = "DELIMITER $$\nCREATE PROCEDURE q() BEGIN a; b; END$$\nDELIMITER ;\n"
    mysqls = [provider(True), provider(False)]
    streamed_files = whole_files = 0
    for case in range(200):
        mysql = rng.choice(mysqls)
        pieces = [rng.choice(parts[:-3] if rng.random() < 0.95 else parts)
                  for _ in range(rng.randint(0, 14))]
        if rng.random() < 0.2:  # a DELIMITER block
            pieces.insert(rng.randint(0, len(pieces)), delimiter)
        text = "".join(pieces)
        if rng.random() < 0.8:
            text += rng.choice(["-- npa:down\nDROP TABLE t;\n", "-- npa:empty-down\n"])
        text = "-- npa:up\n" + text
        path = tmp_path / f"2024010100{case:04d}_f.sql"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setattr(sqlfile, "_SLICE", rng.randint(1, 40))
        whole = file_outcome(path, mysql, False, monkeypatch)
        streamed = file_outcome(path, mysql, True, monkeypatch)
        if isinstance(whole[0], list):
            assert streamed[0] == whole[0] and streamed[1] == whole[1], text
            assert streamed[3] == whole[3] and whole[2] is False
            assert streamed[2] is ("DELIMITER" not in text), text
            streamed_files += streamed[2]
            whole_files += not streamed[2]
        else:
            assert streamed == whole, text
        path.unlink()
    assert streamed_files > 80 and whole_files > 15


def dump(rows: int, table: str = "big") -> str:
    return "".join(f"INSERT INTO {table} (n, note) VALUES ({i}, 'row {i}; it\\'s #{i}');\n"
                   for i in range(rows))


def test_a_delimiter_file_is_read_whole(tmp_path, monkeypatch):
    """The word ``DELIMITER`` anywhere sends the file to the whole-text split, which
    honours the ``DELIMITER`` lines; without it the file is a stream."""
    monkeypatch.setattr(sqlfile, "_SLICE", 500)
    body = ("DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\n"
            "DELIMITER ;\n")
    path = tmp_path / "20240101000000_big.sql"
    path.write_text("-- npa:up\n" + dump(100) + body + dump(100) + "-- npa:down\nDROP "
                    "PROCEDURE p;\n", encoding="utf-8")
    script = load(path, provider(), True, monkeypatch)
    assert script.streamed is None
    up = [op.sql for op in script.up_operations()]
    assert len(up) == 201 and up[100] == "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"
    path.write_text(path.read_text().replace(body, "SELECT 'no such line';\n"))
    script = load(path, provider(), True, monkeypatch)
    assert isinstance(script.streamed, FileStatements)
    assert [op.sql for op in script.up_operations()][100] == "SELECT 'no such line'"


def test_the_servers_backslash_mode_learnt_after_discovery_splits_the_file(
        tmp_path, monkeypatch):
    """Discovery may bind the file before the first connection tells the server's
    ``sql_mode``: the statements are split with the lexicon the provider has when they
    are first asked for, as the whole-text split is."""
    path = tmp_path / "20240101000000_big.sql"
    path.write_text("-- npa:up\nSELECT 'a\\';\nSELECT 'b';\nSELECT 2;\n", encoding="utf-8")
    mysql = provider(True)
    script = load(path, mysql, True, monkeypatch)
    assert isinstance(script.streamed, FileStatements)
    mysql.backslash_escapes = False  # NO_BACKSLASH_ESCAPES, learnt on connecting
    up = [op.sql for op in script.up_operations()]
    assert up == ["SELECT 'a\\'", "SELECT 'b'", "SELECT 2"]
    assert up == split_mysql(path.read_text()[10:], backslash_escapes=False)


# on the server ---------------------------------------------------------------------------
def big_file(my, rows: int, *, transaction: bool = True, in_the_way: int | None = None):
    """A file of ``rows`` inserts into ``big`` (no key: a statement run twice shows),
    one of them (``in_the_way``) also inserting into ``taken``, where the row is."""
    big, taken = q(my.name("big")), q(my.name("taken"))
    lines = []
    for i in range(rows):
        lines.append(f"INSERT INTO {big} (n, note) VALUES ({i}, 'row {i}; it\\'s # {i}');\n")
        if i == in_the_way:
            lines.append(f"INSERT INTO {taken} (id) VALUES (1);\n")
    head = "" if transaction else "-- npa:no-transaction\n"
    return my.sql("20250101000000_big", head + "-- npa:up\n" + "".join(lines)
                  + f"-- npa:down\nDELETE FROM {big};\n")


@pytest.fixture
def large(monkeypatch):
    """Files of 1,000 characters or more are large, read in blocks of ~700."""
    monkeypatch.setattr(SqlMigrationScript, "release_text_from", 1000)
    monkeypatch.setattr(sqlfile, "_SLICE", 700)


def test_a_streamed_file_runs_in_batches(my, large, monkeypatch):
    from npa_mysql.provider import MysqlDriver

    big = q(my.name("big"))
    my.query(f"CREATE TABLE {big} (n INTEGER, note VARCHAR(60))")
    big_file(my, 2500)
    batches: list[int] = []
    start_batch = MysqlDriver.start_batch

    def counted(self, conn, sqls, **kwargs):
        sqls = list(sqls)
        batches.append(len(sqls))
        return start_batch(self, conn, sqls, **kwargs)

    monkeypatch.setattr(MysqlDriver, "start_batch", counted)
    executor = my.executor()
    (script,) = executor.discover()
    assert isinstance(script.streamed, FileStatements)
    result = executor.execute()
    assert result.success, "\n".join(e.message for e in result.errors)
    assert sum(batches) == 2500 and len(batches) <= 5, batches
    assert my.query(f"SELECT COUNT(*), COUNT(DISTINCT n), MAX(n) FROM {big}") == [
        (2500, 2500, 2499)]
    assert my.query(f"SELECT note FROM {big} WHERE n = 7") == [("row 7; it's # 7",)]


def test_a_streamed_file_names_the_failing_statement_and_resumes_after_it(my, large):
    """Outside a transaction: the statement that fails is named, with its line;
    ``repair --resume`` runs the rest, each statement once."""
    big, taken = q(my.name("big")), q(my.name("taken"))
    my.query(f"CREATE TABLE {big} (n INTEGER, note VARCHAR(60))")
    my.query(f"CREATE TABLE {taken} (id INTEGER PRIMARY KEY)")
    my.query(f"INSERT INTO {taken} VALUES (1)")
    big_file(my, 300, transaction=False, in_the_way=149)
    executor = my.executor()
    (script,) = executor.discover()
    assert isinstance(script.streamed, FileStatements)
    result = executor.execute()
    assert not result.success
    message = result.errors[0].message
    assert f"INSERT INTO {taken} (id) VALUES (1)" in message and "1062" in message, message
    assert "150 of 301 operation(s) took effect" in message, message
    assert "and 144 more, the last: " in message and len(message) < 2000, message
    ((_, success, steps_done, _),) = my.history()
    assert (success, steps_done) == (0, 150)
    assert my.query(f"SELECT COUNT(*) FROM {big}") == [(150,)]
    my.query(f"DELETE FROM {taken}")
    report = my.executor().repair("resume")
    assert report.success, report
    assert my.query(f"SELECT n, COUNT(*) FROM {big} GROUP BY n HAVING COUNT(*) <> 1") == []
    assert my.query(f"SELECT COUNT(*), MIN(n), MAX(n) FROM {big}") == [(300, 0, 299)]
    assert my.query(f"SELECT id FROM {taken}") == [(1,)]


def test_a_streamed_files_script_is_the_whole_files(tmp_path, monkeypatch):
    """``--sql --offline`` writes the same script for the file read a block at a time
    as for the file read whole."""
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    monkeypatch.setattr(sqlfile, "_SLICE", 300)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20240101000000_big.sql").write_text(
        "-- npa:up\nCREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END;\n"
        + dump(200) + "/*!40101 SET @a = 1 */;\n# the end; of it\n"
        "-- npa:down\nDROP PROCEDURE p;\n", encoding="utf-8")

    def script(release_text_from: int) -> str:
        monkeypatch.setattr(SqlMigrationScript, "release_text_from", release_text_from)
        result = CliRunner().invoke(cli, ["-d", "mysql+pymysql://u@localhost/db", "-m",
                                          str(folder), "migrate", "up", "--sql", "--offline"])
        assert result.exit_code == 0, result.output
        return result.output

    streamed = script(1000)
    assert streamed == script(1 << 40)
    assert streamed.count("INSERT INTO big") == 200 and "SET @a = 1" in streamed
    assert "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END" in streamed
