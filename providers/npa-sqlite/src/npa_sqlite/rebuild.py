"""SQLite's quirks of the core table rebuild (:mod:`npa_migrations.provider.rebuild`).

SQLite's ``ALTER TABLE`` only renames tables and columns, adds plain columns and drops
unconstrained ones; everything else is done by the core rebuild, which follows the
procedure SQLite documents (https://www.sqlite.org/lang_altertable.html, "Making Other
Kinds Of Table Schema Changes"). What only SQLite needs is here, called from
:class:`~npa_sqlite.provider.SqliteSql`'s rebuild methods:

* **whether a** ``drop_column`` **rebuilds**, decided when it runs, from the live table
  (:func:`drop_column_rebuild`; which other operations rebuild is decided while a run
  is planned, by :mod:`npa_sqlite.inplace`);
* **what reflection misses** (:func:`read_table`): SQLite keeps constraint names,
  CHECK bodies, collations, generated-column expressions, ``AUTOINCREMENT`` and
  ``DEFERRABLE`` only in the stored ``CREATE TABLE`` text, which SQLAlchemy's regular
  expressions misread when names hold quotes or spaces (:mod:`npa_sqlite.sqlscan` reads
  it instead); declared types are kept as written (``INT PRIMARY KEY`` must not become
  a rowid alias); indexes and triggers are re-created from their stored SQL;
* **the rowid** is copied when no column is the rowid alias, and the ``AUTOINCREMENT``
  counter (``sqlite_sequence``) restored (:func:`prepare_table`, :func:`epilogue`);
* **the rename** runs with ``PRAGMA legacy_alter_table = ON`` (:func:`rename`), so
  views and triggers of other tables that name the table do not make it fail while the
  table is missing; they name it again once the rename is done;
* **foreign keys** (:func:`prologue`, :func:`epilogue`): ``PRAGMA foreign_keys`` cannot
  change inside a transaction and the procedure needs it off (npa's own connections
  leave it off). On a caller's connection with it on, dropping the old table would fire
  the ``ON DELETE`` actions of the tables referencing it, so such a rebuild is refused;
  others run with ``PRAGMA defer_foreign_keys = ON``. ``PRAGMA foreign_key_check`` on
  the table and on the tables that reference it fails the migration on any violation,
  naming the rows, and views that mention the table must still compile.

**Not preserved:** ``ON CONFLICT`` clauses of constraints, and the name of an
``INTEGER PRIMARY KEY AUTOINCREMENT`` constraint (SQLAlchemy renders that key inline);
a column whose type is altered gets the new type's collation (PostgreSQL's rule).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, Iterable

from npa_migrations import operations as ops
from npa_migrations.provider.rebuild import (SAMPLE_ROWS, ConstraintShape, IndexShape,
                                             TableRebuild, TableShape, TriggerShape,
                                             column_is_used, reflect_table)
from npa_migrations.schema.model import fold as casefold
from npa_migrations.statements import Statement

from .sqlscan import (TableText, fold, index_expression_names, names_used,
                      scan_create_table)

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider import RenderContext

    from .provider import SqliteProvider

#: names that reach the rowid when no column takes them
ROWID_NAMES = ("rowid", "oid", "_rowid_")


# --------------------------------------------------------------------------------------
# a lone drop_column
# --------------------------------------------------------------------------------------

def drop_column_rebuild(provider: "SqliteProvider", operation: ops.DropColumn,
                        context: "RenderContext") -> TableRebuild | None:
    """The table rebuild a ``drop_column`` needs, decided from the live table (offline:
    from the schema the migrations build): ``None`` (plain ``ALTER TABLE ... DROP
    COLUMN``) unless an index, a constraint or a generated column uses the column."""
    rebuild = TableRebuild(provider, context.connection, (operation,), model=context.schema)
    try:
        table = rebuild.read()
    finally:
        rebuild.close()
    column = table.column(operation.column_name)
    if column is not None and not column_is_used(table, column, provider.sql.names_in_sql):
        return None
    return rebuild  # a missing column: the rebuild's error names the table's columns


# --------------------------------------------------------------------------------------
# what reflection misses
# --------------------------------------------------------------------------------------

def read_table(rebuild: TableRebuild) -> TableShape:
    """The table as SQLAlchemy's inspector reads it, corrected with what SQLite keeps
    only in ``sqlite_master`` and the ``PRAGMA`` functions."""
    if rebuild.schema not in (None, "main"):
        raise rebuild.error(f"the SQLite rebuild works on tables of the main database "
                            f"only, not schema '{rebuild.schema}'.")
    table = reflect_table(rebuild, uniques=False, checks=False, indexes=False)
    text = scan_create_table(rebuild.query(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        (rebuild.table,))[0][0] or "")
    _keep_declared_types(rebuild, table, text)
    by_name = {fold(c.name): c for c in table.columns}
    primary = [c for c in table.constraints if c.kind == "primary"]
    for key in primary:
        key.name = text.primary_key_name
    uniques = []
    for index_name, origin in rebuild.query(
            "SELECT name, origin FROM pragma_index_list(?) ORDER BY seq DESC", (rebuild.table,)):
        if origin == "u":
            key = tuple(fold(r[0]) for r in rebuild.query(
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (index_name,)))
            uniques.append(ConstraintShape("unique", text.unique_names.get(key),
                                           [by_name[c] for c in key]))
    checks = [ConstraintShape("check", name, sqltext=body) for name, body in text.checks]
    foreign_keys = [c for c in table.constraints if c.kind == "foreignkey"]
    _name_foreign_keys(rebuild, foreign_keys, text)
    table.constraints = primary + uniques + checks + foreign_keys
    if text.autoincrement:
        table.options["sqlite_autoincrement"] = True
    table.indexes = [IndexShape(name, sql=sql, uses=_casefolded(index_expression_names(sql)))
                     for name, sql in _stored(rebuild, "index")]
    table.triggers = [TriggerShape(name, sql, _casefolded(names_used(sql)))
                      for name, sql in _stored(rebuild, "trigger")]
    return table


def names_in_sql(sql: str) -> set[str]:
    """Names an SQL expression mentions, read with SQLite's quoting rules
    (:func:`~npa_sqlite.sqlscan.names_used`), folded as the core compares them."""
    return _casefolded(names_used(sql))


def _casefolded(names: Iterable[str]) -> set[str]:
    """Names folded by SQLite's rule (ASCII only) folded again as the core compares them
    (``str.casefold``)."""
    return {casefold(n) for n in names}


def _stored(rebuild: TableRebuild, kind: str) -> list[tuple[str, str]]:
    return rebuild.query("SELECT name, sql FROM sqlite_master WHERE type = ? AND tbl_name = ? "
                         "AND sql IS NOT NULL ORDER BY rowid", (kind, rebuild.table))


def _keep_declared_types(rebuild: TableRebuild, table: TableShape, text: TableText) -> None:
    """Columns keep their declared type text where SQLAlchemy would spell it differently
    or it carries a collation; generated columns their expression as written."""
    import sqlalchemy as sa

    declared = {r[0]: (r[1], r[2]) for r in rebuild.query(
        "SELECT name, type, hidden FROM pragma_table_xinfo(?)", (rebuild.table,))}
    sql = rebuild.sql
    for column in table.columns:
        type_text, hidden = declared.get(column.name, ("", 0))
        if hidden in (2, 3):  # some SQLite versions report "INTEGER GENERATED ALWAYS"
            type_text = re.sub(r"\s*GENERATED\s+ALWAYS\s*$", "", type_text, flags=re.I)
            expression = text.generated.get(fold(column.name))
            if expression is None:
                raise rebuild.error(f"cannot read the expression of generated column "
                                    f"'{column.name}' from the table definition.")
            column.computed = (expression, hidden == 3)
        collation = text.collations.get(fold(column.name))
        if collation or isinstance(column.type, sa.types.NullType) or \
                _spelling(sql.compile_type(column.type)) != _spelling(type_text):
            column.type = declared_type(type_text, collation, sql.preparer)


def _name_foreign_keys(rebuild: TableRebuild, foreign_keys: list[ConstraintShape],
                       text: TableText) -> None:
    """Foreign keys get their names and deferral from the text, their ``ON DELETE`` /
    ``ON UPDATE`` from the pragma (SQLAlchemy parses both from the text, which fails for
    quoted names)."""
    grouped: dict[int, dict] = {}
    for fk_id, referent, local, on_update, on_delete in rebuild.query(
            'SELECT id, "table", "from", on_update, on_delete '
            "FROM pragma_foreign_key_list(?) ORDER BY id, seq", (rebuild.table,)):
        entry = grouped.setdefault(fk_id, {"cols": [], "referent": fold(referent),
                                           "actions": (on_delete, on_update)})
        entry["cols"].append(fold(local))
    actions = {(tuple(e["cols"]), e["referent"]): e["actions"] for e in grouped.values()}
    for fk in foreign_keys:
        key = (tuple(fold(c.name) for c in fk.columns), fold(fk.referent))
        ondelete, onupdate = actions.get(key, (None, None))
        fk.ondelete, fk.onupdate = _action(ondelete), _action(onupdate)
        about = text.foreign_key(*key)
        fk.name = about.name if about else None
        fk.deferrable = about.deferrable if about else None
        fk.initially = about.initially if about else None


def _action(value: str | None) -> str | None:
    return None if value in (None, "", "NO ACTION") else value


def _spelling(type_text: str) -> str:
    """A declared type normalised for comparison: upper case, no whitespace."""
    return re.sub(r"\s+", "", type_text or "").upper()


class _DeclaredTypes:
    """The SQLAlchemy type class that renders a column's declared type verbatim, made
    on first use (SQLAlchemy is imported lazily)."""

    cls: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls.cls is None:
            import sqlalchemy as sa

            class DeclaredType(sa.types.UserDefinedType):
                """A column type written exactly as SQLite stored it."""

                cache_ok = True

                def __init__(self, spec: str):
                    self.spec = spec

                def get_col_spec(self, **kw: Any) -> str:
                    return self.spec

            cls.cls = DeclaredType
        return cls.cls


def declared_type(text: str, collation: str | None, preparer: Any) -> Any:
    """A type rendering ``text`` (and ``COLLATE <collation>``) exactly."""
    spec = text
    if collation:
        spec = f"{spec} COLLATE {preparer.quote_identifier(collation)}".strip()
    return _DeclaredTypes.get()(spec)


# --------------------------------------------------------------------------------------
# rowid, AUTOINCREMENT and the statements around the copy
# --------------------------------------------------------------------------------------

def rowid_alias(table: TableShape, compile_type: Any) -> Any:
    """The ``INTEGER PRIMARY KEY`` column that is the rowid, if any (its declared type,
    as ``compile_type`` renders it, is exactly ``INTEGER``)."""
    key = table.primary_key()
    if not table.options.get("sqlite_with_rowid", True) or key is None or \
            len(key.columns) != 1:
        return None
    column = key.columns[0]
    text = compile_type(column.type).split(" COLLATE ")[0]
    return column if _spelling(text) == "INTEGER" else None


def _has_rowid_name(names: Iterable[str]) -> bool:
    return any(fold(n) in ROWID_NAMES for n in names)


def prepare_table(rebuild: TableRebuild, table: TableShape) -> None:
    """``AUTOINCREMENT`` only on a rowid alias; the old rowid copied along when the new
    table has one of its own that no column takes."""
    alias = rowid_alias(table, rebuild.sql.compile_type)
    if alias is None:
        table.options.pop("sqlite_autoincrement", None)
    with_rowid = table.options.get("sqlite_with_rowid", True)
    if (with_rowid and alias is None and not _has_rowid_name(rebuild.source_names)
            and not _has_rowid_name(c.name for c in table.columns)):
        table.copied_hidden = ["rowid"]


def _count(rebuild: TableRebuild, sql: str) -> int:
    return rebuild.query(sql)[0][0]


def _referencing_tables(rebuild: TableRebuild) -> list[str]:
    """Other tables whose foreign keys reference the table."""
    rows = rebuild.query(
        "SELECT DISTINCT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) "
        "AS f WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE "
        "AND m.name != ? ORDER BY m.name", (rebuild.table, rebuild.table))
    return [r[0] for r in rows]


def _defers_foreign_keys(rebuild: TableRebuild) -> bool:
    """Foreign keys are on, and not deferred yet: the rebuild defers them."""
    return bool(_count(rebuild, "PRAGMA foreign_keys")) and \
        not _count(rebuild, "PRAGMA defer_foreign_keys")


def prologue(rebuild: TableRebuild, table: TableShape) -> list[Statement]:
    """Refuse a rebuild that would fire ``ON DELETE`` actions; defer foreign keys.
    Offline, the script refuses it itself when foreign keys are on and tables reference
    the table (:func:`offline_check`)."""
    if rebuild.offline:
        if not _referenced_in_model(rebuild, table):
            return []
        return offline_check(f"PRAGMA foreign_keys must be OFF to rebuild {rebuild.table}, "
                             "which tables reference", "SELECT foreign_keys FROM pragma_foreign_keys")
    if _count(rebuild, "PRAGMA foreign_keys"):
        self_ref = any(c.kind == "foreignkey" and fold(c.referent) == fold(rebuild.table)
                       for c in table.constraints)
        referencing = _referencing_tables(rebuild) + ([rebuild.table] if self_ref else [])
        if referencing:
            names = ", ".join(f"'{t}'" for t in referencing)
            raise rebuild.error(
                f"PRAGMA foreign_keys is ON on this connection and {names} reference(s) "
                "the table: dropping the old copy would fire their ON DELETE actions. "
                "SQLite cannot turn foreign keys off inside a transaction; run the "
                "migration on a connection with foreign_keys OFF (npa's own connections "
                "are), and the rebuild checks the foreign keys itself.")
    return [Statement("PRAGMA defer_foreign_keys = ON")] if _defers_foreign_keys(rebuild) \
        else []


def rename(rebuild: TableRebuild) -> list[Statement]:
    """``ALTER TABLE <tmp> RENAME TO <table>`` with ``PRAGMA legacy_alter_table = ON``
    for that statement only (unless it is on already)."""
    statements = [Statement(f"ALTER TABLE {rebuild.quoted(rebuild.tmp)} "
                            f"RENAME TO {rebuild.sql.quote(rebuild.table)}")]
    if not rebuild.offline and _count(rebuild, "PRAGMA legacy_alter_table"):
        return statements
    return [Statement("PRAGMA legacy_alter_table = ON"), *statements,
            Statement("PRAGMA legacy_alter_table = OFF")]


def epilogue(rebuild: TableRebuild, table: TableShape) -> list[Statement]:
    """Restore the ``AUTOINCREMENT`` counter, check the foreign keys of the table and of
    the tables referencing it and that views still compile, undo the deferral. Offline
    the script checks the foreign keys itself (:func:`offline_check`)."""
    if rebuild.offline:
        names = [rebuild.table, *_referencing_in_model(rebuild)]
        counted = " + ".join(f"(SELECT COUNT(*) FROM pragma_foreign_key_check("
                             f"{_string(rebuild, n)}))" for n in names)
        return offline_check(f"rows violate a foreign key after the rebuild of {rebuild.table}",
                             f"SELECT {counted}")
    statements: list[Statement] = []
    if table.options.get("sqlite_autoincrement"):
        statements += _sequence(rebuild)
    views = _dependent_views(rebuild)
    statements.append(Statement(f"PRAGMA foreign_key_check({rebuild.sql.quote(rebuild.table)})",
                                check=lambda cursor: _verify(rebuild, cursor, None, views)))
    for child in _referencing_tables(rebuild):
        statements.append(Statement(
            f"PRAGMA foreign_key_check({rebuild.sql.quote(child)})",
            check=lambda cursor, child=child: _verify(rebuild, cursor, child, [])))
    if _defers_foreign_keys(rebuild):
        statements.append(Statement("PRAGMA defer_foreign_keys = OFF"))
    return statements


def offline_check(message: str, select: str) -> list[Statement]:
    """Statements of an offline script that fail it, saying ``message``, unless
    ``select`` returns 0: the value goes into a temporary table whose CHECK constraint is
    named after the message (SQLite's error names the constraint), so a script run with
    ``sqlite3 -bail`` stops there, inside the migration's transaction."""
    quoted = f'"npa_check_{hashlib.sha256(message.encode("utf-8")).hexdigest()[:12]}"'
    name = '"' + message.replace('"', '""') + '"'
    return [Statement(f"CREATE TEMP TABLE IF NOT EXISTS {quoted} (value INTEGER "
                      f"CONSTRAINT {name} CHECK (value = 0))"),
            Statement(f"DELETE FROM {quoted}"),
            Statement(f"INSERT INTO {quoted} (value) {select}")]


def _string(rebuild: TableRebuild, text: str) -> str:
    """``text`` as an SQL string literal, compiled by SQLAlchemy."""
    import sqlalchemy as sa

    return rebuild.sql.compile_literal(sa.literal(text, sa.String()))


def _referencing_in_model(rebuild: TableRebuild) -> list[str]:
    """Other tables of the schema model whose foreign keys reference the table."""
    return sorted(t.name for t in rebuild.model.tables.values()
                  if fold(t.name) != fold(rebuild.table)
                  and any(fold(fk.referred_table) == fold(rebuild.table)
                          for fk in t.foreign_keys))


def _referenced_in_model(rebuild: TableRebuild, table: TableShape) -> bool:
    """Whether tables of the schema model (the table itself included) reference it."""
    return bool(_referencing_in_model(rebuild)) or any(
        c.kind == "foreignkey" and fold(c.referent) == fold(rebuild.table)
        for c in table.constraints)


def _sequence(rebuild: TableRebuild) -> list[Statement]:
    """Put the table's ``sqlite_sequence`` row back (dropping the old table deleted it)."""
    if not rebuild.query("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                         "AND name = 'sqlite_sequence'"):
        return []
    rows = rebuild.query("SELECT seq FROM sqlite_sequence WHERE name = ?", (rebuild.table,))
    if not rows:
        return []
    value, name = rows[0][0], rebuild.table
    literal = rebuild.sql.render_default(name)
    return [
        Statement("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (value, name),
                  script=f"UPDATE sqlite_sequence SET seq = max(seq, {value}) "
                         f"WHERE name = {literal}"),
        Statement("INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS "
                  "(SELECT 1 FROM sqlite_sequence WHERE name = ?)", (name, value, name),
                  script=f"INSERT INTO sqlite_sequence (name, seq) SELECT {literal}, {value} "
                         f"WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = "
                         f"{literal})")]


def _dependent_views(rebuild: TableRebuild) -> list[str]:
    """Views that mention the table and compile now (they must still compile)."""
    views = []
    for name, sql in rebuild.query("SELECT name, sql FROM sqlite_master WHERE type = 'view' "
                                   "ORDER BY rowid"):
        if fold(rebuild.table) not in names_used(sql or ""):
            continue
        try:
            rebuild.conn.raw.execute(f"EXPLAIN SELECT * FROM {rebuild.sql.quote(name)}").fetchall()
        except Exception:  # already broken: not this rebuild's business
            continue
        views.append(name)
    return views


def _verify(rebuild: TableRebuild, cursor: Any, child: str | None, views: list[str]) -> None:
    """Check of ``PRAGMA foreign_key_check``: fail on violations (of the table's foreign
    keys, or of ``child``'s references to it) and on views that broke."""
    rows = cursor.fetchall()
    if child is not None:
        rows = [r for r in rows if fold(r[2]) == fold(rebuild.table)]
    if rows:
        owner = child or rebuild.table
        sample = ", ".join(f"rowid {r[1]} -> '{r[2]}'" for r in rows[:SAMPLE_ROWS])
        more = f" and {len(rows) - SAMPLE_ROWS} more" if len(rows) > SAMPLE_ROWS else ""
        raise rebuild.error(
            f"{len(rows)} row(s) of table '{owner}' violate a foreign key after the "
            f"rebuild ({sample}{more}). Fix those rows or the constraint, then run the "
            "migration again.")
    for view in views:
        try:
            cursor.connection.execute(f"EXPLAIN SELECT * FROM {rebuild.sql.quote(view)}").fetchall()
        except Exception as exc:
            raise rebuild.error(
                f"view '{view}' no longer works after the rebuild ({exc}). Drop or "
                "recreate the view in this migration before changing the table.") from exc
