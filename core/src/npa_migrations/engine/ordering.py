"""Ordering migrations: by timestamp (then name), then by declared dependencies."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Iterable

from ..errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from ..migration import MigrationScript


class ValidationProblem:
    """One validation problem: a stable ``code``, the ``migration_id`` it concerns, and a
    message that says what to do."""

    def __init__(self, code: str, migration_id: str | None, message: str):
        self.code = code
        self.migration_id = migration_id
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ValidationProblem({self.code!r}, {self.migration_id!r})"

    def to_json(self) -> dict:
        """``{"code", "migration_id", "message"}``, as in ``npa migrate validate --json``."""
        return {"code": self.code, "migration_id": self.migration_id, "message": self.message}


def order_migrations(scripts: Iterable["MigrationScript"]) -> list["MigrationScript"]:
    """Topological order: dependencies first, ties broken by id (timestamp, then name).

    A dependency on a migration that a squash replaces (its file may be gone) is a
    dependency on the squash. Raises :class:`ValidationError` for unknown dependencies
    and cycles, naming the ids.
    """
    by_id = {s.id: s for s in scripts}
    replaced_by = {old: s.id for s in by_id.values() for old in s.replaces}
    problems = []
    indegree = {i: 0 for i in by_id}
    dependants: dict[str, list[str]] = {i: [] for i in by_id}
    for script in by_id.values():
        for dep in script.depends_on:
            if dep not in by_id and dep in replaced_by:
                dep = replaced_by[dep]
                if dep == script.id:
                    continue
            if dep not in by_id:
                problems.append(ValidationProblem(
                    "unknown_dependency", script.id,
                    f"Migration {script.id} ({script.source}) depends on '{dep}', which is not "
                    "among the discovered migrations. Fix depends_on or add the missing "
                    "migration."))
                continue
            indegree[script.id] += 1
            dependants[dep].append(script.id)
    if problems:
        raise ValidationError(problems)
    ready = [i for i, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        current = heapq.heappop(ready)
        ordered.append(by_id[current])
        for nxt in dependants[current]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    if len(ordered) != len(by_id):
        cycle = sorted(i for i, n in indegree.items() if n > 0)
        raise ValidationError([ValidationProblem(
            "dependency_cycle", cycle[0],
            "Dependency cycle among migrations: " + ", ".join(cycle) +
            ". Remove one of the depends_on links so that they can be ordered.")])
    return ordered
