"""How SQL Server reports its schema to drift detection and verification: ``FLOAT`` is
``FLOAT(53)``, and ``GETDATE()`` / ``SYSDATETIME()`` are the current time."""

from __future__ import annotations

from npa_migrations.provider.comparison import SchemaRules


class SqlServerSchemaRules(SchemaRules):
    """SQL Server's float precision and time functions."""

    current_time_defaults = SchemaRules.current_time_defaults | {"getdate()",
                                                                 "sysdatetime()"}

    def canonical_type(self, name: str, args: str | None, rest: str
                       ) -> tuple[str, str | None, str]:
        """``FLOAT(53)`` is the default ``FLOAT``."""
        if name == "FLOAT" and args == "53":
            args = None
        return name, args, rest
