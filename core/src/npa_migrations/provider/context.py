"""RenderContext: what the SQL of an operation may depend on besides the operation (a live
connection, or none for an offline script). Its own module because both the SQL generator
and the table rebuild it inherits from render with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..schema.model import SchemaModel
    from .connection import DbConnection


@dataclass(frozen=True)
class RenderContext:
    """What the SQL of an operation may depend on besides the operation itself.

    :ivar connection: the run's live connection, positioned where the earlier statements
        of the migration left the schema; ``None`` when a script is rendered offline (a
        provider then needs the operation to say everything, e.g. ``existing_type``).
    :ivar checkpoint: where a data step continues when an earlier run of it was
        interrupted, else ``None``.
    :ivar schema: offline, the schema the migrations build up to this step (a
        :class:`~npa_migrations.schema.model.SchemaModel` replayed from their operations),
        when the script has a step that reads the schema (a table rebuild); else ``None``.
    """

    connection: "DbConnection | None" = None
    #: the :attr:`~npa_migrations.statements.Statement.checkpoint` of the data step's last
    #: statement that took effect in an earlier run
    checkpoint: Any = None
    schema: "SchemaModel | None" = None

    @property
    def offline(self) -> bool:
        """Whether there is no database to read (``--sql --offline``)."""
        return self.connection is None


#: the context of a script rendered without a database
OFFLINE = RenderContext()
