"""BaseProvider: one database's provider, made of two parts a provider package subclasses.

A provider is bound to one database URL. It holds the URL, the SQLAlchemy dialects and
the :class:`Capabilities` the engine and the conformance suite read, and it is made of:

* a :class:`~npa_migrations.provider.driver.Driver` (``provider.driver``): the DB-API
  session -- connections, transactions, timeouts, error mapping;
* a :class:`~npa_migrations.provider.sql.SqlGenerator` (``provider.sql``): the SQL of each
  operation, identifier rules, script conventions;
* a :class:`~npa_migrations.provider.comparison.SchemaRules` (``provider.schema_rules``):
  how its schema reads back through reflection, for drift detection and verification;

plus the migration lock it uses (:meth:`BaseProvider.create_lock`). A provider package
subclasses the parts whose behaviour differs on its database and names them in
:attr:`BaseProvider.driver_class` and :attr:`BaseProvider.sql_class`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ConfigurationError
from .comparison import SchemaRules
from .driver import Driver
from .sql import SqlGenerator

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import sqlalchemy as sa

    from .locking import MigrationLock


@dataclass(frozen=True)
class Capabilities:
    """What a database can do; the engine and the conformance suite read these flags."""

    #: DDL statements take part in transactions and roll back (PostgreSQL, SQLite, SQL Server)
    transactional_ddl: bool = True
    #: the database has a session-level lock the engine can use instead of a lock table
    advisory_lock: bool = False
    #: ``CREATE SCHEMA`` / schema-qualified names are supported
    schemas: bool = True
    #: ``DROP ... IF EXISTS`` is supported
    if_exists: bool = True
    #: ``ALTER TABLE`` can change a column / add a constraint in place (SQLite: rebuild)
    alter_in_place: bool = True
    #: ``ALTER TABLE ... DROP COLUMN`` exists
    drop_column: bool = True
    #: the database can be created by the engine (``ensure_created``)
    create_database: bool = True
    #: ``CREATE INDEX ... WHERE`` (partial indexes: PostgreSQL, SQLite, SQL Server)
    partial_indexes: bool = False
    #: the database is a file the URL names, or lives in memory, not on a server
    #: (SQLite): the conformance suite gives every test a new file of its own
    database_file: bool = False


class BaseProvider:
    """Base class of every provider.

    Subclasses set :attr:`name`, :attr:`capabilities` and :attr:`install_hint`, and point
    :attr:`driver_class`, :attr:`sql_class` and :attr:`schema_rules_class` at their own
    subclasses of the parts where their database differs.
    """

    #: provider name shown to users, e.g. ``"sqlite"``
    name: ClassVar[str] = "base"
    #: the DB-API driver's requirement, named by ``pip install`` when the driver cannot be
    #: imported, e.g. ``"psycopg[binary]"``; empty: the URL's driver name (``pg8000``)
    install_hint: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: the session part (connections, transactions, timeouts)
    driver_class: ClassVar[type[Driver]] = Driver
    #: the SQL part (operations -> statements, identifiers, scripts)
    sql_class: ClassVar[type[SqlGenerator]] = SqlGenerator
    #: how the database reports its schema to drift detection and verification
    schema_rules_class: ClassVar[type[SchemaRules]] = SchemaRules

    def __init__(self, url: "sa.engine.URL"):
        self.url = url
        self.dialect = self.create_dialect()
        #: the dialect that compiles DDL and literal SQL, which run without bound
        #: parameters; :attr:`dialect` compiles statements with parameters (two
        #: instances, as only the latter doubles ``%`` for a %-style driver)
        self.ddl_dialect = self.create_dialect()
        self.use_ddl_preparer()
        #: the session part
        self.driver = self.driver_class(self)
        #: the SQL part
        self.sql = self.sql_class(self)
        #: the schema comparison rules
        self.schema_rules = self.schema_rules_class(self)

    def create_dialect(self) -> Any:
        """The SQLAlchemy dialect instance used for compilation (no driver import)."""
        return self.url.get_dialect()()

    def use_ddl_preparer(self) -> None:
        """Quote names with :attr:`ddl_dialect`'s preparer, which leaves ``%`` single: a
        driver with %-style parameters needs it doubled only in SQL that runs with
        parameters, and SQLAlchemy does that itself when it compiles such a statement with
        :attr:`dialect`; SQL the provider writes by hand with parameters doubles it
        explicitly. Called again by a provider that re-initialises its dialects (MySQL,
        after reading the server version)."""
        self.ddl_dialect.identifier_preparer._double_percents = False

    # identity --------------------------------------------------------------------------
    @property
    def names(self) -> set[str]:
        """Names an ``execute(sql, dialects=...)`` call may use to target this provider."""
        return {self.name, self.dialect.name, self.url.get_backend_name()}

    def display_url(self) -> str:
        """The URL with its password (and secret query values) hidden, safe to print."""
        from ..urls import display_url

        return display_url(self.url)

    def database_name(self) -> str:
        """The database the URL names, for messages and lock keys; the URL (password
        hidden) when it names none."""
        return self.url.database or self.display_url()

    def database_path(self) -> "Path | None":
        """The file the database lives in when the URL names one by path (SQLite), else
        ``None``; the CLI resolves a relative one named in a config file against the
        file's folder."""
        return None

    def tenant_url(self, url: "sa.engine.URL", schema: str) -> "sa.engine.URL":
        """The URL of one fleet target named by ``--tenant-schemas``: ``url`` with
        ``schema`` as the place its history and objects live (PostgreSQL: first on the
        ``search_path``; MySQL: the database). Databases without such a notion refuse."""
        raise ConfigurationError(
            f"--tenant-schemas is not supported on {self.name}: its connections cannot be "
            "pointed at one schema through the URL. List one URL per tenant in a file and "
            "pass it with --tenants.")

    # locking ---------------------------------------------------------------------------
    def create_lock(self, table_name: str) -> "MigrationLock":
        """The lock for this database: the portable lock table unless overridden."""
        from .locking import TableLock

        return TableLock(self, table_name)


def url_with_driver(url: "sa.engine.URL", driver: str, refusal: str) -> "sa.engine.URL":
    """``url`` served through the DB-API ``driver``: added when the URL names no driver
    (``oracle://``); a URL naming another one is refused with ``refusal``, formatted with
    ``driver=`` the name it gave."""
    if "+" not in url.drivername:
        return url.set(drivername=f"{url.get_backend_name()}+{driver}")
    named = url.drivername.split("+", 1)[1]
    if named != driver:
        raise ConfigurationError(refusal.format(driver=named))
    return url
