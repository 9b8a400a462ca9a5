"""Migration definitions: the user-facing :class:`Migration` base class and the loaded
form the engine works with (:class:`MigrationScript`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .builder import MigrationBuilder
    from .operations import MigrationOperation

#: ``<14-digit UTC timestamp>_<Name>``; the name may hold any character but a path
#: separator or a control character (``remove-categories``, ``v5.35``, ``add users``)
MIGRATION_ID = re.compile(r"^(?P<ts>\d{14})_(?P<name>[^/\\\x00-\x1f\x7f-\x9f\u2028\u2029]+)\Z")
#: ``R__<name>``: the id of a repeatable migration (the same characters in the name)
REPEATABLE_ID = re.compile(r"^R__(?P<name>[^/\\\x00-\x1f\x7f-\x9f\u2028\u2029]+)\Z")
#: the prefix of a repeatable migration's id and file name
REPEATABLE_PREFIX = "R__"
#: the longest id the history table's ``migration_id VARCHAR(255)`` holds
MAX_ID_LENGTH = 255
#: the id rule, as error messages state it
ID_RULE = ("'<14-digit UTC timestamp>_<name>', where the name may hold any character "
           f"except '/', '\\' and control characters, at most {MAX_ID_LENGTH} characters "
           "in all")
CHECKSUM_ALGORITHM = "sha256"


def id_problem(migration_id: str, repeatable: bool = False) -> str | None:
    """Why ``migration_id`` cannot be a migration id (a sentence stating the rule), or
    ``None`` when it can; ``repeatable`` checks the rule of a repeatable migration's id
    (``R__<name>``)."""
    if repeatable:
        if not REPEATABLE_ID.match(migration_id):
            return (f"repeatable migration id {migration_id!r} is not 'R__<name>', where the "
                    "name may hold any character except '/', '\\' and control characters.")
    elif not MIGRATION_ID.match(migration_id):
        return f"migration id {migration_id!r} is not {ID_RULE}."
    if len(migration_id) > MAX_ID_LENGTH:
        return (f"migration id '{migration_id[:40]}...' is {len(migration_id)} characters "
                f"long; the history table holds at most {MAX_ID_LENGTH}.")
    return None


class Migration:
    """Base class of a Python migration.

    Subclass it, implement :meth:`up` (and :meth:`down` to allow rollback) with calls on
    the :class:`~npa_migrations.builder.MigrationBuilder` ``b``::

        class AddProductDescription(Migration):
            id = "20251119143022_AddProductDescription"   # optional: file name + class
            depends_on = ("20251119120000_InitialCreate",)  # optional

            def up(self, b):
                b.add_column("products", sa.Column("description", sa.String(500)))

    ``transactional = False`` runs it outside any transaction (e.g. for
    ``CREATE INDEX CONCURRENTLY``). ``lock_timeout_seconds`` sets the DDL lock wait for this
    migration on providers that support it.

    ``repeatable = True`` makes it a repeatable migration (views, functions, grants): its
    id is ``R__<ClassName>`` (or an ``id`` starting with ``R__``), it runs after the
    versioned migrations, and again whenever its checksum changes. ``replaces = (ids...)``
    makes it a squash of those migrations: a database where all of them are applied
    treats it as applied, a fresh database runs only it (``npa migrate squash`` writes
    one).

    A ``down()`` that records no steps (the generated template's ``pass``) makes the
    migration irreversible: ``down`` refuses it rather than report a rollback that
    changed nothing. ``empty_down = True`` says there is nothing to undo (e.g. a data
    fix), so ``down`` just forgets it.
    """

    id: ClassVar[str | None] = None
    depends_on: ClassVar[tuple[str, ...]] = ()
    transactional: ClassVar[bool] = True
    lock_timeout_seconds: ClassVar[float | None] = None
    repeatable: ClassVar[bool] = False
    replaces: ClassVar[tuple[str, ...]] = ()
    empty_down: ClassVar[bool] = False

    def up(self, b: "MigrationBuilder") -> None:
        """Record the operations that apply this migration on the builder ``b``."""
        raise NotImplementedError

    def down(self, b: "MigrationBuilder") -> None:
        """Record the operations that revert it; leave it out when it cannot be reverted."""
        raise NotImplementedError


def checksum_of(payload: object) -> str:
    """Versioned checksum (``sha256:<hex>``) of a JSON-able canonical payload or text."""
    if isinstance(payload, str):
        data = payload.encode("utf-8")
    else:
        data = json.dumps(payload, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    return f"{CHECKSUM_ALGORITHM}:{hashlib.sha256(data).hexdigest()}"


@dataclass
class MigrationScript:
    """One discovered migration, ready for the engine.

    :ivar id: ``<timestamp>_<Name>``.
    :ivar source: file path or module name it came from (used in every error message).
    :ivar depends_on: ids that must be applied first.
    :ivar transactional: ``False`` for a migration that must run outside a transaction.
    :ivar build_up / build_down: callables returning the operation list; ``build_down`` is
        ``None`` when the migration cannot be rolled back.
    :ivar known_checksum: the checksum when it is already known (the checksum cache
        keeps it, so an unchanged file is not imported, nor a ``.sql`` file parsed);
        else computed on first use.
    :ivar migration_class: the :class:`Migration` subclass of a Python migration (``None``
        for SQL files); plugins read their own per-migration settings from its attributes,
        e.g. ``lint_ignore`` of npa-lint.
    :ivar repeatable: a repeatable migration (id ``R__<name>``): it runs after the
        versioned ones, and again whenever its checksum changes.
    :ivar replaces: ids of the migrations this one squashes (see
        :mod:`npa_migrations.engine.squash`).
    :ivar empty_down: a down with no steps is intended (``Migration.empty_down``,
        ``-- npa:empty-down``); without it such a migration is irreversible.
    """

    id: str
    source: str
    build_up: Callable[[], Iterable["MigrationOperation"]]
    build_down: Callable[[], list["MigrationOperation"]] | None
    depends_on: tuple[str, ...] = ()
    transactional: bool = True
    lock_timeout_seconds: float | None = None
    migration_class: type | None = field(default=None, repr=False)
    repeatable: bool = False
    replaces: tuple[str, ...] = ()
    empty_down: bool = False
    known_checksum: str | None = field(default=None, repr=False)
    _up: "Sequence | None" = field(default=None, repr=False)
    _down: list | None = field(default=None, repr=False)
    checksum_payload: Callable[[], object] | None = field(default=None, repr=False)

    @property
    def timestamp(self) -> str:
        """The 14-digit UTC timestamp the id starts with."""
        return self.id[:14]

    @property
    def name(self) -> str:
        """The id without its timestamp (or ``R__`` prefix), e.g.
        ``AddProductDescription``."""
        if MIGRATION_ID.match(self.id):
            return self.id[15:]
        return self.id[len(REPEATABLE_PREFIX):] if REPEATABLE_ID.match(self.id) else self.id

    def bind(self, provider: object) -> None:
        """Called by the engine with the provider the migration will run on, before it
        asks for operations. Nothing to do for most migrations; a ``.sql`` migration
        splits its text into statements with that provider's
        :meth:`~npa_migrations.provider.SqlGenerator.split_statements`."""

    def use_placeholders(self, values: Mapping[str, Any]) -> None:
        """Called by the engine with the run's placeholder values (option
        ``placeholders``) before it asks for operations. Nothing to do for most
        migrations; a ``.sql`` migration replaces ``${name}`` in its statements
        (:mod:`npa_migrations.builtin.placeholders`)."""

    def up_operations(self) -> Sequence["MigrationOperation"]:
        """The ``up`` operations (built once, then cached): a list, or for a large
        ``.sql`` file an :class:`~npa_migrations.operations.OperationStream` read from
        the file on each pass."""
        if self._up is None:
            from .operations import OperationStream

            built = self.build_up()  # a stream (a large .sql file) is read when it runs
            self._up = built if isinstance(built, OperationStream) else list(built)
        return self._up

    def down_operations(self) -> list["MigrationOperation"] | None:
        """The ``down`` operations, or ``None`` when the migration cannot be rolled back."""
        if self.build_down is None:
            return None
        if self._down is None:
            self._down = list(self.build_down())
        return self._down

    def irreversible(self) -> str | None:
        """Why ``down`` cannot revert this migration (no down at all, or a down with no
        steps that is not declared empty); ``None`` when it can."""
        down = self.down_operations()
        if down is None:
            return "has no down steps"
        if not down and not self.empty_down:
            return "has an empty down, which would undo nothing"
        return None

    def forget_operations(self) -> None:
        """Drop the operation lists built so far (the builders changed: they are built
        again when next asked for)."""
        self._up = self._down = None

    @property
    def checksum(self) -> str:
        """``sha256:<hex>`` over the canonical up/down operation lists (or file text)."""
        if self.known_checksum is None:
            if self.checksum_payload is not None:
                self.known_checksum = checksum_of(self.checksum_payload())
            else:
                down = self.down_operations()
                self.known_checksum = checksum_of({
                    "up": [op.canonical() for op in self.up_operations()],
                    "down": None if down is None else [op.canonical() for op in down],
                })
        return self.known_checksum
