"""Schema drift: the live database compared with what its applied migrations (or an
application's ``MetaData``) say it should be.

* :func:`detect_drift` -- ``npa migrate drift`` / ``executor.drift()``: the whole schema,
  as a :class:`DriftReport` that lists every difference and everything it could not
  compare (a report never says "No drift" when part of the schema went unchecked).
* :func:`drift_problems` -- option ``check_drift``: drift as validation problems, so an
  ``execute()`` reports them with every other validation error and applies nothing.

The comparison itself is :class:`~npa_migrations.schema.compare.Comparator`;
post-execution verification of single migrations is :mod:`npa_migrations.schema.verify`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .compare import Comparator, Difference
from .model import SchemaModel, build_expected

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.executor import MigrationExecutor
    from ..provider.connection import DbConnection


@dataclass
class DriftReport:
    """What :func:`detect_drift` found.

    :ivar database: the database (password hidden).
    :ivar expected_from: where the expected schema came from.
    :ivar differences: every difference, one per object.
    :ivar not_compared: what could not be compared, and why: tables raw SQL changed,
        types the dialect cannot read.
    """

    database: str
    expected_from: str
    differences: list[Difference] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)

    @property
    def has_drift(self) -> bool:
        """``True`` when there is at least one difference."""
        return bool(self.differences)

    @property
    def complete(self) -> bool:
        """``True`` when everything was compared (nothing is listed under
        :attr:`not_compared`)."""
        return not self.not_compared

    def lines(self) -> list[str]:
        """The human report of ``npa migrate drift``: one line per difference, then
        what was not compared. Without differences the first line says "No drift" only
        when everything was compared."""
        out = []
        if self.differences:
            out.append(f"Schema drift in {self.database} (expected: {self.expected_from}):")
            width = max(len(d.where) for d in self.differences)
            out += ["  " + d.line(width) for d in self.differences]
        elif self.complete:
            out.append(f"No drift: {self.database} matches {self.expected_from}.")
        else:
            n = len(self.not_compared)
            out.append(f"No drift in what could be compared: {self.database} against "
                       f"{self.expected_from}. {n} item{'s' if n != 1 else ''} could not "
                       "be compared; drift there would go unnoticed.")
        if self.not_compared:
            out.append("Not compared (the expected schema cannot tell):")
            out += [f"  {line}" for line in self.not_compared]
        if self.differences:
            n = len(self.differences)
            out.append(f"{n} difference{'s' if n != 1 else ''}.")
        return out

    def to_json(self) -> dict:
        """The ``npa migrate drift --json`` document."""
        return {"database": self.database, "expected_from": self.expected_from,
                "drift": self.has_drift, "complete": self.complete,
                "differences": [d.to_json() for d in self.differences],
                "not_compared": list(self.not_compared)}


def engine_tables(executor: "MigrationExecutor") -> set[str]:
    """The engine's own tables, never reported."""
    options = executor.options
    names = {options.history_table, options.lock_table,
             getattr(options, "log_table", None)}
    return {n for n in names if n}


def load_model(spec: str) -> Any:
    """``module:attr`` -> a SQLAlchemy ``MetaData`` (or an object with ``.metadata``)."""
    import importlib
    import os
    import sys

    import sqlalchemy as sa

    from ..errors import ConfigurationError

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigurationError(f"--model '{spec}' must be 'module:attribute', e.g. "
                                 "'myapp.models:metadata' or 'myapp.models:Base'.")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigurationError(f"--model: cannot import module '{module_name}': "
                                 f"{type(exc).__name__}: {exc}") from exc
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            raise ConfigurationError(f"--model: module '{module_name}' has no attribute "
                                     f"'{attr}'.")
        value = getattr(value, part)
    if not isinstance(value, sa.MetaData):
        value = getattr(value, "metadata", value)
    if not isinstance(value, sa.MetaData):
        raise ConfigurationError(f"--model: '{spec}' is not a SQLAlchemy MetaData (nor an "
                                 "object with a .metadata attribute, like a declarative Base).")
    return value


def expected_model(executor: "MigrationExecutor", rows: dict) -> SchemaModel:
    """The schema the history ``rows`` say the database has."""
    return build_expected(executor.discover(), rows, executor.provider.names)


def _schemas(expected: SchemaModel) -> list[str | None]:
    schemas: list[str | None] = [None]
    for schema, _ in expected.tables:
        if schema is not None and schema not in schemas:
            schemas.append(schema)
    return schemas


def compare_live(executor: "MigrationExecutor", conn: "DbConnection",
                 expected: SchemaModel) -> tuple[list[Difference], list[str]]:
    """Read the live schema on ``conn`` and compare it with ``expected``: the
    differences, and what the comparison had to skip."""
    from .live import LiveSchemaReader

    ignore = engine_tables(executor)
    reader = LiveSchemaReader(executor.provider, conn, ignore)
    try:
        if any(schema is not None for schema, _ in expected.tables):
            expected.use_default_schema(reader.default_schema())
        live = reader.read(_schemas(expected))
    finally:
        reader.close()
    comparator = Comparator(executor.provider)
    return comparator.compare(expected, live, ignore), comparator.not_compared


def detect_drift(executor: "MigrationExecutor", model: Any = None) -> DriftReport:
    """Compare the live database with the applied migrations, or with ``model`` (a
    ``MetaData`` or a ``"module:attr"`` string naming one)."""
    conn = executor._connect()
    try:
        if model is not None:
            metadata = load_model(model) if isinstance(model, str) else model
            expected = SchemaModel.from_metadata(metadata, executor.provider.dialect.name)
            source = (f"model {model}" if isinstance(model, str)
                      else f"the given MetaData ({len(expected.tables)} tables)")
        else:
            rows = executor._read_history(conn)
            expected = expected_model(executor, rows)
            n = sum(1 for r in rows.values() if r.success)
            source = f"{n} applied migration{'s' if n != 1 else ''}"
        differences, skipped = compare_live(executor, conn, expected)
    finally:
        conn.close()
    return DriftReport(executor.provider.display_url(), source, differences,
                       expected.not_compared() + skipped)


def drift_problems(executor: "MigrationExecutor", conn: "DbConnection", rows: dict) -> list:
    """Drift as validation problems (option ``check_drift``)."""
    from ..engine.ordering import ValidationProblem

    differences, _ = compare_live(executor, conn, expected_model(executor, rows))
    return [ValidationProblem(
        "drift", None,
        f"Schema drift: {d}. The database no longer matches its applied migrations; run "
        "'npa migrate drift' for the full report, then fix the database or add a "
        "migration for the change.") for d in differences]
