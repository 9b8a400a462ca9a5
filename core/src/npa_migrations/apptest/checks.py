"""The ready tests an application gets by enabling the plugin (docs/testing-your-migrations.md).

Each is a plain function of the plugin's fixtures; :class:`ReadyTests` collects them as
tests of the ``conftest.py`` that enabled the plugin, so that conftest's fixture overrides
(``npa_config``) apply to them, and ``-m "not npa_migrations"`` deselects them.

* ``test_npa_single_order`` -- every migration has exactly one place in the history:
  no dependency cycle, no unknown dependency, and no two migrations with the same
  timestamp where neither depends on the other (two branches merged: their order would
  be decided by their names).
* ``test_npa_stairway`` -- each migration in turn goes up, down and up again.
* ``test_npa_down_restores_schema`` -- after each migration's ``up`` and ``down``, the
  reflected schema is the one before its ``up``.
* ``test_npa_models_match`` -- the models (``npa_config.model``) match what the
  migrations build (``npa migrate check``); skipped when no model is configured.

A migration without ``down`` steps (irreversible) is applied and not stepped down; the
stairway and the schema test report it in a warning.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from .runner import MigrationRunFailed

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript
    from ..schema.model import SchemaModel
    from .runner import MigrationRunner, NpaTestConfig

#: the marker every ready test carries
MARKER = "npa_migrations"


class IrreversibleWarning(UserWarning):
    """A migration has no ``down`` steps, so the ready tests could not step it down."""


def test_npa_single_order(npa_runner: "MigrationRunner") -> None:
    """One order, no cycles (see the module docs)."""
    from ..errors import ValidationError

    problem = None
    try:
        scripts = npa_runner.migrations
    except ValidationError as exc:
        scripts, problem = [], str(exc)
    if problem is not None:
        pytest.fail(f"The migrations have no single order:\n{problem}", pytrace=False)
    ancestors = _ancestors(scripts)
    by_stamp: dict[str, list[str]] = {}
    for script in scripts:
        by_stamp.setdefault(script.timestamp, []).append(script.id)
    ambiguous = [(a, b) for ids in by_stamp.values() for i, a in enumerate(ids)
                 for b in ids[i + 1:] if a not in ancestors[b] and b not in ancestors[a]]
    if ambiguous:
        pairs = "\n".join(f"  {a} and {b}" for a, b in ambiguous)
        pytest.fail("These migrations share a timestamp and neither depends on the other, "
                    f"so only their names order them (two branches merged?):\n{pairs}\n"
                    "Give one a newer timestamp (rename the file), or add depends_on.",
                    pytrace=False)


def test_npa_stairway(npa_runner: "MigrationRunner") -> None:
    """Each migration goes up, down and up again."""
    for script in _walk(npa_runner):
        _step(f"down() of {script.id}", lambda: npa_runner.down())
        _step(f"up() of {script.id} after its down()", lambda: npa_runner.up(script.id))


def test_npa_down_restores_schema(npa_runner: "MigrationRunner") -> None:
    """``down`` of each migration leaves the schema as it was before its ``up``."""
    from ..schema.compare import Comparator
    from ..schema.drift import engine_tables

    executor = npa_runner.executor()
    ignore = engine_tables(executor.options)
    before = _as_declared(npa_runner.schema())
    for script in _walk(npa_runner):
        _step(f"down() of {script.id}", lambda: npa_runner.down())
        after = npa_runner.schema()
        differences = Comparator(executor.provider).compare(before, after, ignore)
        if differences:
            lines = "\n".join(f"  {d.label} {d.where}: before up() "
                              f"{d.expected or 'absent'}, after down() {d.actual or 'absent'}"
                              for d in differences)
            pytest.fail(f"down() of {script.id} ({script.source}) does not restore the schema "
                        f"its up() started from:\n{lines}", pytrace=False)
        _step(f"up() of {script.id} after its down()", lambda: npa_runner.up(script.id))
        before = _as_declared(npa_runner.schema())


def test_npa_models_match(npa_config: "NpaTestConfig", npa_runner: "MigrationRunner") -> None:
    """The models match what the migrations build (``npa migrate check``)."""
    from ..schema.autogen import autogenerate

    if npa_config.model is None:
        pytest.skip("no models configured: set model = \"myapp.models:Base\" in npa.toml / "
                    "[tool.npa], or give NpaTestConfig(model=...) in the npa_config fixture")
    result = autogenerate(npa_runner.executor(), npa_config.model)
    if result.differences:
        pytest.fail("\n".join(result.lines()), pytrace=False)


#: the ready tests, in the order they run
READY_TESTS: list[Callable[..., Any]] = [test_npa_single_order, test_npa_stairway,
                                         test_npa_down_restores_schema, test_npa_models_match]


class ReadyTests(pytest.File):
    """The ready tests, collected as tests of the conftest that enabled the plugin."""

    def collect(self) -> Iterator[pytest.Function]:
        for function in READY_TESTS:
            item = pytest.Function.from_parent(self, name=function.__name__, callobj=function)
            item.add_marker(MARKER)
            yield item


# helpers ---------------------------------------------------------------------------------
def _walk(runner: "MigrationRunner") -> Iterator["MigrationScript"]:
    """Apply the migrations one by one; yield each reversible one right after its ``up``
    (the caller steps it down and up again); warn about the irreversible ones."""
    irreversible = []
    for script in runner.migrations:
        _step(f"up() of {script.id}", lambda: runner.up(script.id))
        if script.irreversible():
            irreversible.append(script.id)
            continue
        yield script
    if irreversible:
        warnings.warn(IrreversibleWarning(
            "Not stepped down (no down steps): " + ", ".join(irreversible)), stacklevel=2)


def _step(what: str, action: Callable[[], Any]) -> None:
    try:
        action()
        return
    except MigrationRunFailed as exc:
        message = str(exc)
    pytest.fail(f"{what} failed:\n{message}", pytrace=False)


def _as_declared(model: "SchemaModel") -> "SchemaModel":
    """A reflected schema in the form a comparison expects of the declared side: a
    reflected server default is SQL text, not a string value."""
    import sqlalchemy as sa

    for table in model.tables.values():
        for column in table.columns.values():
            if isinstance(column.default, str):
                column.default = sa.text(column.default)
    return model


def _ancestors(scripts: list["MigrationScript"]) -> dict[str, set[str]]:
    """Every migration's direct and indirect dependencies (scripts are in run order, so a
    dependency comes before what depends on it)."""
    found: dict[str, set[str]] = {}
    for script in scripts:
        found[script.id] = set(script.depends_on).union(
            *(found.get(dep, set()) for dep in script.depends_on))
    return found
