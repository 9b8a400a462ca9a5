"""``npa migrate squash FROM TO NAME``: the command body (see
:mod:`npa_migrations.schema.squashed` for what a squash holds and what it refuses)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from . import Context


def write_squash(obj: "Context", start: str, end: str, name: str) -> list[str]:
    """Write the squash of the migrations ``start`` to ``end`` next to the newest of them,
    check that it loads back to the same operations, and return the lines to print."""
    from ..schema import squashed
    from . import migration_names

    class_name, snake = migration_names(name)
    executor = obj.executor()
    scripts = executor.discover()
    squash = squashed.choose(scripts, executor.resolve_target(start),
                             executor.resolve_target(end), class_name)
    newest = squash.replaced[-1]
    path = Path(newest.source).parent / f"{newest.timestamp}_{snake}.py"
    if path.exists():
        raise click.UsageError(f"{path} already exists; choose another NAME.")
    try:
        path.write_text(squashed.render(squash, executor.provider), encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"Cannot create {path}: {exc.strerror or exc}.") from exc
    try:
        _check_written(path, squash)
    except BaseException:
        path.unlink()
        raise
    ids = [s.id for s in squash.replaced]
    return [f"Created {path}",
            f"{squash.migration_id} replaces {len(ids)} migrations: {ids[0]} ... {ids[-1]}.",
            "A database that applied them all counts it as applied (the next 'up' records "
            "it); a fresh database runs only it. Keep the replaced files until every "
            "database has applied them (they are skipped), then delete them."]


def _check_written(path: Path, squash) -> None:
    """The written file must give exactly the operations of the migrations it replaces."""
    from ..builtin.sources import load_python_migrations, module_name

    try:
        written = load_python_migrations(path, None)
    finally:
        sys.modules.pop(module_name(path, None), None)

    def canonical(operations):
        return None if operations is None else [op.canonical() for op in operations]

    script = written[0] if len(written) == 1 else None
    if script is None or (canonical(script.up_operations()), canonical(
            script.down_operations())) != (canonical(squash.up_operations()),
                                           canonical(squash.down_operations())):
        raise ConfigurationError(
            f"The squash written to {path} does not load back to the operations of the "
            "migrations it replaces (a column or value the writer cannot express?), so it "
            "was not kept. Squash a smaller range, or write the squash by hand.")
