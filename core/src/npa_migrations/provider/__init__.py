"""What a database provider is made of: the base class a provider package subclasses,
its capability flags, the DB-API connection wrapper and the migration locks.

Provider packages import from here: ``from npa_migrations.provider import BaseProvider,
Capabilities``.
"""

from .base import BaseProvider, Capabilities, copy_constraint, type_instance, url_with_driver

__all__ = ["BaseProvider", "Capabilities", "copy_constraint", "type_instance",
           "url_with_driver"]
