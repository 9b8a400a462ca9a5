"""Whether changing a column's type may lose data.

Shared by autogenerate (a ``REVIEW`` comment above such an ``alter_column``) and the
npa-lint rule ``narrow-column-type``, so both judge a type change the same way.
"""

from __future__ import annotations

from typing import Any


def _type(type_: Any) -> Any:
    from ..sqla import type_instance

    return type_instance(type_)


def int_size(type_: Any) -> int | None:
    """The byte size of an integer type (``SmallInteger`` 2, ``Integer`` 4,
    ``BigInteger`` 8); ``None`` for other types."""
    import sqlalchemy as sa

    for cls, size in ((sa.SmallInteger, 2), (sa.BigInteger, 8), (sa.Integer, 4)):
        if isinstance(type_, cls):
            return size
    return None


def widens_string(old: Any, new: Any) -> bool:
    """A string type to a string type at least as long (metadata-only on PostgreSQL)."""
    import sqlalchemy as sa

    old, new = _type(old), _type(new)
    if not (isinstance(old, sa.String) and isinstance(new, sa.String)):
        return False
    return new.length is None or (old.length is not None and new.length >= old.length)


def narrowing(old: Any, new: Any) -> str | None:
    """Why ``new`` holds fewer values than ``old`` (e.g. ``"(length 200 -> 50)"``), or
    ``None`` when it does not, or when that cannot be told."""
    import sqlalchemy as sa

    old, new = _type(old), _type(new)
    if isinstance(old, sa.String) and isinstance(new, sa.String):
        if new.length is not None and (old.length is None or new.length < old.length):
            return f"(length {old.length or 'unlimited'} -> {new.length})"
        return None
    if isinstance(old, sa.String) and not isinstance(new, (sa.String, sa.Enum)):
        return "(text to a non-text type: values that do not convert fail)"
    old_int, new_int = int_size(old), int_size(new)
    if old_int and new_int:
        return f"({old_int * 8}-bit -> {new_int * 8}-bit integers)" if new_int < old_int else None
    if isinstance(old, sa.Numeric) and new_int:
        return "(fractions are lost)"
    if isinstance(old, sa.Numeric) and isinstance(new, sa.Numeric) \
            and not isinstance(old, sa.Float) and not isinstance(new, sa.Float):
        if old.precision is None or new.precision is None:
            return "(fixed precision)" if old.precision is None and new.precision else None
        old_scale, new_scale = old.scale or 0, new.scale or 0
        if new.precision - new_scale < old.precision - old_scale or new_scale < old_scale:
            return (f"(precision {old.precision},{old_scale} -> "
                    f"{new.precision},{new_scale})")
        return None
    if isinstance(old, sa.DateTime) and isinstance(new, (sa.Date, sa.Time)) \
            and not isinstance(new, sa.DateTime):
        return "(the date or time part is lost)"
    return None
