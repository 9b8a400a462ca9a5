"""Autogenerate round trips on SQLite, PostgreSQL and MariaDB (docs/autogenerate.md).

For each version of the shop's models (tests/shop_models.py): autogenerate a migration
from what the earlier ones build, write it, apply it with post-execution verification on
-- then ``check`` finds no difference and ``drift --model`` none on the live database.
Rolling the migrations back one by one returns the database to each earlier version.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.schema.autogen import autogenerate
from npa_migrations.schema.codegen import render_migration

import shop_models
from server_databases import database_of

DOC = Path(__file__).resolve().parents[1] / "docs" / "autogenerate.md"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request, tmp_path):
    """An empty database of each kind: yields its URL."""
    with database_of(request.param, tmp_path, "npa_autogen") as url:
        yield url


def versions(url) -> list[tuple[str, sa.MetaData]]:
    """The model versions for this database, each with the name of its migration."""
    backend = sa.engine.make_url(url).get_backend_name()
    partial = backend in ("sqlite", "postgresql")
    return [("InitialShop", shop_models.version_1()),
            ("SprintChanges", shop_models.version_2(partial)),
            ("KeysAndSchemas", shop_models.version_3(partial, schemas=backend == "postgresql"))]


def write_migration(folder: Path, stamp: int, name: str, source: str) -> Path:
    path = folder / f"2025010{stamp}000000_{name.lower()}.py"
    path.write_text(source, encoding="utf-8")
    return path


def executor(url, folder: Path) -> MigrationExecutor:
    return MigrationExecutor(url, folder, MigrationExecutorOptions(verify=True))


def test_models_round_trip(database, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    steps = versions(database)
    for stamp, (name, metadata) in enumerate(steps, 1):
        result = autogenerate(executor(database, folder), metadata)
        assert result.changes, name
        write_migration(folder, stamp, name, render_migration(name, result,
                                                              executor(database, folder).provider))
        run = executor(database, folder)
        applied = run.execute()
        assert applied.success, applied.errors
        again = autogenerate(executor(database, folder), metadata)
        assert again.differences == [], again.lines()  # npa migrate check passes
        assert run.drift(metadata).differences == [], run.drift(metadata).lines()
    for name, metadata in reversed(steps[:-1]):
        run = executor(database, folder)
        rolled = run.rollback()
        assert rolled.success, rolled.errors
        assert run.drift(metadata).differences == [], (name, run.drift(metadata).lines())
    run = executor(database, folder)
    assert run.rollback().success
    assert run.drift(sa.MetaData()).differences == []


def test_against_the_database_after_hand_made_changes(database, tmp_path):
    """``--database``: the models compared with the live schema, not the migrations."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    metadata = shop_models.version_1()
    result = autogenerate(executor(database, folder), metadata)
    write_migration(folder, 1, "InitialShop",
                    render_migration("InitialShop", result, executor(database, folder).provider))
    assert executor(database, folder).execute().success
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE coupons ADD COLUMN legacy_flag INTEGER"))
    engine.dispose()
    live = autogenerate(executor(database, folder), metadata, database=True)
    assert [d.kind + " " + d.where for d in live.differences] == [
        "extra column coupons.legacy_flag"]
    assert autogenerate(executor(database, folder), metadata).differences == []
    write_migration(folder, 2, "DropLegacyFlag",
                    render_migration("DropLegacyFlag", live, executor(database, folder).provider))
    assert executor(database, folder).execute().success
    assert autogenerate(executor(database, folder), metadata, database=True).differences == []


def test_docs_show_the_generated_sprint_migration(tmp_path):
    """docs/autogenerate.md quotes what autogenerate writes for version 2 on SQLite."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    url = f"sqlite:///{tmp_path / 'doc.db'}"
    first = autogenerate(executor(url, folder), shop_models.version_1())
    write_migration(folder, 1, "InitialShop",
                    render_migration("InitialShop", first, executor(url, folder).provider))
    sprint = autogenerate(executor(url, folder), shop_models.version_2())
    sprint.current_from, sprint.target_from = "1 migration in migrations", "shop.models:Base"
    source = render_migration("SprintChanges", sprint, executor(url, folder).provider)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert source in blocks, ("docs/autogenerate.md does not show the current output; "
                              "paste this in:\n" + source)
