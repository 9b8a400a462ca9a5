"""Row-count estimates from the live database, per provider, for ``rewrite-large-table``.

Estimates come from the statistics the database keeps (cheap, never a table scan) except
on SQLite, which keeps none by default: there the rows are counted. ``None`` means "not
known" (no such table yet, no statistics, an unknown provider, or the query failed); the
rule then stays silent rather than guess.

=============  ======================================================================
database       source
=============  ======================================================================
PostgreSQL     ``pg_class.reltuples`` (after ``ANALYZE`` / autovacuum; unknown before)
MySQL/MariaDB  ``information_schema.TABLES.TABLE_ROWS``
SQL Server     ``sys.partitions.rows`` of the heap or clustered index
Oracle         ``ALL_TABLES.NUM_ROWS`` (after statistics are gathered)
SQLite         ``SELECT count(*)``
=============  ======================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.provider import BaseProvider

#: dialect name -> SQL with binds :name (the quoted, qualified table name), :schema, :table
QUERIES: dict[str, str] = {
    "postgresql": "SELECT CASE WHEN c.reltuples >= 0 THEN CAST(c.reltuples AS BIGINT) END "
                  "FROM pg_catalog.pg_class c WHERE c.oid = to_regclass(:name)",
    "mysql": "SELECT TABLE_ROWS FROM information_schema.TABLES "
             "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table",
    "mariadb": "SELECT TABLE_ROWS FROM information_schema.TABLES "
               "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table",
    "mssql": "SELECT SUM(p.rows) FROM sys.partitions p "
             "WHERE p.object_id = OBJECT_ID(:name) AND p.index_id IN (0, 1)",
    "oracle": "SELECT num_rows FROM all_tables "
              "WHERE owner = COALESCE(:schema, USER) AND table_name = :table",
}


def query(conn: "DbConnection", provider: "BaseProvider", sql: str, **params: Any) -> list:
    """Run ``sql`` with ``:name`` binds in the driver's own parameter style."""
    import sqlalchemy as sa

    compiled = sa.text(sql).bindparams(**params).compile(dialect=provider.dialect)
    values = compiled.construct_params()
    if provider.dialect.positional:
        args: Any = tuple(values[name] for name in compiled.positiontup)
    else:
        args = values
    return conn.query(compiled.string, args)


def row_estimator(provider: "BaseProvider", conn: "DbConnection"
                  ) -> Callable[[str | None, str], int | None]:
    """A function ``(schema, table) -> estimated rows or None``, cached per table."""
    cache: dict[tuple[str | None, str], int | None] = {}

    def estimate(schema: str | None, table: str) -> int | None:
        key = (schema, table)
        if key not in cache:
            cache[key] = _estimate(provider, conn, schema, table)
        return cache[key]

    return estimate


def _estimate(provider: "BaseProvider", conn: "DbConnection", schema: str | None,
              table: str) -> int | None:
    dialect = provider.dialect
    try:
        if dialect.name == "sqlite":
            rows = conn.query(f"SELECT count(*) FROM {provider.sql.table_name(table, schema)}")
        else:
            sql = QUERIES.get(dialect.name)
            if sql is None:
                return None
            # Oracle stores unquoted (lower-case in SQLAlchemy) names in upper case
            denormalize = (dialect.denormalize_name if dialect.requires_name_normalize
                           else (lambda name: name))
            params = {"name": provider.sql.table_name(table, schema),
                      "schema": denormalize(schema) if schema else None,
                      "table": denormalize(table)}
            used = {k: v for k, v in params.items() if f":{k}" in sql}
            rows = query(conn, provider, sql, **used)
    except Exception:  # no such table yet, no privilege: not known
        _recover(conn)
        return None
    value = rows[0][0] if rows else None
    return int(value) if value is not None else None


def _recover(conn: "DbConnection") -> None:
    """Leave no failed transaction behind (the lint connection is in autocommit mode,
    but a driver may still have opened one)."""
    try:
        if getattr(conn.raw, "autocommit", True) is False:
            conn.raw.rollback()
    except Exception:
        pass
