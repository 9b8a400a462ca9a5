"""SQLite table rebuild: what ``ALTER TABLE`` cannot do, done by copying the table.

SQLite's ``ALTER TABLE`` only renames tables and columns, adds plain columns and drops
unconstrained ones. Everything else — ``alter_column`` (type, nullability, server
default), ``create_foreign_key``, ``create_primary_key``, ``create_unique_constraint``,
``create_check_constraint``, ``drop_constraint``, ``add_column`` of a column SQLite cannot
add in place (primary key, unique, non-constant default, ``NOT NULL`` without default)
and ``drop_column`` of a column that an index or constraint uses — is done by the
procedure SQLite documents (https://www.sqlite.org/lang_altertable.html, "Making Other
Kinds Of Table Schema Changes"), inside the migration's transaction:

1. ``ALTER TABLE t RENAME COLUMN`` for columns the operations rename, so SQLite itself
   rewrites the indexes, triggers, views and CHECK constraints that mention them;
2. reflect ``t`` (SQLAlchemy's inspector over the migration's own connection, plus the
   stored ``CREATE`` text for what only lives there, see :mod:`npa_sqlite.sqlscan`) and
   apply the operations to that model;
3. ``CREATE TABLE "_npa_tmp_t"`` compiled by SQLAlchemy's SQLite DDL compiler, with
   names quoted by the dialect's preparer;
4. ``INSERT INTO "_npa_tmp_t" (...) SELECT ... FROM t`` (``rowid`` kept when the table
   has one without an ``INTEGER PRIMARY KEY`` alias; no ``CAST``, so SQLite's type
   affinity converts values without losing any);
5. ``DROP TABLE t``; ``ALTER TABLE "_npa_tmp_t" RENAME TO t`` (with
   ``PRAGMA legacy_alter_table = ON`` for that statement only, so views and triggers of
   other tables that name ``t`` do not make the rename fail while ``t`` is missing — they
   name ``t`` again once the rename is done, so they need no re-creation);
6. re-create the table's indexes and triggers from their stored SQL, restore the
   ``AUTOINCREMENT`` counter, and run ``PRAGMA foreign_key_check`` on ``t`` and on the
   tables that reference it; a violation fails the migration with an error naming the
   table and the rows (the transaction rolls back and ``t`` is left as it was). The
   check covers all of ``t``'s foreign keys, so rows that already violated one (possible
   while foreign keys are off) fail the rebuild too. Views that mention ``t`` and
   compiled before must still compile afterwards.

Consecutive operations on one table become one rebuild (one :class:`RebuildStep`).

What a dropped column takes with it follows PostgreSQL's ``DROP COLUMN``: indexes and
table constraints (primary key, unique, foreign key, CHECK) that involve it are dropped
too; a generated column computed from it, or a trigger of the table that mentions it, is
an error (as in SQLite's own ``DROP COLUMN``).

**Foreign keys.** ``PRAGMA foreign_keys`` cannot change inside a transaction; the
engine's connections leave it off (SQLite's default), which the procedure needs. If a
caller's connection has it on, dropping the old table would run an implicit
``DELETE FROM t`` and fire the ``ON DELETE`` actions of every table referencing ``t`` —
including the new copy's own self-references — so a rebuild of a referenced table is
refused with an explanation; rebuilds of unreferenced tables run with
``PRAGMA defer_foreign_keys = ON`` so that the foreign-key check reports violations
clearly.

**Offline scripts.** The new definition is derived from the live table, so a rebuild
cannot be rendered without a database: ``npa migrate up --sql --offline`` raises
:class:`~npa_migrations.errors.ConfigurationError` naming the table and pointing to the
online ``--sql``, which rehearses the run in a transaction that is rolled back.

**Not preserved:** ``ON CONFLICT`` clauses of constraints, and the name of an
``INTEGER PRIMARY KEY AUTOINCREMENT`` constraint (SQLAlchemy renders that key inline);
a column whose type is altered gets the new type's collation (PostgreSQL's rule).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError, NpaError
from npa_migrations.operations import UNCHANGED
from npa_migrations.provider import RenderContext
from npa_migrations.statements import Statement, Step

from .sqlscan import fold, index_expression_names, names_used, scan_create_table

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection

    from .provider import SqliteProvider

TMP_PREFIX = "_npa_tmp_"
#: how many offending rows an error message shows
SAMPLE_ROWS = 10

#: operations that always need a rebuild on SQLite
REBUILD_OPERATIONS = (ops.CreateForeignKey, ops.CreatePrimaryKey, ops.CreateUniqueConstraint,
                      ops.CreateCheckConstraint, ops.DropConstraint)
#: operations that change one table's columns or constraints; a rebuild absorbs them
TABLE_SHAPE_OPERATIONS = REBUILD_OPERATIONS + (ops.AlterColumn, ops.AddColumn, ops.DropColumn,
                                               ops.RenameColumn)

_CONSTANT = re.compile(
    r"""^\s*(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|'(?:[^']|'')*'|NULL|TRUE|FALSE
    |[xX]'[0-9A-Fa-f]*')\s*$""", re.VERBOSE | re.IGNORECASE)


class RebuildError(NpaError):
    """A SQLite table rebuild cannot be done as asked, or would break data integrity
    (NULLs in a column made NOT NULL, duplicates under a new unique key, rows violating a
    foreign key). The migration fails and its transaction rolls back."""

    exit_code = 1


# --------------------------------------------------------------------------------------
# which operations need a rebuild
# --------------------------------------------------------------------------------------

def needs_rebuild(operation: ops.MigrationOperation, provider: "SqliteProvider") -> bool:
    """Whether SQLite can only do ``operation`` by rebuilding its table.

    ``drop_column`` is decided when it runs (:func:`drop_column_step`), from the live
    table: only a column used by an index or constraint needs the rebuild.
    """
    if isinstance(operation, REBUILD_OPERATIONS):
        return True
    if isinstance(operation, ops.AlterColumn):
        return any(value is not UNCHANGED for value in
                   (operation.type_, operation.nullable, operation.server_default))
    if isinstance(operation, ops.AddColumn):
        return not _addable_in_place(operation.column, provider)
    return False


def _addable_in_place(column: Any, provider: "SqliteProvider") -> bool:
    """SQLite's ``ADD COLUMN`` limits: no PRIMARY KEY or UNIQUE, a constant default, a
    non-NULL default when NOT NULL, no STORED generated column. Foreign keys and CHECK
    constraints declared on the column are table constraints to SQLAlchemy, which a plain
    ``ADD COLUMN`` would leave out, so they take the rebuild too."""
    if column.primary_key or column.unique or column.foreign_keys or column.constraints:
        return False
    if column.computed is not None:
        return not column.computed.persisted
    if column.server_default is None:
        return bool(column.nullable)
    text = provider.sql.render_default(column.server_default).strip()
    if text.upper() == "NULL":
        return bool(column.nullable)
    return bool(_CONSTANT.match(text))


def _table_key(operation: ops.MigrationOperation) -> tuple:
    return (fold(operation.schema or "main"), fold(operation.table))


def group_operations(operations: Sequence[ops.MigrationOperation], provider: "SqliteProvider"
                     ) -> list[tuple[str, list[ops.MigrationOperation]]]:
    """Split a migration's (already ordered) operations into units.

    Returns ``(kind, operations)`` pairs: ``"rebuild"`` for a run of consecutive
    table-shape operations on one table of which at least one needs a rebuild,
    ``"drop_column"`` for a lone ``drop_column`` (decided at run time), and ``"single"``
    for everything else.
    """
    units: list[tuple[str, list[ops.MigrationOperation]]] = []
    index = 0
    while index < len(operations):
        operation = operations[index]
        if isinstance(operation, TABLE_SHAPE_OPERATIONS):
            key = _table_key(operation)
            end = index
            while (end < len(operations) and isinstance(operations[end], TABLE_SHAPE_OPERATIONS)
                   and _table_key(operations[end]) == key):
                end += 1
            run = list(operations[index:end])
            if any(needs_rebuild(op, provider) for op in run):
                units.append(("rebuild", run))
                index = end
                continue
        kind = "drop_column" if isinstance(operation, ops.DropColumn) else "single"
        units.append((kind, [operation]))
        index += 1
    return units


# --------------------------------------------------------------------------------------
# steps
# --------------------------------------------------------------------------------------

class RebuildStep(Step):
    """A :class:`~npa_migrations.statements.Step` that rebuilds one table for one or more
    operations; its statements are produced from the live table when it runs."""

    def describe(self) -> str:
        table = self.operations[0].table
        return f"Rebuilding table '{table}': " + "; ".join(
            op.describe() for op in self.operations)


def rebuild_step(provider: "SqliteProvider", operations: Sequence[ops.MigrationOperation]
                 ) -> RebuildStep:
    """One step that rebuilds the table of ``operations`` (all on the same table)."""
    operations = tuple(operations)

    def render(context: RenderContext) -> Iterator[Statement]:
        if context.connection is None:
            raise _offline_error(operations)
        return TableRebuild(provider, context.connection, operations).statements()

    return RebuildStep(operations, render, live=True)


def drop_column_step(provider: "SqliteProvider", operation: ops.DropColumn) -> Step:
    """``drop_column``: ``ALTER TABLE ... DROP COLUMN`` when SQLite can do it, a rebuild
    when an index or constraint uses the column (decided from the live table; offline
    scripts assume the plain form)."""

    def render(context: RenderContext) -> Iterator[Statement]:
        if context.connection is None:
            return iter([Statement(s) for s in provider.sql.sql_drop_column(operation, context)])
        rebuild = TableRebuild(provider, context.connection, (operation,))
        return rebuild.statements(plain_drop=True)

    return Step((operation,), render, live=True)


def _offline_error(operations: Sequence[ops.MigrationOperation]) -> ConfigurationError:
    table = operations[0].table
    what = "; ".join(op.describe() for op in operations)
    return ConfigurationError(
        f"Cannot render the SQLite rebuild of table '{table}' ({what}) offline: the new "
        "table definition is derived from the live table, which needs the database. Run "
        "the same --sql command without --offline (e.g. 'npa migrate up --sql'): it "
        "renders the script against the database, rehearsing the run in a transaction "
        "that is rolled back, so nothing is changed.")


# --------------------------------------------------------------------------------------
# reflection over the migration's own connection
# --------------------------------------------------------------------------------------

class _BorrowedConnection:
    """The migration's sqlite3 connection as SQLAlchemy sees it during reflection.

    SQLAlchemy's pool rolls back on check-in and its pysqlite dialect registers
    functions on connect. Either would end or alter the migration's open transaction
    and session, so ``commit``, ``rollback``, ``close`` and ``create_function`` are
    no-ops here; attribute writes stay on this wrapper. Reading works as usual.
    """

    def __init__(self, raw: Any):
        self._raw = raw

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self._raw.cursor(*args, **kwargs)

    def commit(self) -> None:
        """Never commit the migration's transaction."""

    def rollback(self) -> None:
        """Never roll back the migration's transaction."""

    def close(self) -> None:
        """The engine owns the connection."""

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Keep SQLAlchemy's helper functions out of the migration's session."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def inspector_for(conn: "DbConnection") -> "sa.Inspector":
    """A SQLAlchemy inspector reading through ``conn`` inside its open transaction,
    without committing, rolling back or changing the connection's settings."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    borrowed = _BorrowedConnection(conn.raw)
    engine = sa.create_engine("sqlite://", creator=lambda: borrowed, poolclass=StaticPool,
                              pool_reset_on_return=None)
    return sa.inspect(engine)


class _DeclaredType:
    """Factory of a SQLAlchemy type that renders a column's declared type verbatim.

    Used for columns the rebuild does not change whose declared type SQLAlchemy would
    spell differently (``INT`` -> ``INTEGER`` would turn an ``INT PRIMARY KEY`` into a
    rowid alias) or that carry a collation.
    """

    _cls = None

    @classmethod
    def make(cls, text: str, collation: str | None, preparer: Any) -> Any:
        if cls._cls is None:
            import sqlalchemy as sa

            class DeclaredType(sa.types.UserDefinedType):
                cache_ok = True

                def __init__(self, spec: str):
                    self.spec = spec

                def get_col_spec(self, **kw: Any) -> str:
                    return self.spec

            cls._cls = DeclaredType
        spec = text
        if collation:
            spec = f"{spec} COLLATE {preparer.quote_identifier(collation)}".strip()
        return cls._cls(spec)


# --------------------------------------------------------------------------------------
# the table model
# --------------------------------------------------------------------------------------

@dataclass(eq=False)
class ColumnModel:
    """One column of the new table.

    :ivar source: the column's name in the old table (after step 1's renames), or
        ``None`` for a column added by the rebuild.
    """

    name: str
    type: Any
    nullable: bool
    default: str | None = None  # SQL text
    computed: tuple[str, bool | None] | None = None  # (expression, persisted)
    source: str | None = None
    was_nullable: bool = True


@dataclass(eq=False)
class ConstraintModel:
    """A primary key, unique, check or foreign key constraint of the new table."""

    kind: str  # primary, unique, check, foreignkey
    name: str | None
    columns: list[ColumnModel] = field(default_factory=list)
    sqltext: str | None = None  # check
    referent: str | None = None  # foreign key
    remote: list = field(default_factory=list)  # names, or ColumnModel for self-references
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    created: bool = False  # by an operation of this rebuild

    def describe(self) -> str:
        label = {"primary": "primary key", "unique": "unique constraint",
                 "check": "check constraint", "foreignkey": "foreign key"}[self.kind]
        return f"{label} '{self.name}'" if self.name else f"unnamed {label}"


@dataclass
class StoredObject:
    """An index or trigger of the table, re-created from its stored SQL."""

    name: str
    sql: str
    names: set[str]  # folded names it mentions


@dataclass
class TableModel:
    """The table as reflected, then as the operations change it."""

    name: str
    columns: list[ColumnModel]
    constraints: list[ConstraintModel]
    with_rowid: bool = True
    strict: bool = False
    autoincrement: bool = False
    indexes: list[StoredObject] = field(default_factory=list)
    triggers: list[StoredObject] = field(default_factory=list)

    def column(self, name: str) -> ColumnModel | None:
        wanted = fold(name)
        return next((c for c in self.columns if fold(c.name) == wanted), None)

    def primary_key(self) -> ConstraintModel | None:
        return next((c for c in self.constraints if c.kind == "primary"), None)

    def rowid_alias(self, compile_type: Any) -> ColumnModel | None:
        """The ``INTEGER PRIMARY KEY`` column that is the rowid, if any (its declared
        type, as ``compile_type`` renders it, is exactly ``INTEGER``)."""
        pk = self.primary_key()
        if not self.with_rowid or pk is None or len(pk.columns) != 1:
            return None
        column = pk.columns[0]
        text = compile_type(column.type).split(" COLLATE ")[0]
        return column if _spelling(text) == "INTEGER" else None

    def has_rowid_name(self) -> bool:
        return any(fold(c.name) in ("rowid", "oid", "_rowid_") for c in self.columns)


# --------------------------------------------------------------------------------------
# the rebuild
# --------------------------------------------------------------------------------------

@dataclass
class _Entry:
    """A column followed through the operations by identity (names change)."""

    original: str | None  # name in the table before the rebuild; None when added
    current: str
    dropped: bool = False
    model: ColumnModel | None = None


class TableRebuild:
    """Produces the statements of one table rebuild, reading the live table through
    ``conn`` (inside the migration's transaction) as it goes."""

    def __init__(self, provider: "SqliteProvider", conn: "DbConnection",
                 operations: Sequence[ops.MigrationOperation]):
        self.provider = provider
        self.conn = conn
        self.operations = tuple(operations)
        first = self.operations[0]
        for op in self.operations:
            if op.schema not in (None, "main"):
                raise RebuildError(
                    f"{op.describe()}: the SQLite rebuild works on tables of the main "
                    f"database only, not schema '{op.schema}'.")
        self.requested = first.table
        self.table = self._stored_name(first.table)
        self.tmp = TMP_PREFIX + self.table
        self.q = provider.sql.quote

    # -- helpers --------------------------------------------------------------------------
    def _query(self, sql: str, params: Any = ()) -> list[tuple]:
        return self.conn.query(sql, params)

    def _stored_name(self, table: str) -> str:
        rows = self._query("SELECT name FROM sqlite_master WHERE type = 'table' "
                           "AND name = ? COLLATE NOCASE", (table,))
        if not rows:
            what = "; ".join(op.describe() for op in self.operations)
            raise RebuildError(f"{what}: table '{table}' does not exist.")
        return rows[0][0]

    def _error(self, message: str) -> RebuildError:
        return RebuildError(f"SQLite rebuild of table '{self.table}': {message}")

    # -- step 1: names ----------------------------------------------------------------------
    def _follow_names(self) -> tuple[list[_Entry], list[tuple[ops.MigrationOperation, Any]]]:
        """Follow column names through the operations; return the entries and, for each
        operation, the entries it targets."""
        names = [r[0] for r in self._query(
            "SELECT name FROM pragma_table_xinfo(?) WHERE hidden != 1 ORDER BY cid",
            (self.table,))]
        entries = [_Entry(n, n) for n in names]

        def live(name: str, op: ops.MigrationOperation) -> _Entry:
            wanted = fold(name)
            for entry in entries:
                if not entry.dropped and fold(entry.current) == wanted:
                    return entry
            columns = ", ".join(e.current for e in entries if not e.dropped)
            raise self._error(f"{op.describe()}: column '{name}' does not exist "
                              f"(columns: {columns}).")

        def free(name: str, op: ops.MigrationOperation, own: _Entry | None = None) -> str:
            self.provider.sql.check_identifier(name, "column")
            for entry in entries:
                if entry is not own and not entry.dropped and fold(entry.current) == fold(name):
                    raise self._error(f"{op.describe()}: a column named '{entry.current}' "
                                      "already exists.")
            return name

        resolved: list[tuple[ops.MigrationOperation, Any]] = []
        for op in self.operations:
            if isinstance(op, (ops.AlterColumn, ops.RenameColumn)):
                entry = live(op.column_name, op)
                resolved.append((op, entry))
                if op.new_column_name is not UNCHANGED:
                    entry.current = free(op.new_column_name, op, entry)
            elif isinstance(op, ops.DropColumn):
                entry = live(op.column_name, op)
                entry.dropped = True
                resolved.append((op, entry))
            elif isinstance(op, ops.AddColumn):
                entry = _Entry(None, free(op.column.name, op))
                entries.append(entry)
                resolved.append((op, entry))
            elif isinstance(op, ops.CreateForeignKey):
                if op.referent_schema not in (None, "main"):
                    raise self._error(f"{op.describe()}: SQLite foreign keys cannot reference "
                                      f"a table in another schema ('{op.referent_schema}').")
                local = [live(c, op) for c in op.local_cols]
                self_ref = fold(op.referent) in (fold(self.table), fold(self.requested))
                remote = [live(c, op) for c in op.remote_cols] if self_ref else list(op.remote_cols)
                resolved.append((op, (local, remote)))
            elif isinstance(op, (ops.CreatePrimaryKey, ops.CreateUniqueConstraint)):
                resolved.append((op, [live(c, op) for c in op.columns]))
            else:
                resolved.append((op, None))
        return entries, resolved

    def _renames(self, entries: list[_Entry]) -> list[tuple[str, str]]:
        """``RENAME COLUMN`` pairs that give surviving columns their final names, through
        temporary names when a final name is still taken in the old table."""
        moving = [e for e in entries if e.original is not None and not e.dropped
                  and e.original != e.current]
        if not moving:
            return []
        taken = {fold(e.original) for e in entries if e.original is not None}
        clash = any(fold(e.current) in taken for e in moving)
        if not clash:
            pairs = [(e.original, e.current) for e in moving]
            for entry in moving:
                entry.original = entry.current  # what the old table calls it after step 1
            return pairs
        # two phases: everything that moves, and every dropped column whose name is
        # wanted, goes to a temporary name first
        wanted = {fold(e.current) for e in moving}
        parked = moving + [e for e in entries if e.original is not None and e.dropped
                           and fold(e.original) in wanted]
        used = set(taken) | wanted
        pairs, finals = [], []
        counter = 0
        for entry in parked:
            counter += 1
            while fold(f"_npa_col_{counter}") in used:
                counter += 1
            temp = f"_npa_col_{counter}"
            used.add(fold(temp))
            pairs.append((entry.original, temp))
            if entry.dropped:
                entry.original = temp  # the old table now calls it so
            else:
                finals.append((temp, entry.current))
        for entry in moving:
            entry.original = entry.current
        return pairs + finals

    # -- step 2: reflection -----------------------------------------------------------------
    def reflect(self) -> TableModel:
        """The live table (after the renames) as a :class:`TableModel`."""
        import sqlalchemy as sa

        provider = self.provider
        sql = self._query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (self.table,))[0][0] or ""
        text = scan_create_table(sql)
        declared = {r[0]: (r[1], r[2]) for r in self._query(
            "SELECT name, type, hidden FROM pragma_table_xinfo(?)", (self.table,))}
        inspector = inspector_for(self.conn)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                reflected = inspector.get_columns(self.table)
                pk = inspector.get_pk_constraint(self.table)
                fks = inspector.get_foreign_keys(self.table)
                options = inspector.get_table_options(self.table)
        finally:
            inspector.bind.dispose()

        columns: list[ColumnModel] = []
        for info in reflected:
            name = info["name"]
            type_text, hidden = declared.get(name, ("", 0))
            if hidden in (2, 3):  # some SQLite versions report "INTEGER GENERATED ALWAYS"
                type_text = re.sub(r"\s*GENERATED\s+ALWAYS\s*$", "", type_text, flags=re.I)
            collation = text.collations.get(fold(name))
            type_ = info["type"]
            if collation or isinstance(type_, sa.types.NullType) or \
                    _spelling(provider.sql.compile_type(type_)) != _spelling(type_text):
                type_ = _DeclaredType.make(type_text, collation, provider.sql.preparer)
            computed = None
            if hidden in (2, 3):
                expression = text.generated.get(fold(name))
                if expression is None:
                    raise self._error(f"cannot read the expression of generated column "
                                      f"'{name}' from the table definition.")
                computed = (expression, hidden == 3)
            columns.append(ColumnModel(name, type_, bool(info["nullable"]), info["default"],
                                       computed, source=name,
                                       was_nullable=bool(info["nullable"])))
        by_name = {fold(c.name): c for c in columns}

        constraints: list[ConstraintModel] = []
        if pk and pk.get("constrained_columns"):
            constraints.append(ConstraintModel(
                "primary", text.primary_key_name,
                [by_name[fold(c)] for c in pk["constrained_columns"]]))
        for index_name, origin in self._query(
                "SELECT name, origin FROM pragma_index_list(?) ORDER BY seq DESC", (self.table,)):
            if origin != "u":
                continue
            cols = [r[0] for r in self._query(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (index_name,))]
            key = tuple(fold(c) for c in cols)
            constraints.append(ConstraintModel("unique", text.unique_names.get(key),
                                               [by_name[c] for c in key]))
        for name, body in text.checks:
            constraints.append(ConstraintModel("check", name, sqltext=body))
        actions = self._fk_actions()
        for fk in fks:
            local = tuple(fold(c) for c in fk["constrained_columns"])
            referent = fk["referred_table"]
            if not fk["referred_columns"]:
                raise self._error(
                    f"the foreign key on ({', '.join(fk['constrained_columns'])}) references "
                    f"table '{referent}', which does not exist, without naming its columns; "
                    "the rebuild cannot restate it. Drop that foreign key first.")
            self_ref = fold(referent) == fold(self.table)
            remote = [by_name[fold(c)] if self_ref else c for c in fk["referred_columns"]]
            ondelete, onupdate = actions.get((local, fold(referent)), (None, None))
            about = text.foreign_key(local, fold(referent))
            constraints.append(ConstraintModel(
                "foreignkey", about.name if about else None, [by_name[c] for c in local],
                referent=referent, remote=remote, ondelete=ondelete, onupdate=onupdate,
                deferrable=about.deferrable if about else None,
                initially=about.initially if about else None))

        model = TableModel(self.table, columns, constraints,
                           with_rowid=options.get("sqlite_with_rowid", True),
                           strict=bool(options.get("sqlite_strict", False)),
                           autoincrement=text.autoincrement)
        for kind, target in (("index", model.indexes), ("trigger", model.triggers)):
            for name, stored in self._query(
                    "SELECT name, sql FROM sqlite_master WHERE type = ? AND tbl_name = ? "
                    "AND sql IS NOT NULL ORDER BY rowid", (kind, self.table)):
                names = index_expression_names(stored) if kind == "index" else names_used(stored)
                target.append(StoredObject(name, stored, names))
        return model

    def _fk_actions(self) -> dict[tuple, tuple[str | None, str | None]]:
        """``ON DELETE`` / ``ON UPDATE`` of each foreign key, from the pragma (SQLAlchemy
        parses them from the SQL text, which fails for quoted names)."""
        grouped: dict[int, dict] = {}
        for fk_id, _seq, table, local, _remote, on_update, on_delete in self._query(
                'SELECT id, seq, "table", "from", "to", on_update, on_delete '
                "FROM pragma_foreign_key_list(?) ORDER BY id, seq", (self.table,)):
            entry = grouped.setdefault(fk_id, {"cols": [], "table": table,
                                               "actions": (on_delete, on_update)})
            entry["cols"].append(fold(local))

        def action(value: str | None) -> str | None:
            return None if value in (None, "", "NO ACTION") else value

        return {(tuple(e["cols"]), fold(e["table"])): (action(e["actions"][0]),
                                                       action(e["actions"][1]))
                for e in grouped.values()}

    # -- applying the operations -----------------------------------------------------------
    def apply(self, model: TableModel, entries: list[_Entry],
              resolved: list[tuple[ops.MigrationOperation, Any]]) -> None:
        """Change ``model`` as the operations say."""
        for entry in entries:
            if entry.original is not None:
                entry.model = model.column(entry.original)
        for op, target in resolved:
            if isinstance(op, ops.AlterColumn):
                self._alter(target.model, op)
            elif isinstance(op, ops.DropColumn):
                self._drop_column(model, target.model, op)
            elif isinstance(op, ops.AddColumn):
                target.model = self._add_column(model, op)
            elif isinstance(op, ops.CreateForeignKey):
                local, remote = target
                self._add_constraint(model, op, ConstraintModel(
                    "foreignkey", op.name, [e.model for e in local], referent=op.referent,
                    remote=[e.model if isinstance(e, _Entry) else e for e in remote],
                    ondelete=op.ondelete, onupdate=op.onupdate, created=True))
            elif isinstance(op, ops.CreatePrimaryKey):
                existing = model.primary_key()
                if existing is not None:
                    raise self._error(
                        f"{op.describe()}: the table already has a primary key "
                        f"({', '.join(c.name for c in existing.columns)}). Drop it first "
                        "with drop_constraint.")
                self._add_constraint(model, op, ConstraintModel(
                    "primary", op.name, [e.model for e in target], created=True))
            elif isinstance(op, ops.CreateUniqueConstraint):
                self._add_constraint(model, op, ConstraintModel(
                    "unique", op.name, [e.model for e in target], created=True))
            elif isinstance(op, ops.CreateCheckConstraint):
                self._add_constraint(model, op, ConstraintModel(
                    "check", op.name, sqltext=op.condition, created=True))
            elif isinstance(op, ops.DropConstraint):
                self._drop_constraint(model, op)
            # RenameColumn: done by step 1; the final names are set below
        for entry in entries:
            if not entry.dropped and entry.model is not None:
                entry.model.name = entry.current

    def _alter(self, column: ColumnModel, op: ops.AlterColumn) -> None:
        if op.type_ is not UNCHANGED:
            type_ = op.type_() if isinstance(op.type_, type) else op.type_
            self.provider.sql.compile_type(type_)  # fail here, naming nothing half-done
            column.type = type_
        if op.nullable is not UNCHANGED:
            column.nullable = bool(op.nullable)
        if op.server_default is not UNCHANGED:
            column.default = (None if op.server_default is None
                              else self.provider.sql.render_default(op.server_default))

    def _drop_column(self, model: TableModel, column: ColumnModel,
                     op: ops.DropColumn) -> None:
        name = fold(column.name)
        users = [c.name for c in model.columns
                 if c is not column and c.computed and name in names_used(c.computed[0])]
        if users:
            raise self._error(f"{op.describe()}: generated column(s) {', '.join(users)} "
                              "are computed from it; drop or change them first.")
        triggers = [t.name for t in model.triggers if name in t.names]
        if triggers:
            raise self._error(f"{op.describe()}: trigger(s) {', '.join(triggers)} use the "
                              "column; drop them first (and recreate them without it).")
        model.columns.remove(column)
        kept = []
        for constraint in model.constraints:
            involved = (column in constraint.columns or column in constraint.remote
                        or (constraint.kind == "check"
                            and name in names_used(constraint.sqltext or "")))
            if not involved:
                kept.append(constraint)
        model.constraints = kept
        model.indexes = [i for i in model.indexes if name not in i.names]

    def _add_column(self, model: TableModel, op: ops.AddColumn) -> ColumnModel:
        import sqlalchemy as sa

        column = op.column
        if isinstance(column.type, sa.types.NullType):
            raise self._error(f"{op.describe()}: the column has no type.")
        computed = None
        if column.computed is not None:
            computed = (self.provider.sql.compile_literal(column.computed.sqltext),
                        column.computed.persisted)
        default = (self.provider.sql.render_default(column.server_default)
                   if column.server_default is not None else None)
        added = ColumnModel(column.name, column.type, bool(column.nullable), default,
                            computed, source=None)
        model.columns.append(added)
        if column.primary_key:
            if model.primary_key() is not None:
                raise self._error(f"{op.describe()}: the table already has a primary key.")
            model.constraints.append(ConstraintModel("primary", None, [added], created=True))
        if column.unique:
            model.constraints.append(ConstraintModel("unique", None, [added], created=True))
        for fk in column.foreign_keys:
            referent, _, remote = fk._get_colspec().rpartition(".")
            self_ref = fold(referent) == fold(self.table)
            model.constraints.append(ConstraintModel(
                "foreignkey", fk.name, [added], referent=referent,
                remote=[model.column(remote) if self_ref else remote],
                ondelete=fk.ondelete, onupdate=fk.onupdate, deferrable=fk.deferrable,
                initially=fk.initially, created=True))
        for constraint in column.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                model.constraints.append(ConstraintModel(
                    "check", constraint.name,
                    sqltext=self.provider.sql.compile_literal(constraint.sqltext), created=True))
        return added

    def _add_constraint(self, model: TableModel, op: Any, constraint: ConstraintModel) -> None:
        self.provider.sql.check_identifier(op.name, "constraint")
        if any(c.name is not None and fold(c.name) == fold(op.name) for c in model.constraints):
            raise self._error(f"{op.describe()}: a constraint named '{op.name}' already "
                              "exists on the table.")
        model.constraints.append(constraint)

    def _drop_constraint(self, model: TableModel, op: ops.DropConstraint) -> None:
        for constraint in model.constraints:
            if constraint.name is not None and fold(constraint.name) == fold(op.name) and \
                    op.type_ in (None, constraint.kind):
                model.constraints.remove(constraint)
                return
        named = [c.describe() for c in model.constraints if c.name]
        raise self._error(
            f"{op.describe()}: the table has no {op.type_ + ' ' if op.type_ else ''}"
            f"constraint named '{op.name}' (named constraints: "
            f"{', '.join(named) if named else 'none'}). SQLite cannot drop unnamed "
            "constraints by name.")

    # -- checks before copying -----------------------------------------------------------
    def precheck(self, model: TableModel) -> None:
        """Fail with a clear message before copying when the data cannot fit."""
        q = self.q
        for column in model.columns:
            if column.nullable or column.computed:
                continue
            if column.source is None:
                if column.default is None and self._count(f"SELECT count(*) FROM {q(self.table)}"):
                    raise self._error(
                        f"cannot add NOT NULL column '{column.name}' without a "
                        "server_default: the table has rows. Give it a server_default, or "
                        "add it nullable, fill it, then alter it to NOT NULL.")
            elif column.was_nullable:
                nulls = self._count(f"SELECT count(*) FROM {q(self.table)} "
                                    f"WHERE {q(column.source)} IS NULL")
                if nulls:
                    raise self._error(
                        f"cannot make column '{column.name}' NOT NULL: {nulls} row(s) hold "
                        "NULL in it. Update those rows first (e.g. b.execute(\"UPDATE ... "
                        "SET ... WHERE ... IS NULL\")), then alter the column.")
        for constraint in model.constraints:
            if not constraint.created or constraint.kind not in ("primary", "unique") or \
                    any(c.source is None for c in constraint.columns):
                continue
            cols = ", ".join(q(c.source) for c in constraint.columns)
            present = " AND ".join(f"{q(c.source)} IS NOT NULL" for c in constraint.columns)
            rows = self._query(
                f"SELECT {cols}, count(*) FROM {q(self.table)} WHERE {present} "
                f"GROUP BY {cols} HAVING count(*) > 1 LIMIT {SAMPLE_ROWS}")
            if rows:
                sample = "; ".join(f"{tuple(r[:-1])!r} x{r[-1]}" for r in rows)
                raise self._error(
                    f"cannot add {constraint.describe()} on "
                    f"({', '.join(c.name for c in constraint.columns)}): values repeat "
                    f"(value x times: {sample}). Remove the duplicates first.")

    def _count(self, sql: str) -> int:
        return self._query(sql)[0][0]

    def _referencing_tables(self) -> list[str]:
        """Other tables whose foreign keys reference this table."""
        rows = self._query(
            "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) "
            "AS f WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE "
            "AND m.name != ? ORDER BY m.name", (self.table, self.table))
        return [r[0] for r in rows]

    # -- the DDL ------------------------------------------------------------------------------
    def create_table_sql(self, model: TableModel) -> str:
        """``CREATE TABLE "_npa_tmp_<t>"`` for the model, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        metadata = sa.MetaData()
        columns = {}
        for cm in model.columns:
            args: list = []
            if cm.computed is not None:
                args.append(sa.Computed(sa.literal_column(cm.computed[0]),
                                        persisted=cm.computed[1] or None))
            default = (sa.DefaultClause(sa.literal_column(cm.default))
                       if cm.default is not None else None)
            columns[id(cm)] = sa.Column(cm.name, cm.type, *args, nullable=cm.nullable,
                                        server_default=default, autoincrement=False)
        alias = model.rowid_alias(self.provider.sql.compile_type)
        table = sa.Table(self.tmp, metadata, *columns.values(),
                         sqlite_autoincrement=model.autoincrement and alias is not None,
                         sqlite_with_rowid=model.with_rowid, sqlite_strict=model.strict)
        for constraint in model.constraints:
            cols = [columns[id(c)] for c in constraint.columns]
            if constraint.kind == "primary":
                table.append_constraint(sa.PrimaryKeyConstraint(*cols, name=constraint.name))
            elif constraint.kind == "unique":
                table.append_constraint(sa.UniqueConstraint(*cols, name=constraint.name))
            elif constraint.kind == "check":
                table.append_constraint(sa.CheckConstraint(
                    sa.literal_column(constraint.sqltext), name=constraint.name))
            else:
                remote_names = [r.name if isinstance(r, ColumnModel) else r
                                for r in constraint.remote]
                target = metadata.tables.get(constraint.referent)
                if target is None:
                    target = sa.Table(constraint.referent, metadata)
                for name in remote_names:
                    if name not in target.c:
                        target.append_column(sa.Column(name, sa.types.NullType()))
                table.append_constraint(sa.ForeignKeyConstraint(
                    cols, [target.c[n] for n in remote_names], name=constraint.name,
                    ondelete=constraint.ondelete, onupdate=constraint.onupdate,
                    deferrable=constraint.deferrable, initially=constraint.initially))
        return self.provider.sql.compile(sa.schema.CreateTable(table))

    def copy_sql(self, old_rowid: bool, model: TableModel) -> str:
        """``INSERT INTO "_npa_tmp_<t>" (...) SELECT ... FROM t``; ``old_rowid``: the old
        table has a ``rowid`` that no column shadows, so it can be kept."""
        q = self.q
        pairs = [(q(c.name), q(c.source)) for c in model.columns
                 if c.source is not None and not c.computed]
        keep_rowid = (old_rowid and model.with_rowid
                      and model.rowid_alias(self.provider.sql.compile_type) is None
                      and not model.has_rowid_name())
        if keep_rowid:
            pairs.insert(0, ("rowid", "rowid"))
        if not pairs:
            raise self._error("no column of the old table survives, so its rows cannot be "
                              "copied; create a new table instead.")
        return (f"INSERT INTO {q(self.tmp)} ({', '.join(t for t, _ in pairs)}) "
                f"SELECT {', '.join(s for _, s in pairs)} FROM {q(self.table)}")

    # -- the statements ------------------------------------------------------------------
    def statements(self, plain_drop: bool = False) -> Iterator[Statement]:
        """The rebuild's statements; a generator, so it reflects the table after the
        column renames ran. ``plain_drop``: a lone ``drop_column`` that may turn out not
        to need the rebuild."""
        entries, resolved = self._follow_names()
        for old, new in self._renames(entries):
            yield Statement(f"ALTER TABLE {self.q(self.table)} RENAME COLUMN {self.q(old)} "
                            f"TO {self.q(new)}")
        model = self.reflect()
        if plain_drop and not self._drop_needs_rebuild(model, resolved[0][1].original):
            yield from (Statement(s) for s in self.provider.sql.sql_drop_column(
                self.operations[0], RenderContext(self.conn)))
            return
        old_rowid = model.with_rowid and not model.has_rowid_name()
        self.apply(model, entries, resolved)
        yield from self._rebuild(old_rowid, model)

    def _drop_needs_rebuild(self, model: TableModel, name: str) -> bool:
        folded = fold(name)
        column = model.column(name)
        if any(column in c.columns or column in c.remote or
               (c.kind == "check" and folded in names_used(c.sqltext or ""))
               for c in model.constraints):
            return True
        if any(folded in i.names for i in model.indexes):
            return True
        return any(c.computed and folded in names_used(c.computed[0]) for c in model.columns)

    def _rebuild(self, old_rowid: bool, model: TableModel) -> Iterator[Statement]:
        q = self.q
        if self._query("SELECT 1 FROM sqlite_master WHERE name = ? COLLATE NOCASE", (self.tmp,)):
            raise self._error(
                f"a table named '{self.tmp}' already exists (left by an interrupted rebuild "
                "outside a transaction?). Check its rows, then drop or rename it.")
        self.precheck(model)
        referencing = self._referencing_tables()
        foreign_keys_on = self._count("PRAGMA foreign_keys")
        if foreign_keys_on:
            self_refs = [c for c in model.constraints if c.kind == "foreignkey"
                         and fold(c.referent) == fold(self.table)]
            if referencing or self_refs:
                names = ", ".join(f"'{t}'" for t in referencing + ([self.table] if self_refs
                                                                   else []))
                raise self._error(
                    f"PRAGMA foreign_keys is ON on this connection and {names} reference(s) "
                    "the table: dropping the old copy would fire their ON DELETE actions. "
                    "SQLite cannot turn foreign keys off inside a transaction; run the "
                    "migration on a connection with foreign_keys OFF (npa's own "
                    "connections are), and the rebuild checks the foreign keys itself.")
        defer = foreign_keys_on and not self._count("PRAGMA defer_foreign_keys")
        legacy = self._count("PRAGMA legacy_alter_table")
        sequence = None
        if model.autoincrement and self._query(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"):
            rows = self._query("SELECT seq FROM sqlite_sequence WHERE name = ?", (self.table,))
            sequence = rows[0][0] if rows else None
        views = self._dependent_views()
        alias = model.rowid_alias(self.provider.sql.compile_type)

        if defer:
            yield Statement("PRAGMA defer_foreign_keys = ON")
        yield Statement(self.create_table_sql(model))
        yield Statement(self.copy_sql(old_rowid, model))
        yield Statement(f"DROP TABLE {q(self.table)}")
        if not legacy:
            yield Statement("PRAGMA legacy_alter_table = ON")
        yield Statement(f"ALTER TABLE {q(self.tmp)} RENAME TO {q(self.table)}")
        if not legacy:
            yield Statement("PRAGMA legacy_alter_table = OFF")
        if sequence is not None and alias is not None:
            yield from self._sequence(sequence)
        for stored in model.indexes + model.triggers:
            yield Statement(stored.sql)
        yield Statement(f"PRAGMA foreign_key_check({q(self.table)})",
                        check=lambda cursor: self._verify(cursor, None, views))
        for child in referencing:
            yield Statement(f"PRAGMA foreign_key_check({q(child)})",
                            check=lambda cursor, child=child: self._verify(cursor, child, []))
        if defer:
            yield Statement("PRAGMA defer_foreign_keys = OFF")

    def _sequence(self, value: int) -> Iterator[Statement]:
        literal = self.provider.sql.render_default
        yield Statement("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?",
                        (value, self.table),
                        script=f"UPDATE sqlite_sequence SET seq = max(seq, {value}) "
                               f"WHERE name = {literal(self.table)}")
        yield Statement("INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS "
                        "(SELECT 1 FROM sqlite_sequence WHERE name = ?)",
                        (self.table, value, self.table),
                        script=f"INSERT INTO sqlite_sequence (name, seq) SELECT "
                               f"{literal(self.table)}, {value} WHERE NOT EXISTS (SELECT 1 "
                               f"FROM sqlite_sequence WHERE name = {literal(self.table)})")

    def _dependent_views(self) -> list[str]:
        """Views that mention the table and compile now (they must still compile)."""
        views = []
        for name, sql in self._query("SELECT name, sql FROM sqlite_master WHERE type = 'view' "
                                     "ORDER BY rowid"):
            if fold(self.table) not in names_used(sql or ""):
                continue
            try:
                self.conn.raw.execute(f"EXPLAIN SELECT * FROM {self.q(name)}").fetchall()
            except Exception:  # already broken: not this rebuild's business
                continue
            views.append(name)
        return views

    def _verify(self, cursor: Any, child: str | None, views: list[str]) -> None:
        """Check of ``PRAGMA foreign_key_check``: fail on violations (of this table's
        foreign keys, or of ``child``'s references to it) and on views that broke."""
        rows = cursor.fetchall()
        if child is not None:
            rows = [r for r in rows if fold(r[2]) == fold(self.table)]
        if rows:
            owner = child or self.table
            sample = ", ".join(f"rowid {r[1]} -> '{r[2]}'" for r in rows[:SAMPLE_ROWS])
            more = f" and {len(rows) - SAMPLE_ROWS} more" if len(rows) > SAMPLE_ROWS else ""
            raise self._error(
                f"{len(rows)} row(s) of table '{owner}' violate a foreign key after the "
                f"rebuild ({sample}{more}). Fix those rows or the constraint, then run the "
                "migration again.")
        for view in views:
            try:
                cursor.connection.execute(f"EXPLAIN SELECT * FROM {self.q(view)}").fetchall()
            except Exception as exc:
                raise self._error(
                    f"view '{view}' no longer works after the rebuild ({exc}). Drop or "
                    "recreate the view in this migration before changing the table.") from exc


def _spelling(type_text: str) -> str:
    """A declared type normalised for comparison: upper case, no whitespace."""
    return re.sub(r"\s+", "", type_text or "").upper()
