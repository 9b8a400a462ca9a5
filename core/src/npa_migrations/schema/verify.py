"""Post-execution verification: after each migration of a run, did its operations do
what they declare?

:class:`Verifier` (option ``verify``; on by default in ``npa migrate up``) replays the
migration's operations on the model of the applied schema, reads back only the tables
they touched, and compares only the objects they claimed (:func:`claim_matches`), so drift
that was there before is never blamed on the migration. A mismatch is a
:class:`~npa_migrations.errors.VerificationError` naming the operation. The cost grows
with the tables a migration touches, not with the size of the schema.

Every ``up`` asks :func:`declares_nothing` whether there is anything to verify, and a run
of raw SQL only (a deploy of ``.sql`` files) never builds a :class:`Verifier`: the model
and the comparison (:mod:`~npa_migrations.schema.model`, :mod:`~npa_migrations.schema.compare`)
are imported where a verifier uses them, not with this module.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import VerificationError
from ..operations import Execute, OperationStream

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    from ..migration import MigrationScript
    from ..operations import MigrationOperation
    from ..provider import BaseProvider
    from ..provider.connection import DbConnection
    from .compare import Difference
    from .model import Claim, SchemaModel


def claim_matches(claim: "Claim", key: tuple) -> bool:
    """Whether a difference's ``key`` falls under an operation's ``claim``."""
    from .model import same_name

    c_schema, c_table, c_cat, c_name, c_attr = claim
    k_schema, k_table, k_cat, k_name, k_attr = key
    if not (same_name(c_schema, k_schema) and same_name(c_table, k_table)):
        return False
    if c_cat in ("*", "table"):
        return c_cat == "*" or k_cat == "table"
    if k_cat == "table":
        return True  # the table itself is missing or extra: every claim on it fails
    if c_cat == "constraint":
        if k_cat not in ("unique", "foreign_key", "check"):
            return False
    elif c_cat != k_cat:
        return False
    if c_cat != "primary_key" and not same_name(c_name, k_name):
        return False
    if c_cat == "column":
        return c_attr in ("*", k_attr) or k_attr == "exists"
    return True


def declares_nothing(operations: "Sequence[MigrationOperation]") -> bool:
    """Whether ``operations`` are raw SQL only (a ``.sql`` file's statements, streamed or
    not, or ``execute`` operations: the model applies every operation of that kind as raw
    SQL): raw SQL claims nothing, so verifying it compares nothing and a run of only such
    migrations needs no model of the schema."""
    return isinstance(operations, OperationStream) or all(
        operation.kind == Execute.kind for operation in operations)


class Verifier:
    """Post-execution verification for one run (option ``verify``).

    Built at the start of the run from the model of what is applied, it replays each
    migration's operations as the migration finishes -- before its history row is written
    and before it commits, on the run's own connection -- reflects only the tables those
    operations touched, and compares only the objects they declared. Tables and objects
    the model does not know (raw SQL) are skipped.

    :param provider: the provider of the database.
    :param conn: the run's connection (reflection reads inside its transaction).
    :param model: the schema the applied migrations make (replayed by the caller).
    :param ignore: the engine's own tables.
    :param continue_after_failure: the run goes on after a failed migration
        (``stop_on_error=False``): a migration that fails verification leaves the model
        as it was before it.
    """

    def __init__(self, provider: "BaseProvider", conn: "DbConnection", model: "SchemaModel",
                 ignore: set[str], *, continue_after_failure: bool = False):
        from .compare import Comparator
        from .live import LiveSchemaReader

        self.model = model
        self.continue_after_failure = continue_after_failure
        self.reader = LiveSchemaReader(provider, conn, ignore)
        self.comparator = Comparator(provider)
        self.seconds = 0.0

    def close(self) -> None:
        """Let go of the reflection engine (the connection stays the run's)."""
        self.reader.close()

    def verify(self, script: "MigrationScript", operations: "Sequence[MigrationOperation]",
               direction: str) -> None:
        """Raise :class:`VerificationError` if the database does not show what the
        operations declared."""
        started = time.perf_counter()
        restore = self.model.snapshot() if self.continue_after_failure else None
        claims: list[tuple[int, "Claim"]] = []
        if isinstance(operations, OperationStream):  # raw SQL, read once: claims nothing
            for sql in operations.statements():
                self.model.apply_sql(sql, script.id)
            operations = ()
        for position, operation in enumerate(operations):
            for claim in self.model.apply(operation, script.id):
                claims.append((position, claim))
        try:
            problems = self.unmet(claims)
        except VerificationError:
            if restore is not None:
                self.model = restore
            raise
        finally:
            self.seconds += time.perf_counter() - started
        if not problems:
            return
        if restore is not None:
            self.model = restore
        lines = []
        for position, difference in problems:
            op = operations[position]
            lines.append(f"operation {position + 1} ({op.describe()}) did not do what it said: "
                         f"{difference}")
        raise VerificationError(
            "; ".join(lines) + f" (post-execution verification of {script.id} {direction}: "
            "a plugin or provider rendered the operation differently from what the migration "
            "declares)", [d for _, d in problems])

    def unmet(self, claims: list[tuple[int, "Claim"]]) -> list[tuple[int, "Difference"]]:
        """The claims (``(position, claim)`` pairs, made by applying operations to
        :attr:`model`) the live database does not meet, each with the difference found:
        an empty list when every claim holds."""
        if any(claim[0] is not None for _, claim in claims):  # "public" is no schema
            if self.model.default_schema is None:
                self.model.use_default_schema(self.reader.default_schema())
            claims = [(p, self._in_default_schema(c)) for p, c in claims]
        if not claims:
            return []
        touched: list[tuple[str | None, str]] = []
        for _, claim in claims:
            key = (claim[0], claim[1])
            if key not in touched:
                touched.append(key)
        try:
            live = self.reader.read(tables=touched)
        except Exception as exc:
            names = ", ".join(f"{s}.{n}" if s else n for s, n in touched)
            raise VerificationError(
                f"post-execution verification could not read {names} back: "
                f"{type(exc).__name__}: {exc}. Run with --no-verify (option verify=False) to "
                "skip it.") from exc
        problems: list[tuple[int, "Difference"]] = []
        for schema, name in touched:
            expected = self.model.get(name, schema)
            actual = live.get(name, schema)
            if expected is None and actual is None:
                continue
            for difference in self.comparator.compare_table(expected, actual):
                blamed = [pos for pos, claim in claims if claim_matches(claim, difference.key)]
                if blamed:
                    problems.append((max(blamed), difference))
        return problems

    def _in_default_schema(self, claim: "Claim") -> "Claim":
        from .model import same_name

        if same_name(claim[0], self.reader.default_schema()):
            return (None,) + tuple(claim[1:])
        return claim
