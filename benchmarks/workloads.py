"""Workload generators: the same schema change written as npa SQL files, npa Python
migrations (builder), and Alembic revisions (raw SQL and ``op`` calls).

Every migration ``i`` creates table ``tNNNNNN`` (an integer primary key and a
``VARCHAR(100) NOT NULL`` column) plus an index on that column; its down step drops the
table. The raw-driver worker executes exactly the statements of the SQL files.
"""

from __future__ import annotations

from pathlib import Path

BASE_TIMESTAMP = 20240101000000


def table(i: int) -> str:
    return f"t{i:06d}"


def up_statements(i: int) -> list[str]:
    t = table(i)
    return [f"CREATE TABLE {t} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)",
            f"CREATE INDEX ix_{t}_name ON {t} (name)"]


def down_statements(i: int) -> list[str]:
    return [f"DROP TABLE {table(i)}"]


def migration_id(i: int) -> str:
    # 14-digit timestamps, one second apart (valid as long as i < 60: use plain counting;
    # npa only needs 14 digits that sort, not a real calendar time)
    return f"{BASE_TIMESTAMP + i:014d}_M{i:06d}"


def write_sql(directory: Path, n: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        up = ";\n".join(up_statements(i))
        down = ";\n".join(down_statements(i))
        (directory / f"{BASE_TIMESTAMP + i:014d}_m{i:06d}.sql").write_text(
            f"-- npa:up\n{up};\n-- npa:down\n{down};\n", encoding="utf-8")
    return directory


def write_python(directory: Path, n: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        t = table(i)
        (directory / f"{BASE_TIMESTAMP + i:014d}_m{i:06d}.py").write_text(f'''\
import sqlalchemy as sa
from npa_migrations import Migration


class M{i:06d}(Migration):
    def up(self, b):
        b.create_table("{t}",
                       sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                       sa.Column("name", sa.String(100), nullable=False))
        b.create_index("ix_{t}_name", "{t}", ["name"])

    def down(self, b):
        b.drop_table("{t}")
''', encoding="utf-8")
    return directory


ALEMBIC_ENV = '''\
from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(context.config.get_main_option("sqlalchemy.url"),
                       poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
'''


def write_alembic(directory: Path, n: int, style: str) -> Path:
    """An Alembic script directory with ``n`` chained revisions. ``style`` is ``sql``
    (``op.execute`` of the same statements as the SQL files) or ``ops`` (``op.create_table``
    and ``op.create_index``, like the npa builder migrations)."""
    versions = directory / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (directory / "env.py").write_text(ALEMBIC_ENV, encoding="utf-8")
    previous = None
    for i in range(n):
        t = table(i)
        rev = f"r{i:06d}"
        if style == "sql":
            up = "\n".join(f"    op.execute({s!r})" for s in up_statements(i))
            down = "\n".join(f"    op.execute({s!r})" for s in down_statements(i))
        else:
            up = (f'    op.create_table("{t}", sa.Column("id", sa.Integer, primary_key=True, '
                  f'autoincrement=False), sa.Column("name", sa.String(100), nullable=False))\n'
                  f'    op.create_index("ix_{t}_name", "{t}", ["name"])')
            down = f'    op.drop_table("{t}")'
        (versions / f"{rev}.py").write_text(f'''\
import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {previous!r}
branch_labels = None
depends_on = None


def upgrade():
{up}


def downgrade():
{down}
''', encoding="utf-8")
        previous = rev
    return directory


def write_bulk_python(directory: Path, rows: int) -> Path:
    """One migration that bulk-inserts ``rows`` rows streamed from a generator."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{BASE_TIMESTAMP:014d}_bulk.py").write_text(f'''\
import sqlalchemy as sa
from npa_migrations import Migration


def rows():
    for i in range({rows}):
        yield {{"id": i, "name": "name-%d" % i, "qty": i % 1000}}


class Bulk(Migration):
    def up(self, b):
        b.bulk_insert("bulk", rows(), columns=["id", "name", "qty"])

    def down(self, b):
        b.execute("DELETE FROM bulk")
''', encoding="utf-8")
    return directory


def write_rebuild_python(directory: Path) -> Path:
    """One migration whose alter_column needs a SQLite table rebuild."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{BASE_TIMESTAMP:014d}_rebuild.py").write_text('''\
import sqlalchemy as sa
from npa_migrations import Migration


class Rebuild(Migration):
    def up(self, b):
        b.alter_column("big", "name", type_=sa.String(200), nullable=True)
''', encoding="utf-8")
    return directory


BIG_TABLE = "big_load"


def big_statements(n: int) -> list[str]:
    """``CREATE TABLE`` and ``n - 1`` single-row ``INSERT``s (about 130 bytes each): a data
    dump. Strings hold doubled quotes; every 50th a ``;`` and every 100th row is preceded
    by a ``--`` comment line, so the splitter has to read what it splits."""
    out = [f"CREATE TABLE {BIG_TABLE} (id INTEGER NOT NULL PRIMARY KEY, "
           "name VARCHAR(200) NOT NULL, note VARCHAR(200))"]
    for i in range(1, n):
        name = f"customer {i} of the big load; part {i % 7}" if i % 50 == 0 else \
            f"customer number {i} of the big load"
        row = (f"INSERT INTO {BIG_TABLE} (id, name, note) VALUES "
               f"({i}, '{name}', 'it''s row {i}, written by the dump tool')")
        out.append(f"-- rows from page {i // 100}\n{row}" if i % 100 == 0 else row)
    return out


def write_big_sql(directory: Path, n: int) -> tuple[Path, Path, Path]:
    """One npa migration of :func:`big_statements`, plus the same statements as plain
    scripts for the database clients, each in one transaction like npa's run:
    ``(migrations folder, script for psql --single-transaction, script for mariadb)``."""
    migrations = directory / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    statements = big_statements(n)
    body = "".join(f"{s};\n" for s in statements)
    (migrations / f"{BASE_TIMESTAMP:014d}_big_load.sql").write_text(
        f"-- npa:up\n{body}-- npa:down\nDROP TABLE {BIG_TABLE};\n", encoding="utf-8")
    plain = directory / "big_load.sql"
    plain.write_text(body, encoding="utf-8")
    mysql = directory / "big_load_mysql.sql"
    mysql.write_text(f"{statements[0]};\nSTART TRANSACTION;\n"
                     + "".join(f"{s};\n" for s in statements[1:]) + "COMMIT;\n",
                     encoding="utf-8")
    return migrations, plain, mysql
