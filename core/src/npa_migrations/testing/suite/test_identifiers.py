"""Identifiers: names with quotes, spaces, semicolons and reserved words round-trip
exactly; empty or too long names are a ConfigurationError and change nothing."""

from __future__ import annotations

import pytest

from ...errors import ConfigurationError
from ..requirements import requires
from .base import SuiteTest, assert_success

__all__ = ["TestHostileIdentifiers", "TestReservedWordIdentifiers", "TestBadIdentifiers",
           "TestEngineTableNames"]


class _RoundTrip(SuiteTest):
    """Subclasses set the names; one migration creates, a second renames and adds."""

    PARENT: str
    TABLE: str
    RENAMED: str
    COLUMNS: list[str]
    NEW_COLUMN: str
    ADDED: str
    INDEX: str
    UNIQUE: str
    FK: str

    def test_round_trip(self):
        columns = self.COLUMNS
        rows = [{"id": n, "parent_id": 1, **{c: f"{c} {n}" for c in columns}} for n in (1, 2)]
        self.folder.python("20250101000000_CreateHostile", f"""
            columns = {columns!r}
            b.create_table({self.PARENT!r}, sa.Column("id", sa.Integer, primary_key=True,
                                                      autoincrement=False))
            b.create_table(
                {self.TABLE!r},
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("parent_id", sa.Integer),
                *[sa.Column(c, sa.String(40)) for c in columns],
                sa.UniqueConstraint(columns[1], name={self.UNIQUE!r}),
                sa.ForeignKeyConstraint(["parent_id"], [{self.PARENT + ".id"!r}],
                                        name={self.FK!r}))
            b.create_index({self.INDEX!r}, {self.TABLE!r}, [columns[0], columns[2]])
            b.bulk_insert({self.PARENT!r}, [{{"id": 1}}])
            b.bulk_insert({self.TABLE!r}, {rows!r})
        """, f"""
            b.drop_table({self.TABLE!r})
            b.drop_table({self.PARENT!r})
        """)
        self.folder.python("20250102000000_RenameHostile", f"""
            b.rename_column({self.TABLE!r}, {columns[0]!r}, {self.NEW_COLUMN!r})
            b.rename_table({self.TABLE!r}, {self.RENAMED!r})
            b.add_column({self.RENAMED!r}, sa.Column({self.ADDED!r}, sa.Integer))
        """, f"""
            b.drop_column({self.RENAMED!r}, {self.ADDED!r})
            b.rename_table({self.RENAMED!r}, {self.TABLE!r})
            b.rename_column({self.TABLE!r}, {self.NEW_COLUMN!r}, {columns[0]!r})
        """)
        db = self.db
        self.up(target="20250101000000")
        self.assert_created(self.TABLE, ["id", "parent_id", *columns], rows)
        self.up()
        renamed = [self.NEW_COLUMN, *columns[1:]]
        assert db.tables() == {self.PARENT, self.RENAMED}
        assert db.column_names(self.RENAMED) == ["id", "parent_id", *renamed, self.ADDED]
        assert db.rows(self.RENAMED, ["id", *renamed]) == [
            (r["id"], *[r[c] for c in columns]) for r in rows]
        self.down()
        self.assert_created(self.TABLE, ["id", "parent_id", *columns], rows)
        self.down()
        assert db.tables() == set()

    def assert_created(self, table: str, names: list[str], rows: list[dict]) -> None:
        db = self.db
        columns = self.COLUMNS
        assert db.tables() == {self.PARENT, table}
        assert db.column_names(table) == names
        index = db.indexes(table).get(self.INDEX)
        assert index is not None, db.indexes(table)
        assert index["column_names"] == [columns[0], columns[2]]
        assert self.UNIQUE in db.unique_names(table)
        fk = db.foreign_key(table, self.FK)
        assert fk is not None, db.foreign_keys(table)
        assert fk["referred_table"] == self.PARENT
        assert db.rows(table, names) == [tuple(r[n] for n in names) for r in rows]
        db.assert_insert_rejected(table, {"id": 3, columns[1]: rows[0][columns[1]]})


@requires.quotes_in_identifiers
class TestHostileIdentifiers(_RoundTrip):
    PARENT = "npat_pa'rent; x"
    TABLE = "npat_we\"ird; tab'le 100%"
    RENAMED = 'npat_re"named; t%s'
    COLUMNS = ["sel ect", "order", "MixedCase", 'quo"te', "semi;colon", "apos'trophe",
               "50% off"]
    NEW_COLUMN = 'new "name;'
    ADDED = "group"
    INDEX = "npat_ix \"we;ird's"
    UNIQUE = "npat_uq u;v's"
    FK = "npat_fk x;y's"

    @requires.reflects_quoted_constraint_names
    def test_constraint_names_with_double_quotes(self):
        names = {"unique": 'npat_uq "u;v', "check": 'npat_ck "c;d', "fk": 'npat_fk "x;y'}
        self.folder.python("20250101000000_CreateQuoted", f"""
            b.create_table({self.PARENT!r}, sa.Column("id", sa.Integer, primary_key=True,
                                                      autoincrement=False))
            b.create_table(
                {self.TABLE!r},
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("parent_id", sa.Integer),
                sa.Column("qty", sa.Integer),
                sa.UniqueConstraint("qty", name={names["unique"]!r}),
                sa.CheckConstraint("qty >= 0", name={names["check"]!r}),
                sa.ForeignKeyConstraint(["parent_id"], [{self.PARENT + ".id"!r}],
                                        name={names["fk"]!r}))
        """, f"""
            b.drop_table({self.TABLE!r})
            b.drop_table({self.PARENT!r})
        """)
        self.up()
        assert names["unique"] in self.db.unique_names(self.TABLE)
        assert names["check"] in self.db.check_constraints(self.TABLE)
        fk = self.db.foreign_key(self.TABLE, names["fk"])
        assert fk is not None, self.db.foreign_keys(self.TABLE)
        assert fk["referred_table"] == self.PARENT
        self.down()
        assert self.db.tables() == set()


class TestReservedWordIdentifiers(_RoundTrip):
    PARENT = "npat_user"
    TABLE = "npat_select from"
    RENAMED = "npat_table where"
    COLUMNS = ["select", "order", "Mixed Case", "from", "group"]
    NEW_COLUMN = "where"
    ADDED = "table"
    INDEX = "npat_ix index"
    UNIQUE = "npat_uq unique"
    FK = "npat_fk references"


class TestBadIdentifiers(SuiteTest):
    """A name the database cannot hold is refused with a ConfigurationError before it
    changes anything (also on databases without transactional DDL)."""

    def bad_name(self, kind: str) -> str:
        if kind == "empty":
            return ""
        limit = self.provider.sql.max_identifier_length()
        return "npat_" + "x" * (limit - len("npat_") + 1)

    @pytest.mark.parametrize("kind", ["empty", "too_long"])
    @pytest.mark.parametrize("where", ["table", "column", "index", "rename_table",
                                       "rename_column", "foreign_key"])
    def test_refused_and_nothing_changes(self, kind, where):
        self.folder.python("20250101000000_CreateOk", """
            b.create_table("npat_ok", sa.Column("id", sa.Integer, primary_key=True,
                                                autoincrement=False))
        """, 'b.drop_table("npat_ok")')
        self.up()
        self.db.insert("npat_ok", {"id": 1})
        before = self.db.snapshot()
        name = self.bad_name(kind)
        bad = {
            "table": f'b.create_table({name!r}, sa.Column("id", sa.Integer))',
            "column": f'b.add_column("npat_partial", sa.Column({name!r}, sa.Integer))',
            "index": f'b.create_index({name!r}, "npat_partial", ["id"])',
            "rename_table": f'b.rename_table("npat_ok", {name!r})',
            "rename_column": f'b.rename_column("npat_ok", "id", {name!r})',
            "foreign_key": f'b.create_foreign_key({name!r}, "npat_partial", "npat_ok", '
                           '["id"], ["id"])',
        }[where]
        migration_id = self.folder.python("20250102000000_BadName", f"""
            b.create_table("npat_partial", sa.Column("id", sa.Integer))
            b.bulk_insert("npat_ok", [{{"id": 2}}])
            {bad}
        """, 'b.drop_table("npat_partial")')
        error = self.configuration_error(migration_id)
        assert ("empty" in error or "long" in error), error
        assert self.db.snapshot() == before

    def configuration_error(self, migration_id: str) -> str:
        """Run; the run must fail with a ConfigurationError (raised, or as the cause of
        the migration's error). Returns its message."""
        try:
            result = self.executor().execute()
        except ConfigurationError as exc:
            return str(exc)
        assert not result.success, "a bad identifier was accepted"
        assert [e.migration_id for e in result.errors] == [migration_id]
        error = result.errors[0].exception
        cause = getattr(error, "original", None) or getattr(error, "__cause__", None)
        assert isinstance(error, ConfigurationError) or isinstance(cause, ConfigurationError), (
            f"expected a ConfigurationError, got {error!r} caused by {cause!r}")
        return str(cause if isinstance(cause, ConfigurationError) else error)


class TestEngineTableNames(SuiteTest):
    """The engine's own tables (history, event log, lock) under configured names with a
    ``%`` and a space: apply, status, the event log and rollback all work (a
    ``format``-paramstyle driver must not see a doubled ``%%``)."""

    NAMES = {"history_table": "npat_hist%ory t", "log_table": "npat_lo%g t",
             "lock_table": "npat_lo%ck t"}

    def test_apply_status_log_and_rollback(self):
        self.folder.sql("20250101000000_One", "CREATE TABLE npat_one (id INT);",
                        "DROP TABLE npat_one;")
        executor = self.executor(**self.NAMES)
        assert_success(executor.execute())
        assert self.executor(**self.NAMES).status().current == "20250101000000_One"
        events = [e.event for e in self.executor(**self.NAMES).events()]
        assert events[-1] == "apply"
        assert_success(self.executor(**self.NAMES).rollback())
        assert self.executor(**self.NAMES).status().current is None
        assert "npat_one" not in self.db.tables()
