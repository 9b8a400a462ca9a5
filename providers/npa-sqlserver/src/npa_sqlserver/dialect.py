"""The SQLAlchemy dialect npa-sqlserver compiles with: ``mssql+pyodbc`` set up for SQL
Server 2017+ without connecting to a server.

SQLAlchemy's SQL Server dialect learns the server version and a few flags from a live
connection (``initialize``); a migration script must compile the same way before any
connection exists, so this dialect fixes them for SQL Server 2017 (version 14) and later:

* ``deprecate_large_types``: ``Text``/``LargeBinary`` are ``NVARCHAR(max)``/
  ``VARBINARY(max)``, never the deprecated ``TEXT``/``NTEXT``/``IMAGE``.
* ``Date``/``Time`` are ``DATE``/``TIME`` (the unset version would make them ``DATETIME``).
* ``paramstyle = "qmark"``: the style pyodbc takes (the unloaded dialect defaults to
  ``named``).
* no implicit ``OUTPUT inserted.<key>`` on INSERTs.

Type mapping (what a generic SQLAlchemy type becomes; explicit upper-case types such as
``sa.VARCHAR`` or ``sa.DATETIME`` are kept as written):

==================  ==========================================
``String(n)``       ``NVARCHAR(n)`` (``NVARCHAR(max)`` without a length)
``Text``            ``NVARCHAR(max)``
``Enum`` (non-native)  ``NVARCHAR(<longest value>)``
``DateTime``        ``DATETIME2`` (``DATETIMEOFFSET`` with ``timezone=True``)
``LargeBinary``     ``VARBINARY(max)``
``Boolean``         ``BIT``
``Uuid``            ``UNIQUEIDENTIFIER``
==================  ==========================================

SQL Server stores ``VARCHAR`` in the database's code page and ``DATETIME`` with 1/300 s
precision and a date range from 1753; ``NVARCHAR`` and ``DATETIME2`` hold every value
Python can send, which is what an application writing ``sa.String``/``sa.DateTime``
means (EF Core maps ``string``/``DateTime`` the same way).

Literals in ``--sql`` scripts and server defaults: strings are Unicode ``N'...'``
literals (:func:`~npa_sqlserver.tsql.nstring`); dates and times are
``CAST(N'<ISO 8601>' AS DATETIME2)`` (``DATE``, ``TIME``, ``DATETIMEOFFSET``), which SQL
Server reads the same under every ``SET LANGUAGE``/``DATEFORMAT``; bytes are hexadecimal
``0x...`` literals.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column
from sqlalchemy.dialects.mssql.base import (MSDDLCompiler, MSIdentifierPreparer, MSSQLCompiler,
                                            MSTypeCompiler)
from sqlalchemy.dialects.mssql.pyodbc import MSDialect_pyodbc
from sqlalchemy.types import NullType

from npa_migrations.errors import ConfigurationError

from .tsql import nstring

#: the oldest SQL Server this provider targets: 2017 (14.x)
SERVER_VERSION = (14, 0)

#: ``ON DELETE`` / ``ON UPDATE`` actions SQL Server accepts
REFERENTIAL_ACTIONS = ("NO ACTION", "CASCADE", "SET NULL", "SET DEFAULT")


class SqlServerTypeCompiler(MSTypeCompiler):
    """Generic SQLAlchemy types as Unicode / ``DATETIME2`` SQL Server types."""

    def visit_string(self, type_, **kw):
        return self.visit_NVARCHAR(type_, **kw)

    def visit_text(self, type_, **kw):
        return self.visit_NVARCHAR(type_, **kw)

    def visit_enum(self, type_, **kw):
        return self.visit_NVARCHAR(type_, **kw)

    def visit_datetime(self, type_, **kw):
        if getattr(type_, "timezone", False):
            return self.visit_DATETIMEOFFSET(type_, **kw)
        return self.visit_DATETIME2(type_, **kw)


class SqlServerCompiler(MSSQLCompiler):
    """Statement compiler: language-independent date/time literals, binary literals."""

    def render_literal_value(self, value, type_):
        if isinstance(value, str):
            return nstring(value)
        if isinstance(value, dt.datetime):
            target = "DATETIMEOFFSET" if value.tzinfo is not None else "DATETIME2"
            return f"CAST(N'{value.isoformat()}' AS {target})"
        if isinstance(value, dt.date):
            return f"CAST(N'{value.isoformat()}' AS DATE)"
        if isinstance(value, dt.time):
            target = "DATETIMEOFFSET" if value.tzinfo is not None else "TIME"
            return f"CAST(N'{value.isoformat()}' AS {target})"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return "0x" + bytes(value).hex().upper()
        return super().render_literal_value(value, type_)


class SqlServerDDLCompiler(MSDDLCompiler):
    """DDL compiler: referential actions SQL Server has; no deferrable constraints."""

    def _action(self, value: str, clause: str) -> str:
        action = " ".join(str(value).upper().split())
        if action == "RESTRICT":
            # SQL Server checks NO ACTION immediately, which is what RESTRICT means
            action = "NO ACTION"
        if action not in REFERENTIAL_ACTIONS:
            raise ConfigurationError(
                f"SQL Server has no '{clause} {value}'; use one of "
                f"{', '.join(REFERENTIAL_ACTIONS)}.")
        return f" {clause} {action}"

    def define_constraint_ondelete_cascade(self, constraint):
        return self._action(constraint.ondelete, "ON DELETE")

    def define_constraint_onupdate_cascade(self, constraint):
        return self._action(constraint.onupdate, "ON UPDATE")

    def define_constraint_deferrability(self, constraint):
        if constraint.deferrable or constraint.initially is not None:
            raise ConfigurationError(
                f"SQL Server has no deferrable constraints (constraint "
                f"{constraint.name or '(unnamed)'}); remove deferrable=/initially=.")
        return ""

    def visit_create_index(self, create, **kw):
        """A unique index on nullable columns (declared with ``Column(index=True,
        unique=True)`` in ``create_table``/``add_column``) ignores rows with a NULL key:
        ``WHERE <column> IS NOT NULL``, as the SQL standard and PostgreSQL treat NULLs in
        unique keys (a plain SQL Server unique index admits a single NULL). Columns of
        unknown nullability (``NullType`` stubs of ``create_index``) are left to the
        provider's run-time filter."""
        index = create.element
        options = index.dialect_options["mssql"]
        if index.unique and options["where"] is None:
            nullable = [c for c in index.expressions
                        if isinstance(c, Column) and c.nullable and not c.primary_key
                        and not isinstance(c.type, NullType)]
            if nullable:
                text = super().visit_create_index(create, **kw)
                return text + " WHERE " + " AND ".join(
                    f"{self.preparer.quote(c.name)} IS NOT NULL" for c in nullable)
        return super().visit_create_index(create, **kw)

    def define_constraint_match(self, constraint):
        if constraint.match is not None:
            raise ConfigurationError(
                f"SQL Server has no MATCH {constraint.match} for foreign keys; remove match=.")
        return ""


class SqlServerIdentifierPreparer(MSIdentifierPreparer):
    """A schema name is one identifier, quoted as a whole (SQLAlchemy's mssql dialect
    reads ``"a.b"`` as database ``a``, owner ``b`` and mangles names holding ``]``), so
    every schema name round-trips exactly."""

    def quote_schema(self, schema, *args, **kwargs):
        return self.quote(schema)


class SqlServerDialect(MSDialect_pyodbc):
    """``mssql+pyodbc`` for SQL Server 2017+ with the settings above; used only to compile
    (connections are opened by the provider through pyodbc)."""

    supports_statement_cache = True
    statement_compiler = SqlServerCompiler
    ddl_compiler = SqlServerDDLCompiler
    type_compiler_cls = SqlServerTypeCompiler
    preparer = SqlServerIdentifierPreparer
    #: no implicit ``OUTPUT inserted.<key>`` on INSERTs: the engine never reads it, and an
    #: unread result set would keep the session busy (and OUTPUT fails on tables with
    #: triggers)
    insert_returning = False

    def __init__(self, **kwargs):
        kwargs.setdefault("paramstyle", "qmark")
        kwargs.setdefault("deprecate_large_types", True)
        super().__init__(**kwargs)
        # what initialize() would learn from a SQL Server 2017+ connection
        self.server_version_info = SERVER_VERSION
        self._setup_version_attributes()
        self._supports_nvarchar_max = True
        self.default_schema_name = "dbo"
