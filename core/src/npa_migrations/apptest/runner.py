"""MigrationRunner: an application's migrations on the test database, one step at a time.

What the ready tests use, and what an application's own tests use to test a migration
with data in the tables (pytest-alembic's ``alembic_runner`` idea)::

    def test_prices_become_cents(npa_runner):
        npa_runner.up("20250301000000_AddPriceCents", before=True)   # everything before it
        npa_runner.insert("products", [{"id": 1, "price": 9.99}])
        npa_runner.up("20250301000000_AddPriceCents")
        assert npa_runner.rows("SELECT price_cents FROM products") == [(999,)]

Each call runs through the public :class:`~npa_migrations.engine.executor.MigrationExecutor`,
under the migration lock, exactly as ``npa migrate up`` / ``down`` would; a failed run
raises :class:`MigrationRunFailed` with the engine's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..errors import NpaError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..engine.executor import MigrationExecutor
    from ..migration import MigrationScript
    from ..results import MigrationResult
    from ..schema.model import SchemaModel
    from .database import ThrowawayDatabase


class MigrationRunFailed(NpaError):
    """A migration the test ran failed; the message is the engine's."""


@dataclass
class NpaTestConfig:
    """What the migration tests run: the migrations, the models they must match, and the
    executor options (``npa_config`` fixture; override it in ``conftest.py``).

    :ivar migrations: migration sources (folders or dotted packages), as ``-m`` takes them.
    :ivar model: the SQLAlchemy models, ``"module:attr"`` or a ``MetaData``; ``None``
        leaves the models test out.
    :ivar options: keyword arguments of
        :class:`~npa_migrations.options.MigrationExecutorOptions`.
    """

    migrations: list[str] = field(default_factory=lambda: ["migrations"])
    model: Any = None
    options: dict[str, Any] = field(default_factory=dict)


class MigrationRunner:
    """The application's migrations on the throwaway database (see the module docs).

    :param config: what to run.
    :param database: where.
    """

    def __init__(self, config: NpaTestConfig, database: "ThrowawayDatabase"):
        self.config = config
        self.database = database
        self.url = database.url
        self._engine: "sa.engine.Engine | None" = None

    # the migrations ----------------------------------------------------------------------
    def executor(self, **options: Any) -> "MigrationExecutor":
        """A new executor on the test database (``options`` over the configured ones)."""
        from ..engine.executor import MigrationExecutor
        from ..options import MigrationExecutorOptions

        merged = {**self.config.options, **options}
        return MigrationExecutor(self.url, self.config.migrations,
                                 options=MigrationExecutorOptions(**merged))

    @property
    def migrations(self) -> list["MigrationScript"]:
        """Every migration, in run order."""
        return self.executor().discover()

    @property
    def ids(self) -> list[str]:
        """Every migration id, in run order."""
        return [m.id for m in self.migrations]

    def applied(self) -> list[str]:
        """The ids of the applied migrations, in run order."""
        status = self.executor().status()
        done = {a.id for a in status.applied if a.success}
        return [i for i in self.ids if i in done]

    def up(self, target: str | None = None, *, before: bool = False) -> "MigrationResult":
        """Apply the pending migrations up to ``target`` (all without one); with
        ``before``, only those before ``target``."""
        executor = self.executor()
        if before:
            if target is None:
                raise ValueError("up(before=True) needs a target")
            resolved = executor.resolve_target(target)
            target = self._previous(resolved) if resolved is not None else None
            if target is None:  # the first migration: nothing comes before it
                from ..results import MigrationResult

                return MigrationResult()
        return self._check(executor.execute(target=target))

    def down(self, target: str | None = None, *, steps: int | None = None
             ) -> "MigrationResult":
        """Roll back to ``target`` (which stays applied), or the last ``steps`` (default
        one) migrations."""
        executor = self.executor()
        if target is not None:
            return self._check(executor.rollback_to(target))
        return self._check(executor.rollback(steps or 1))

    def down_all(self) -> None:
        """Roll back every applied migration."""
        applied = self.applied()
        if applied:
            self.down(steps=len(applied))

    # the database --------------------------------------------------------------------------
    @property
    def engine(self) -> "sa.engine.Engine":
        """A SQLAlchemy engine on the test database (no pooled connections)."""
        if self._engine is None:
            self._engine = self.database.engine()
        return self._engine

    def schema(self) -> "SchemaModel":
        """The live schema, read by reflection (without npa's own tables) in the default
        schema and every schema the migrations name."""
        from ..schema.autogen import migrations_schema
        from ..schema.drift import engine_tables
        from ..schema.live import LiveSchemaReader

        executor = self.executor()
        model, created = migrations_schema(executor.discover(), executor.provider.names)
        named = created | {schema for schema, _ in model.tables if schema is not None}
        schemas = [None] + sorted(s for s in named if self._has(s))
        with executor.session(read_only=True) as session:
            if not session.connected:  # a file database no test has created yet
                from ..schema.model import SchemaModel

                return SchemaModel()
            reader = LiveSchemaReader(executor.provider, session.connection,
                                      engine_tables(executor.options))
            try:
                return reader.read(schemas)
            finally:
                reader.close()

    def insert(self, table: str, rows: Iterable[Mapping[str, Any]],
               schema: str | None = None) -> None:
        """Insert ``rows`` (dicts) into ``table`` (reflected), committed."""
        import sqlalchemy as sa

        target = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=self.engine)
        with self.engine.begin() as conn:
            conn.execute(target.insert(), [dict(r) for r in rows])

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run SQL with bound ``:name`` parameters, committed."""
        import sqlalchemy as sa

        with self.engine.begin() as conn:
            conn.execute(sa.text(sql), dict(params or {}))

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """The rows of a query with bound ``:name`` parameters, as tuples."""
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), dict(params or {}))]

    def close(self) -> None:
        """Let go of the engine's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # helpers ---------------------------------------------------------------------------
    def _previous(self, target: str) -> str | None:
        ids = self.ids
        index = ids.index(target)
        return ids[index - 1] if index else None

    def _has(self, schema: str) -> bool:
        import sqlalchemy as sa

        from ..schema.model import fold

        return fold(schema) in {fold(s) for s in sa.inspect(self.engine).get_schema_names()}

    @staticmethod
    def _check(result: "MigrationResult") -> "MigrationResult":
        if not result.success:
            raise MigrationRunFailed("\n".join(e.message for e in result.errors))
        return result
