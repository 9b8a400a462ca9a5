"""Reading given tables straight from ``pg_catalog``, for post-execution verification.

Verification reads back every table a migration touched, after every migration.
SQLAlchemy's inspector costs a dozen catalog queries for that (the table OIDs, then
columns, the enum and domain lists, indexes, the operator-class and access-method
lists, constraints of three kinds, each its own round trip): about 3 ms per builder
migration on a local server. Here four queries sent in one round trip (psycopg's
pipeline mode) read the columns, indexes, constraints and foreign keys of all the
tables asked for; the foreign keys through the query
:class:`~npa_postgres.comparison.PostgresSchemaRules` already reads them with.

What it reports is what the inspector path reports (same catalog functions:
``pg_get_expr`` for defaults and predicates, ``pg_get_indexdef`` for index expressions,
``pg_get_constraintdef`` for checks), except that a column's type is the text of
``format_type`` (``character varying(100)``), which the comparison takes as it is
(:class:`~npa_postgres.comparison.PostgresSchemaRules` folds PostgreSQL's spellings).
Drift detection, which reads whole schemas, still goes through the inspector.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from psycopg.pq import TransactionStatus

from npa_migrations.schema.model import (CheckModel, ColumnModel, ForeignKeyModel,
                                         IndexModel, TableModel, UniqueModel)

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

#: the tables asked for, in the schema asked for (``None``: the current schema)
_TABLES = """n.nspname = COALESCE(%(schema)s, current_schema())
       AND c.relname = ANY(%(tables)s)"""
#: the columns of a constraint key (``conkey`` / ``confkey``) by name, in key order
KEY_NAMES = """ARRAY(SELECT a.attname FROM unnest(con.{key}) WITH ORDINALITY AS k(num, pos)
                     JOIN pg_catalog.pg_attribute a
                       ON a.attrelid = con.{rel} AND a.attnum = k.num ORDER BY k.pos)"""
FOREIGN_KEYS = f"""
    SELECT c.relname, con.conname, {KEY_NAMES.format(key="conkey", rel="conrelid")},
           rn.nspname, rc.relname, {KEY_NAMES.format(key="confkey", rel="confrelid")},
           con.confdeltype, con.confupdtype, rn.nspname = current_schema()
      FROM pg_catalog.pg_constraint con
      JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
      JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE con.contype = 'f' AND {_TABLES}
     ORDER BY c.relname, con.conname
"""
#: every column of each table (a table without columns gives one row of nulls); a
#: domain's own NOT NULL and default count, as SQLAlchemy counts them
_COLUMNS = f"""
    SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
           a.attnotnull OR (t.typtype = 'd' AND t.typnotnull),
           COALESCE(pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                    CASE WHEN t.typtype = 'd' THEN t.typdefault END),
           a.attidentity <> '', a.attgenerated <> '',
           pg_catalog.col_description(c.oid, a.attnum), t.typcategory = 'N'
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_attribute a
        ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_TABLES}
     ORDER BY c.relname, a.attnum
"""
#: indexes that are not the primary key's nor a constraint's, with their key columns
#: (a column by name, an expression as ``pg_get_indexdef`` writes it)
_INDEXES = f"""
    SELECT c.relname, i.relname, ix.indisunique,
           ARRAY(SELECT COALESCE(a.attname,
                                 pg_catalog.pg_get_indexdef(ix.indexrelid, k.pos::int, true))
                   FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(num, pos)
                   LEFT JOIN pg_catalog.pg_attribute a
                     ON a.attrelid = ix.indrelid AND a.attnum = k.num AND k.num > 0
                  WHERE k.pos <= ix.indnkeyatts ORDER BY k.pos),
           pg_catalog.pg_get_expr(ix.indpred, ix.indrelid)
      FROM pg_catalog.pg_index ix
      JOIN pg_catalog.pg_class c ON c.oid = ix.indrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid
     WHERE NOT ix.indisprimary AND {_TABLES}
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                        WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
                          AND con.contype IN ('p', 'u', 'x'))
     ORDER BY c.relname, i.relname
"""
#: primary keys, unique constraints and checks
_CONSTRAINTS = f"""
    SELECT c.relname, con.contype, con.conname,
           {KEY_NAMES.format(key="conkey", rel="conrelid")},
           CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid, true) END
      FROM pg_catalog.pg_constraint con
      JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE con.contype IN ('p', 'u', 'c') AND {_TABLES}
     ORDER BY c.relname, con.conname
"""
#: tables whose lower-case name is one of ``tables``
_FOLDED = """
    SELECT 1 FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = COALESCE(%(schema)s, current_schema())
       AND lower(c.relname) = ANY(%(tables)s)
"""
#: ``pg_constraint.confdeltype`` / ``confupdtype`` codes (``a``: no action)
ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
#: the savepoint that scopes the catalog reads' planner setting
_SAVEPOINT = "npa_catalog_read"
#: ``CHECK (body)``, maybe ``NO INHERIT`` / ``NOT VALID`` after it
_CHECK = re.compile(r"^CHECK *\((?P<body>.+)\)( NO INHERIT)?( NOT VALID)?$", re.DOTALL)


def read_tables(conn: "DbConnection", schema: str | None, names: list[str]
                ) -> list[TableModel] | None:
    """The tables of ``names`` in ``schema`` that exist, keyed by the names as given;
    ``None`` when one is found only in another case (the caller then reads them through
    the inspector, which matches names as SQLAlchemy folds them)."""
    params = {"schema": schema, "tables": list(names)}
    columns, indexes, constraints, foreign_keys = _pipelined(
        conn, (_COLUMNS, _INDEXES, _CONSTRAINTS, FOREIGN_KEYS), params)
    tables: dict[str, TableModel] = {}
    for (table, column, type_text, notnull, default, identity, generated, comment,
         numeric) in columns:
        model = tables.get(table)
        if model is None:
            model = tables[table] = TableModel(name=table, schema=schema)
        if column is None:
            continue
        serial = default is not None and default.startswith("nextval(") and numeric
        model.columns[column] = ColumnModel(
            name=column, type=type_text, nullable=not notnull,
            default=None if generated else default, comment=comment,
            autoincrement=bool(identity or serial), identity=bool(identity))
    missing = [name for name in dict.fromkeys(names) if name not in tables]
    if missing and conn.query(_FOLDED, {"schema": schema,
                                        "tables": [n.lower() for n in missing]}):
        return None  # spelled in another case: the inspector's look-up decides
    names = [name for name in names if name in tables]
    for table, index, unique, columns, where in indexes:
        tables[table].indexes[index] = IndexModel(index, tuple(columns), bool(unique), where)
    for table, kind, name, columns, definition in constraints:
        model = tables[table]
        if kind == "p":
            model.primary_key, model.primary_key_name = tuple(columns), name
        elif kind == "u":
            model.uniques.append(UniqueModel(name, tuple(columns)))
        else:
            model.checks.append(CheckModel(name, _check_body(definition)))
    for row in foreign_keys:
        tables[row[0]].foreign_keys.append(foreign_key(row))
    return [tables[name] for name in dict.fromkeys(names)]


def _pipelined(conn: "DbConnection", queries: tuple[str, ...], params: dict
               ) -> list[list[tuple]]:
    """The rows of each query, all sent in one round trip (psycopg's pipeline mode),
    on cursors of their own inside the run's transaction.

    Inside a transaction the queries run with ``plan_cache_mode = force_generic_plan``:
    psycopg prepares a query it has sent five times, and PostgreSQL would still plan
    each execution anew for its table names (≈ 0.3 ms a query, several times what
    running it costs); the generic plan is planned once a connection. The setting is
    made ``LOCAL`` inside a savepoint and rolled back with it, so whatever the session
    or the migration had set holds again afterwards."""
    raw = conn.raw
    generic = (raw.info.transaction_status == TransactionStatus.INTRANS
               and raw.info.server_version >= 120000)  # plan_cache_mode: PostgreSQL 12
    cursors = [raw.cursor() for _ in queries]
    try:
        with raw.pipeline():
            if generic:
                raw.execute(f"SAVEPOINT {_SAVEPOINT}")
                raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            for cursor, query in zip(cursors, queries):
                cursor.execute(query, params)
            if generic:
                raw.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                raw.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def foreign_key(row: tuple) -> ForeignKeyModel:
    """A row of :data:`FOREIGN_KEYS` as the model's foreign key."""
    (_, name, columns, referred_schema, referred, referred_columns, ondelete, onupdate,
     in_default_schema) = row
    return ForeignKeyModel(name, tuple(columns),
                           None if in_default_schema else referred_schema, referred,
                           tuple(referred_columns), ACTIONS.get(ondelete),
                           ACTIONS.get(onupdate))


def _check_body(definition: str) -> str:
    """The condition of ``pg_get_constraintdef``'s ``CHECK (...)``, one layer of outer
    parentheses removed, exactly as SQLAlchemy's reflection gives it."""
    from sqlalchemy.util import strip_outer_parens

    match = _CHECK.match(definition)
    return strip_outer_parens(match["body"]) if match else definition
