"""What a database provider is made of: the base class a provider package subclasses,
its two parts (the DB-API :class:`Driver` and the :class:`SqlGenerator`), its capability
flags, the DB-API connection wrapper and the migration locks.

Provider packages import from here: ``from npa_migrations.provider import BaseProvider,
Capabilities, Driver, SqlGenerator``.
"""

from .base import BaseProvider, Capabilities, url_with_driver
from .driver import Driver, StatementBatchError
from ..sqla import copy_constraint, type_instance
from .context import OFFLINE, RenderContext
from .sql import SqlGenerator

__all__ = ["BaseProvider", "Capabilities", "Driver", "OFFLINE", "RenderContext",
           "SqlGenerator", "StatementBatchError", "copy_constraint", "type_instance",
           "url_with_driver"]
