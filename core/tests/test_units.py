"""Pure engine logic: statement splitting, checksums, ordering, options, plugin overrides."""

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationBuilder, MigrationExecutorOptions, TransactionMode
from npa_migrations.errors import ConfigurationError, ValidationError
from npa_migrations.migration import MigrationScript, checksum_of
from npa_migrations.engine.ordering import order_migrations
from npa_migrations.sqltext import normalise, split_statements


@pytest.mark.parametrize("text, expected", [
    ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ("INSERT INTO t VALUES ('a;b'); SELECT \"x;y\" FROM t", ["INSERT INTO t VALUES ('a;b')",
                                                            'SELECT "x;y" FROM t']),
    ("SELECT 1; -- comment; here\nSELECT 2", ["SELECT 1", "-- comment; here\nSELECT 2"]),
    ("/* a; b */ SELECT 1;", ["/* a; b */ SELECT 1"]),
    ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2",
     ["CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"]),
    ("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; END; SELECT 1",
     ["CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; END", "SELECT 1"]),
    ("BEGIN; SELECT 1; COMMIT;", ["BEGIN", "SELECT 1", "COMMIT"]),
    ("SELECT CASE WHEN a THEN 1 END; SELECT 2", ["SELECT CASE WHEN a THEN 1 END", "SELECT 2"]),
    ("-- only a comment\n", []),
    ("SELECT `a;b` FROM t", ["SELECT `a;b` FROM t"]),
])
def test_split_statements(text, expected):
    assert split_statements(text) == expected


@pytest.mark.parametrize("control", [
    "CASE x WHEN 1 THEN SET y = 1; ELSE SET y = 2; END CASE;",
    "IF x > 0 THEN SET y = 1; END IF;",
    "l: LOOP LEAVE l; END LOOP;",
    "WHILE x > 0 DO SET x = x - 1; END WHILE;",
    "REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT;",
    "CASE WHEN x THEN SET y = CASE WHEN z THEN 1 END; END CASE;",
])
def test_control_statements_inside_a_body_keep_it_whole(control):
    """``END CASE`` / ``END IF`` / ``END LOOP`` ... close statements, not the body: the
    statement after the procedure is split off (``END CASE`` used to leave the depth
    one too high, so everything after it stuck to the procedure)."""
    body = f"CREATE PROCEDURE p() BEGIN {control} SELECT 1; END"
    assert split_statements(f"{body}; SELECT 2; SELECT 3") == [body, "SELECT 2", "SELECT 3"]


def test_lexicons():
    from npa_migrations.sqltext import Lexicon, mask, strip_comments

    mysql = Lexicon(hash_comments=True, dash_comment_needs_space=True, backslash_escapes=True,
                    executable_comments=True, dollar_quotes=False)
    assert split_statements("SELECT 'a\\'; b'; # c; d\nSELECT 2--3;", lexicon=mysql) == [
        "SELECT 'a\\'; b'", "# c; d\nSELECT 2--3"]
    tsql = Lexicon(brackets=True, nested_comments=True, backticks=False, dollar_quotes=False)
    assert split_statements("SELECT [a]];b] /* x /* y; */ z; */; SELECT 2", lexicon=tsql) == [
        "SELECT [a]];b] /* x /* y; */ z; */", "SELECT 2"]
    assert mask("SELECT 'a;b' /* c */ [d]", tsql) == "SELECT '   '         [ ]"
    assert strip_comments("SELECT 1 -- x\n/* y */", tsql) == "SELECT 1 \n"
    # a "$" inside a name does not open a dollar quote
    assert split_statements("SELECT a$b$c FROM t; SELECT 2") == ["SELECT a$b$c FROM t", "SELECT 2"]


def test_normalise_ignores_line_endings_and_trailing_blanks():
    assert normalise("a  \r\nb\r\n\r\n") == normalise("a\nb") == "a\nb"


def _script(up, down=None, **kw):
    return MigrationScript(id="20250101000000_X", source="x.py", build_up=up,
                           build_down=down, **kw)


def _ops(fn):
    b = MigrationBuilder()
    fn(b)
    return lambda: b.operations


def test_checksum_depends_on_what_not_how():
    one = _script(_ops(lambda b: b.add_column("t", sa.Column("c", sa.String(10)))))
    same = _script(_ops(lambda b: b.add_column("t", sa.Column("c", sa.String(length=10)))))
    other = _script(_ops(lambda b: b.add_column("t", sa.Column("c", sa.String(11)))))
    nullable = _script(_ops(lambda b: b.add_column("t", sa.Column("c", sa.String(10),
                                                                   nullable=False))))
    assert one.checksum == same.checksum
    assert len({one.checksum, other.checksum, nullable.checksum}) == 3
    assert one.checksum.startswith("sha256:") and len(one.checksum) == 7 + 64


def test_checksum_covers_down_and_defaults():
    a = _script(_ops(lambda b: b.create_table("t", sa.Column("id", sa.Integer,
                                                             server_default="1"))))
    b = _script(_ops(lambda b: b.create_table("t", sa.Column("id", sa.Integer,
                                                             server_default="2"))))
    c = _script(a.build_up, _ops(lambda b: b.drop_table("t")))
    assert len({a.checksum, b.checksum, c.checksum}) == 3


def test_checksum_of_text_and_payload():
    assert checksum_of("abc") == checksum_of("abc") != checksum_of("abd")
    assert checksum_of({"b": 1, "a": 2}) == checksum_of({"a": 2, "b": 1})


def _named(migration_id, depends=()):
    return MigrationScript(id=migration_id, source=f"{migration_id}.py", build_up=list,
                           build_down=None, depends_on=depends)


def test_order_by_timestamp_then_dependencies():
    scripts = [_named("20250103000000_C"), _named("20250101000000_A", ("20250103000000_C",)),
               _named("20250102000000_B")]
    assert [s.id for s in order_migrations(scripts)] == [
        "20250102000000_B", "20250103000000_C", "20250101000000_A"]


def test_unknown_dependency_and_cycle_name_ids():
    with pytest.raises(ValidationError, match="20250101000000_A.*20991231000000_Nope"):
        order_migrations([_named("20250101000000_A", ("20991231000000_Nope",))])
    with pytest.raises(ValidationError, match="cycle.*20250101000000_A, 20250102000000_B"):
        order_migrations([_named("20250101000000_A", ("20250102000000_B",)),
                          _named("20250102000000_B", ("20250101000000_A",))])


def test_options_parse_and_reject():
    assert MigrationExecutorOptions(transaction_mode="all_in_one").transaction_mode \
        is TransactionMode.ALL_IN_ONE
    with pytest.raises(ConfigurationError, match="per-migration, all-in-one, none"):
        MigrationExecutorOptions(transaction_mode="sometimes")
    with pytest.raises(ConfigurationError, match="error, apply, ignore"):
        MigrationExecutorOptions(out_of_order="maybe")


def test_builder_rejects_non_columns():
    with pytest.raises(TypeError, match="create_table\\('t'\\)"):
        MigrationBuilder().create_table("t", "id INTEGER")


def test_reverse_of_operations():
    b = MigrationBuilder()
    b.add_column("t", sa.Column("c", sa.Integer))
    b.create_index("ix", "t", ["c"])
    b.execute("UPDATE t SET c = 1")
    add, index, raw = b.operations
    assert add.reverse().kind == "drop_column" and add.reverse().column_name == "c"
    assert index.reverse().kind == "drop_index"
    assert raw.reverse() is None


def test_plugin_overrides_one_operation_for_one_provider(tmp_path):
    """A tryfirst npa_generate_sql implementation replaces SQL for one operation only."""
    from npa_migrations import MigrationExecutor, hookimpl
    from npa_migrations.operations import CreateIndex
    from npa_migrations.plugins import get_plugin_manager

    class Override:
        @hookimpl(tryfirst=True)
        def npa_generate_sql(self, provider, operation, context):
            if provider.name == "sqlite" and isinstance(operation, CreateIndex):
                return [f"CREATE INDEX IF NOT EXISTS {operation.name} ON {operation.table} "
                        f"({', '.join(operation.columns)})"]
            return None

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "20250101000000_a.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n"
        "class A(Migration):\n    def up(self, b):\n"
        "        b.create_table('t', sa.Column('c', sa.Integer))\n"
        "        b.create_index('ix_t_c', 't', ['c'])\n")
    manager = get_plugin_manager()
    plugin = Override()
    manager.register(plugin)
    try:
        script = MigrationExecutor(f"sqlite:///{tmp_path / 'x.db'}", folder).script(offline=True)
    finally:
        manager.unregister(plugin)
    assert "CREATE INDEX IF NOT EXISTS ix_t_c ON t (c)" in script
    assert "CREATE TABLE t" in script  # other operations untouched


def test_bad_identifiers_refused_before_anything_runs(tmp_path, monkeypatch):
    from npa_migrations import MigrationExecutor
    from npa_migrations.errors import ConfigurationError as CE

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "20250101000000_a.sql").write_text("-- npa:up\nCREATE TABLE first (id INTEGER);\n")
    (folder / "20250102000000_b.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n"
        "class B(Migration):\n    def up(self, b):\n"
        "        b.create_table('t', sa.Column('c', sa.Integer))\n"
        "        b.create_index('x' * 80, 't', ['c'])\n")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    executor = MigrationExecutor(url, folder)
    monkeypatch.setattr(executor.provider.dialect, "max_identifier_length", 63)
    with pytest.raises(CE, match="20250102000000_B.*index name 'x+' is 80 bytes long.*at most 63"):
        executor.execute()
    assert executor.status().applied == []  # not even the valid first migration
    with pytest.raises(CE, match="empty"):
        executor.provider.sql.check_identifier("", "table")
