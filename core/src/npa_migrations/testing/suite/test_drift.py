"""Drift detection and post-execution verification read the schema back exactly: names
with quotes, backticks, line breaks, semicolons and ``%`` pass verification, and a
clean database shows no drift."""

from __future__ import annotations

from ..requirements import requires
from .base import SuiteTest

__all__ = ["TestHostileNamesReadBack"]


@requires.quotes_in_identifiers
@requires.reads_back_hostile_names
class TestHostileNamesReadBack(SuiteTest):
    """Every kind of object the comparison reads, named with what quoting must carry."""

    PARENT = 'npat_pa"r`ent\nx'
    TABLE = "npat_ch`i\"ld; 5%"
    NAMES = {"id": 'i"d\nx', "parent": "pa`rent_id", "qty": 'q"t`y; 1%\nx',
             "added": "ad`ded\nx", "renamed": 're"named`\nx'}
    UNIQUE = 'npat_uq "u`v\nx'
    CHECK = 'npat_ck "c`d\nx'
    FK = 'npat_fk "x`y\nx'
    INDEX = 'npat_ix "i`j\nx'
    LATE_FK = 'npat_fk2 "late`\nx'

    def test_verified_on_the_way_up_and_down_and_no_drift(self):
        n = self.NAMES
        self.folder.python("20250101000000_CreateHostile", f"""
            b.create_table({self.PARENT!r}, sa.Column({n["id"]!r}, sa.Integer,
                                                      primary_key=True, autoincrement=False))
            b.create_table(
                {self.TABLE!r},
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column({n["parent"]!r}, sa.Integer),
                sa.Column({n["qty"]!r}, sa.Integer, nullable=False, server_default="0"),
                sa.UniqueConstraint({n["qty"]!r}, name={self.UNIQUE!r}),
                sa.CheckConstraint("id > 0", name={self.CHECK!r}),
                sa.ForeignKeyConstraint([{n["parent"]!r}], [{self.PARENT!r} + "." + {n["id"]!r}],
                                        name={self.FK!r}))
            b.create_index({self.INDEX!r}, {self.TABLE!r}, [{n["parent"]!r}, {n["qty"]!r}])
        """, f"""
            b.drop_table({self.TABLE!r})
            b.drop_table({self.PARENT!r})
        """)
        self.folder.python("20250102000000_ChangeHostile", f"""
            b.add_column({self.TABLE!r}, sa.Column({n["added"]!r}, sa.Integer))
            b.create_foreign_key({self.LATE_FK!r}, {self.TABLE!r}, {self.PARENT!r},
                                 [{n["added"]!r}], [{n["id"]!r}])
            b.rename_column({self.TABLE!r}, {n["qty"]!r}, {n["renamed"]!r})
        """, f"""
            b.rename_column({self.TABLE!r}, {n["renamed"]!r}, {n["qty"]!r})
            b.drop_constraint({self.LATE_FK!r}, {self.TABLE!r}, type_="foreignkey")
            b.drop_column({self.TABLE!r}, {n["added"]!r})
        """)
        self.up(verify=True)
        self.assert_no_drift()
        self.down(verify=True)
        self.assert_no_drift()
        self.down(verify=True)
        assert self.db.tables() == set()

    def assert_no_drift(self) -> None:
        report = self.executor().drift()
        ours = [d for d in report.differences if d.table in (self.PARENT, self.TABLE)]
        assert ours == [], "\n".join(report.lines())
