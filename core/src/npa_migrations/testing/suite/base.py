"""Base class of the suite's test classes: short access to the fixtures, run helpers.

Not collected itself (its name does not start with ``Test``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from ...engine.executor import MigrationExecutor
    from ...provider.base import BaseProvider
    from ...results import MigrationResult
    from ..migrations import MigrationFolder
    from ..reflection import ReflectedDatabase


class SuiteTest:
    """Every suite test gets ``self.db`` (reflection), ``self.folder`` (migration files),
    ``self.executor(**options)`` (a new executor) and ``self.provider``."""

    db: "ReflectedDatabase"
    folder: "MigrationFolder"
    executor: Callable[..., "MigrationExecutor"]
    provider: "BaseProvider"

    @pytest.fixture(autouse=True)
    def _npa_suite_fixtures(self, npa_db, npa_migrations_folder, npa_executor):
        self.db = npa_db
        self.folder = npa_migrations_folder
        self.executor = npa_executor
        self.provider = npa_db.provider

    # running -----------------------------------------------------------------------------
    def up(self, target: str | None = None, **options: Any) -> "MigrationResult":
        """Apply pending migrations and assert the run succeeded."""
        return assert_success(self.executor(**options).execute(target))

    def down(self, steps: int = 1, **options: Any) -> "MigrationResult":
        """Roll back ``steps`` migrations and assert the run succeeded."""
        return assert_success(self.executor(**options).rollback(steps))

    def down_to(self, target: str, **options: Any) -> "MigrationResult":
        return assert_success(self.executor(**options).rollback_to(target))


def assert_success(result: "MigrationResult") -> "MigrationResult":
    if not result.success:
        raise AssertionError("the run failed:\n" + "\n".join(e.message for e in result.errors))
    return result


def assert_failed(result: "MigrationResult", migration_id: str) -> str:
    """The run failed at ``migration_id``; returns the error message."""
    assert not result.success, "the run should have failed"
    assert [e.migration_id for e in result.errors] == [migration_id]
    return result.errors[0].message


def no_default(value: Any) -> bool:
    """A reflected column default that means "no default"."""
    return value is None or str(value).strip().upper() == "NULL"
