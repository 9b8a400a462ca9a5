"""How Oracle reports its schema to drift detection and verification: ``INTEGER`` is
``NUMBER(38,0)``, and ``SYSDATE`` / ``SYSTIMESTAMP`` are the current time."""

from __future__ import annotations

from npa_migrations.provider.comparison import SchemaRules


class OracleSchemaRules(SchemaRules):
    """Oracle's integer spelling and time functions."""

    current_time_defaults = SchemaRules.current_time_defaults | {"sysdate", "systimestamp"}

    def canonical_type(self, name: str, args: str | None, rest: str
                       ) -> tuple[str, str | None, str]:
        """``NUMBER(38,0)`` and ``NUMBER(*,0)`` are ``INTEGER``."""
        if name == "NUMBER" and args in ("38,0", "*,0"):
            return "INTEGER", None, rest
        return name, args, rest
