"""Writing migration files for one test into a temporary folder.

The ``npa_migrations_folder`` fixture is a :class:`MigrationFolder`::

    folder.python("20250101000000_CreateThings",
                  up='b.create_table("npat_things", sa.Column("id", sa.Integer, primary_key=True))',
                  down='b.drop_table("npat_things")')
    folder.sql("20250102000000_add_rows", up="INSERT INTO npat_things (id) VALUES (1);")

Python migrations get ``import sqlalchemy as sa`` and ``from npa_migrations import
Migration``; ``up``/``down`` are the bodies of the two methods (``b`` is the builder).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

from ..migration import MIGRATION_ID

_PYTHON = '''\
import sqlalchemy as sa
from npa_migrations import Migration


class {cls}(Migration):
    id = {id!r}
{attrs}
    def up(self, b):
{up}
{down}'''


def _body(code: str) -> str:
    code = textwrap.dedent(code).strip("\n")
    return textwrap.indent(code or "pass", " " * 8)


class MigrationFolder:
    """A folder of migration files for one test.

    :ivar path: the folder (pass it as ``migrations=`` to ``MigrationExecutor``).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def write(self, file_name: str, text: str) -> Path:
        """Write a file as given (dedented)."""
        path = self.path / file_name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        self._forget_bytecode()
        return path

    def _forget_bytecode(self) -> None:
        """Drop cached bytecode, so a file rewritten within the same second with the same
        size is not loaded from a stale ``.pyc``."""
        shutil.rmtree(self.path / "__pycache__", ignore_errors=True)

    def python(self, migration_id: str, up: str, down: str | None = "", *,
               depends_on: tuple[str, ...] = (), **attrs: Any) -> str:
        """Write ``<migration_id>.py`` with one :class:`~npa_migrations.Migration` class.

        :param up: body of ``up(self, b)``.
        :param down: body of ``down(self, b)``; ``None`` writes no ``down`` (the migration
            cannot be rolled back).
        :param attrs: more class attributes, e.g. ``transactional=False``.
        :returns: the migration id.
        """
        match = MIGRATION_ID.match(migration_id)
        if not match:
            raise ValueError(f"not a migration id: {migration_id!r}")
        lines = [f"    {k} = {v!r}" for k, v in sorted(attrs.items())]
        if depends_on:
            lines.append(f"    depends_on = {tuple(depends_on)!r}")
        down_code = ("" if down is None else
                     f"\n    def down(self, b):\n{_body(down)}\n")
        text = _PYTHON.format(cls=match["name"], id=migration_id,
                              attrs="\n".join(lines) + ("\n" if lines else ""),
                              up=_body(up), down=down_code)
        (self.path / f"{migration_id}.py").write_text(text, encoding="utf-8")
        self._forget_bytecode()
        return migration_id

    def sql(self, name: str, up: str, down: str | None = None, *,
            no_transaction: bool = False) -> str:
        """Write ``<name>.sql`` with ``-- npa:up`` / ``-- npa:down`` sections.

        :param name: ``<14-digit timestamp>_<snake_name>``.
        :returns: the migration id the discovery gives it (``<timestamp>_<CamelName>``
            for a snake_case name, else ``name`` itself).
        """
        from ..builtin.sqlfile import sql_migration_id

        parts = []
        if no_transaction:
            parts.append("-- npa:no-transaction")
        parts += ["-- npa:up", textwrap.dedent(up).strip("\n")]
        if down is not None:
            parts += ["-- npa:down", textwrap.dedent(down).strip("\n")]
        migration_id = sql_migration_id(name)
        if migration_id is None:
            raise ValueError(f"{name!r}: a .sql migration's name starts with a 14-digit "
                             "timestamp and '_'")
        (self.path / f"{name}.sql").write_text("\n".join(parts) + "\n", encoding="utf-8")
        return migration_id

    def remove(self, migration_id_or_name: str) -> None:
        """Delete the file(s) of a migration (by id or file stem)."""
        stem_ts = migration_id_or_name[:14]
        removed = False
        for path in self.path.iterdir():
            if path.suffix in (".py", ".sql") and (path.stem == migration_id_or_name
                                                   or path.stem[:14] == stem_ts):
                path.unlink()
                removed = True
        self._forget_bytecode()
        if not removed:
            raise FileNotFoundError(migration_id_or_name)
