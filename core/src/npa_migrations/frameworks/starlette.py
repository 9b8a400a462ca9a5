"""Apply the pending migrations when a Starlette or FastAPI application starts.

::

    from fastapi import FastAPI
    from npa_migrations.frameworks.starlette import migration_lifespan

    app = FastAPI(lifespan=migration_lifespan("postgresql://app@db/app", "migrations"))

The lifespan runs :meth:`~npa_migrations.engine.executor.MigrationExecutor.execute_async`
(under the migration lock, in a worker thread) before the application serves its first
request; when a migration fails the startup fails with the engine's message, so a broken
release never serves. The result is kept in ``app.state.npa_migrations``. An application's
own lifespan runs inside it (``lifespan=``). It uses nothing of Starlette but the lifespan
protocol, so Starlette itself is not imported.
"""

from __future__ import annotations

import contextlib
from typing import Any, AsyncContextManager, AsyncIterator, Callable

from ..errors import MigrationException


def migration_lifespan(database: Any, migrations: Any = "migrations", *,
                       options: Any = None,
                       lifespan: Callable[[Any], AsyncContextManager[Any]] | None = None
                       ) -> Callable[[Any], AsyncContextManager[Any]]:
    """A lifespan that applies the pending migrations, then runs ``lifespan``.

    :param database: a URL, or an SQLAlchemy ``Engine`` (as ``MigrationExecutor`` takes).
    :param migrations: the migration sources.
    :param options: :class:`~npa_migrations.options.MigrationExecutorOptions`.
    :param lifespan: the application's own lifespan, run once the migrations are applied.
    :raises MigrationException: when a migration fails (the application does not start).
    """

    @contextlib.asynccontextmanager
    async def run(app: Any) -> AsyncIterator[Any]:
        from ..engine.executor import MigrationExecutor

        result = await MigrationExecutor(database, migrations, options).execute_async()
        if not result.success:
            raise MigrationException(
                "The application did not start: migrations failed.\n"
                + "\n".join(error.message for error in result.errors))
        state = getattr(app, "state", None)
        if state is not None:
            state.npa_migrations = result
        if lifespan is None:
            yield None
            return
        async with lifespan(app) as inner:
            yield inner

    return run
