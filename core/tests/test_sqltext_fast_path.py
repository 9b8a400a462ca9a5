"""The SQL lexer's fast path (stretches of plain code and simple strings, read by one
regex a statement) must split exactly as the full lexer does: the same statements, the
same errors. Each case runs twice: as it is, and with a lexicon that has an ``extra``
token that never matches, which turns the fast path off and leaves the full lexer's
reading unchanged -- the reference."""

from __future__ import annotations

import dataclasses
import random

import pytest

from npa_migrations.builtin.sqlfile import find_sections
from npa_migrations.errors import MigrationSourceError, SqlSplitError
from npa_migrations.sqltext import (BRACKETS, PORTABLE, Lexicon, comments_and_literals,
                                    outside_tokens, split_complete, split_statements)

#: the flags of the databases' lexicons (the providers' own live in their packages)
LEXICONS = {
    "portable": PORTABLE,
    "brackets": BRACKETS,
    "postgresql": Lexicon(nested_comments=True, escape_strings=True, backticks=False),
    "mysql": Lexicon(dash_comment_needs_space=True, hash_comments=True,
                     executable_comments=True, backslash_escapes=True, dollar_quotes=False,
                     block_statements=r"CREATE\b.*\b(?:PROCEDURE|TRIGGER)\b.*"),
    "sqlite": Lexicon(brackets=True, dollar_quotes=False,
                      block_statements=r"CREATE\b.*\bTRIGGER\b.*"),
    "oracle-like": Lexicon(doubled_double_quotes=False, backticks=False, dollar_quotes=False,
                           q_quotes=True),
    "tsql": Lexicon(nested_comments=True, brackets=True, backticks=False, dollar_quotes=False),
}


def full_lexer(lexicon: Lexicon) -> Lexicon:
    """``lexicon`` with the fast path off: a token of its own that never matches."""
    return dataclasses.replace(lexicon, extra=(*lexicon.extra, ("never", r"(?!)")))


def outcome(text: str, lexicon: Lexicon):
    try:
        return split_statements(text, lexicon=lexicon)
    except SqlSplitError as exc:
        return ("error", str(exc), exc.position)


def assert_same(text: str, lexicon: Lexicon) -> None:
    assert outcome(text, lexicon) == outcome(text, full_lexer(lexicon)), text


CASES = [
    # plain statements, the fast path's own
    "INSERT INTO t VALUES (1, 'a;b', 'it''s');\nINSERT INTO t VALUES (2, 'x', NULL);",
    "SELECT f(g(h(1)));SELECT ((((1))));SELECT 2",  # nested deeper than the fast path reads
    "SELECT 1 - 2; SELECT 4 / 2; SELECT a[1]; SELECT x FROM y",
    # a comment, or what looks like one inside a string
    "SELECT '--';\n-- a comment; with a semicolon\nSELECT 2;",
    "SELECT '/* not a comment; */';/* a comment; */SELECT 3;",
    "SELECT 1; # mysql comment; here\nSELECT 2;",
    "SELECT 1;--no space; on MySQL this is code\nSELECT 2;",
    "SELECT 1; /*!40101 SET x=1; */; SELECT 2;",
    # dollar quotes and escape strings
    "CREATE FUNCTION f() AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT 1;",
    "SELECT $tag$ a; b $tag$; SELECT a$b FROM t;",
    "SELECT E'it\\'s; here'; SELECT e'x';SELECT 'a\\';",
    "SELECT q'[it's; here]'; SELECT 1;",
    # backslash escapes
    "INSERT INTO t VALUES ('a\\'; b'); INSERT INTO t VALUES (\"c\\\"; d\");",
    # quoted names
    'SELECT "a;b" FROM "t""x"; SELECT `c;d`; SELECT [e;f]; SELECT [g]]h];',
    # blocks: BEGIN ... END, CASE ... END, words in names and strings
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END; SELECT 1;",
    "SELECT CASE WHEN a THEN 1 END FROM t; SELECT 'the end; of it'; SELECT legend FROM t;",
    "BEGIN; INSERT INTO t VALUES ('weekend'); COMMIT;",
    "SELECT begin_at, t.end FROM t; SELECT 1 AS \"case\";",
    # unclosed things: the same error, naming the same line
    "SELECT 1;\nSELECT 'open",
    "SELECT 1;\nSELECT (1, 2;\nSELECT 3;",
    "SELECT 1;\nSELECT 1);\nSELECT 2;",
    "SELECT 1; /* open",
    "SELECT 1;\nCREATE TRIGGER x BEGIN SELECT 1;",
    # empty and comment-only statements
    ";;  ;\n-- only a comment\n;SELECT 1;;",
    "",
]


@pytest.mark.parametrize("name", sorted(LEXICONS))
@pytest.mark.parametrize("text", CASES)
def test_fast_path_splits_as_the_full_lexer(name, text):
    assert_same(text, LEXICONS[name])


FRAGMENTS = ["SELECT", "x", "1", " ", "\n", ";", ";", "(", ")", "'", "'a'", "''", '"', '"b"',
             "`", "[", "]", "--", "-- c\n", "-", "/", "*", "/*", "*/", "/*!", "#", "$", "$$",
             "$t$", "E", "e'", "q'[", "\\", "begin", "BEGIN", "end", "END", "case", "CASE",
             "END CASE", "legend", ".", "'it''s'", "'a;b'", "N'x'"]


def random_texts(seed: str, count: int = 3000):
    """``count`` random texts made of what the lexer reads, each with the generator that
    made it (fixed seed)."""
    rng = random.Random(seed)
    for _ in range(count):
        yield rng, "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25)))


@pytest.mark.parametrize("name", sorted(LEXICONS))
def test_fast_path_on_random_text(name):
    lexicon = LEXICONS[name]
    for _rng, text in random_texts(f"npa-{name}"):
        assert_same(text, lexicon)
        assert_same("INSERT INTO t VALUES (1, 'a');\n" * 3 + text, lexicon)


def reference_outside(text: str, positions: list[int], lexicon: Lexicon) -> list[bool]:
    """Not strictly inside any comment, string or quoted name, by the full lexer."""
    spans = list(comments_and_literals(text, lexicon))
    return [not any(start < p < end for start, end in spans) for p in positions]


@pytest.mark.parametrize("name", sorted(LEXICONS))
def test_outside_tokens_as_the_full_lexer(name):
    lexicon = LEXICONS[name]
    for rng, text in random_texts(f"outside-{name}"):
        positions = [i for i, char in enumerate(text) if char not in "'\"`[]$"]
        positions = sorted(rng.sample(positions, min(len(positions), rng.randint(1, 4))))
        assert outside_tokens(text, positions, lexicon) == \
            reference_outside(text, positions, lexicon), (text, positions)


@pytest.mark.parametrize("name", sorted(LEXICONS))
def test_outside_tokens_at_every_position(name):
    """Many positions in one stretch the fast path reads, several inside one string:
    each is answered on from the one before it, and as the full lexer answers it."""
    lexicon = LEXICONS[name]
    for _rng, text in random_texts(f"dense-{name}", 1000):
        text = "SELECT 'a -- b', x - 1;\n" * 3 + text + "\nSELECT 'c\n-- npa:down\n';"
        positions = [i for i, char in enumerate(text) if char not in "'\"`[]$"]
        assert outside_tokens(text, positions, lexicon) == \
            reference_outside(text, positions, lexicon), text


@pytest.mark.parametrize("name", ["portable", "postgresql", "mysql"])
def test_markers_inside_strings_and_comments_are_text(name):
    """A ``-- npa:`` line inside a string, a quoted name, a dollar body or a comment is
    not a marker, after a long stretch the fast path reads."""
    lexicon = LEXICONS[name]
    dump = "INSERT INTO t VALUES (1, 'a;b', 'it''s');\n" * 200
    hidden = {
        "portable": "SELECT '\n-- npa:down\n';\n",
        "postgresql": "SELECT $$\n-- npa:down\n$$;\n/* \n-- npa:down\n */\n",
        "mysql": "SELECT 'it\\'s\n-- npa:down\n';\nSELECT \"\n-- npa:down\n\";\n",
    }[name]
    text = f"-- npa:up\n{dump}{hidden}{dump}-- npa:down\nDROP TABLE t;\n"
    sections = find_sections(text, lexicon)
    assert sections.down is not None and sections.down.strip() == "DROP TABLE t;"
    assert hidden in sections.up
    with pytest.raises(MigrationSourceError, match="lines"):  # a real second one counts
        find_sections(text.replace(hidden, hidden + "-- npa:down\n"), lexicon)


def test_mysql_delimiter_after_a_long_dump():
    """A ``DELIMITER`` block after statements the fast path reads splits at its delimiter."""
    mysql = pytest.importorskip("npa_mysql.sqltext")
    dump = "INSERT INTO t VALUES (1, 'a;b');\n" * 50
    text = (dump + "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\n"
            "DELIMITER ;\n" + dump)
    statements = mysql.split_mysql(text)
    assert len(statements) == 101
    assert statements[50] == "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"


@pytest.mark.parametrize("text", ["SELECT 'a;b\\", 'SELECT "a;b\\'])
def test_a_string_cut_after_a_backslash_is_still_open(text):
    """Text read so far may end inside a string, right after the backslash of an escape:
    the string runs on (nothing of it is split; the whole text is an unclosed string),
    never code whose ';' ends a statement."""
    lexicon = LEXICONS["mysql"]
    assert split_complete("SELECT 1;" + text, lexicon) == (["SELECT 1"], [0, 8], 9)
    with pytest.raises(SqlSplitError, match="never closed"):
        split_statements(text, lexicon=lexicon)
