"""The history table: its columns and what each applied migration records."""

from __future__ import annotations

import datetime as dt

from ... import __version__
from .base import SuiteTest

__all__ = ["TestHistoryTable"]

A, B = "20250101000000_CreateA", "20250102000000_add_b"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


class TestHistoryTable(SuiteTest):
    def write(self) -> str:
        self.folder.python(A, 'b.create_table("npat_a", sa.Column("id", sa.Integer))',
                           'b.drop_table("npat_a")')
        return self.folder.sql(B, "CREATE TABLE npat_b (id INTEGER);", "DROP TABLE npat_b;")

    def test_columns(self):
        self.write()
        self.up()
        columns = self.db.column_names(self.db.history_table)
        assert {"migration_id", "checksum", "applied_at", "execution_ms", "product_version",
                "success"} <= set(columns)
        assert self.db.primary_key(self.db.history_table) == ["migration_id"]

    def test_rows_of_applied_migrations(self):
        sql_id = self.write()
        before = utcnow() - dt.timedelta(minutes=2)
        executor = self.executor()
        assert executor.execute().success
        after = utcnow() + dt.timedelta(minutes=2)
        rows = self.db.history()
        assert [r["migration_id"] for r in rows] == [A, sql_id]
        checksums = {s.id: s.checksum for s in executor.discover()}
        for row in rows:
            assert row["checksum"].startswith("sha256:")
            assert len(row["checksum"]) == len("sha256:") + 64
            assert row["checksum"] == checksums[row["migration_id"]]
            assert row["success"] is True
            assert row["applied_at"] is not None
            assert before <= naive_utc(row["applied_at"]) <= after
            assert int(row["execution_ms"]) >= 0
            assert row["product_version"] == __version__

    def test_rollback_deletes_the_row(self):
        sql_id = self.write()
        self.up()
        self.down()
        assert [r["migration_id"] for r in self.db.history()] == [A]
        self.up()
        assert self.db.applied() == [A, sql_id]

    def test_status_reports_the_history(self):
        sql_id = self.write()
        self.up(target=A)
        status = self.executor().status()
        assert status.current == A
        assert [(a.id, a.success) for a in status.applied] == [(A, True)]
        assert status.applied[0].checksum == self.db.history()[0]["checksum"]
        assert status.pending == [sql_id]
