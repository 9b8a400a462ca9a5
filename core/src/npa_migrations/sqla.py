"""Small helpers over SQLAlchemy objects that the schema model, the SQL generators and the
code generator all need: kept at the bottom of the package so that none of them imports
another for them."""

from __future__ import annotations

from typing import Any


def copy_constraint(constraint: Any) -> Any:
    """A copy of a table-level constraint not yet attached to a table (SQLAlchemy's
    ``_copy()`` needs the parent table for key, unique and foreign-key constraints)."""
    import sqlalchemy as sa

    if isinstance(constraint, sa.ForeignKeyConstraint):
        return sa.ForeignKeyConstraint(
            list(constraint.column_keys), [fk._get_colspec() for fk in constraint.elements],
            name=constraint.name, ondelete=constraint.ondelete, onupdate=constraint.onupdate,
            deferrable=constraint.deferrable, initially=constraint.initially,
            match=constraint.match)
    if isinstance(constraint, (sa.UniqueConstraint, sa.PrimaryKeyConstraint)):
        columns = getattr(constraint, "_pending_colargs", None) or list(constraint.columns)
        name: Any = constraint.name  # SQLAlchemy's "no name" sentinel is passed on as it is
        return type(constraint)(*[c if isinstance(c, str) else c.name for c in columns],
                                name=name, deferrable=constraint.deferrable,
                                initially=constraint.initially)
    return constraint._copy()


def type_instance(type_: Any) -> Any:
    """An instance of a SQLAlchemy type given as a class or an instance."""
    import sqlalchemy as sa

    if isinstance(type_, type) and issubclass(type_, sa.types.TypeEngine):
        return type_()
    return type_


def constraint_name(constraint: Any) -> str | None:
    """A SQLAlchemy constraint's name; ``None`` when it has none (SQLAlchemy marks an
    unnamed constraint with a sentinel of its own)."""
    return constraint.name if isinstance(constraint.name, str) else None
