"""MySQL's and MariaDB's schema rules (no server needed): type spellings, the index
behind a foreign key, MariaDB's json_valid check, doubled backticks."""

from __future__ import annotations

import sqlalchemy as sa

from npa_migrations.schema.model import (CheckModel, ColumnModel, ForeignKeyModel, IndexModel,
                                         TableModel)
from npa_mysql.provider import MysqlProvider


def rules():
    return MysqlProvider(sa.engine.make_url("mariadb+pymysql://u@h/db")).schema_rules


def test_type_spellings():
    r = rules()
    assert r.normalise_type("INTEGER(11)") == r.normalise_type("INT") == "INTEGER"
    assert r.compare_type("TINYINT(1)", "BOOL")
    assert r.normalise_type("DECIMAL(10, 2)") == "NUMERIC(10,2)"
    assert r.compare_type("DECIMAL", "NUMERIC(10,0)")
    assert r.compare_type("JSON", "LONGTEXT")
    assert r.normalise_type("VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin") == \
        "VARCHAR(10)"
    assert not r.compare_type("TINYINT(1)", "TINYINT UNSIGNED")


def test_doubled_backticks_are_undone():
    assert rules().reflected_name("a``b") == "a`b"
    assert rules().reflected_name(None) is None


def test_objects_the_server_made_by_itself_are_dropped():
    table = TableModel("t", columns={})
    table.foreign_keys.append(ForeignKeyModel("fk_t_p", ("p_id",), None, "p", ("id",)))
    table.indexes = {"fk_t_p": IndexModel("fk_t_p", ("p_id",)),
                     "ix_mine": IndexModel("ix_mine", ("p_id",)),
                     "ix_unique": IndexModel("p_id", ("p_id",), unique=True)}
    table.columns["data"] = ColumnModel("data")
    table.checks = [CheckModel("data", "json_valid(`data`)"),
                    CheckModel("ck_own", "json_valid(`data`)"),
                    CheckModel("ck_qty", "`qty` > 0")]

    class Definition:
        def fetchone(self):
            return "t", "CREATE TABLE `t` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB"

    class NoBreaks:
        """A connection that has no names with line breaks."""

        dialect = sa.dialects.mysql.pymysql.dialect()

        def exec_driver_sql(self, *args, **kwargs):
            return Definition()

    rules().correct_reflected([table], NoBreaks(), None)
    assert sorted(table.indexes) == ["ix_mine", "ix_unique"]
    assert [c.name for c in table.checks] == ["ck_own", "ck_qty"]
