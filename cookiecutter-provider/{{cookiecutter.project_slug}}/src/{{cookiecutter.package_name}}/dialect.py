"""SAMPLE: the SQLAlchemy dialect of ``{{ cookiecutter.url_scheme }}://`` URLs.

npa-migrations compiles DDL, quotes identifiers, reflects tables and opens connections
through SQLAlchemy's dialect for the URL's scheme, so SQLAlchemy must know the scheme.
This sample makes ``{{ cookiecutter.url_scheme }}://`` SQLite underneath: the dialect is SQLite's (stdlib
``sqlite3`` driver) under a new name, registered in ``pyproject.toml``::

    [project.entry-points."sqlalchemy.dialects"]
    {{ cookiecutter.url_scheme }} = "{{ cookiecutter.package_name }}.dialect:{{ cookiecutter.__camel_name }}Dialect"

REPLACE: a real database's driver package usually ships its SQLAlchemy dialect and
registers the scheme itself (``duckdb_engine`` registers ``duckdb://``,
``sqlalchemy-cockroachdb`` registers ``cockroachdb://``). Then delete this module and
that entry-point table, and add the package to ``dependencies``. Write a dialect only
when none exists; SQLAlchemy's "Third Party Dialects" guide explains how.
"""

from __future__ import annotations

from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite


class {{ cookiecutter.__camel_name }}Dialect(SQLiteDialect_pysqlite):
    """SQLite's dialect and driver, reached as ``{{ cookiecutter.url_scheme }}:///path/to/file.db``.

    ``name`` stays ``"sqlite"``, so SQLAlchemy's SQLite compilers and reflection apply
    and ``b.execute(sql, dialects=["sqlite"])`` reaches this provider too.
    """

    supports_statement_cache = True
