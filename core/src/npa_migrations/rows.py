"""``bulk_insert`` rows (mappings) as the tuples a driver binds, as fast as Python allows.

A million-row insert calls the extractor a million times, so the common case -- every
key present, no value conversion -- is one C-level ``operator.itemgetter`` call per row.
"""

from __future__ import annotations

import operator
from typing import Any, Callable


def row_extractor(columns: list[str], convert: Callable[[Any], Any] | None = None
                  ) -> Callable[[Any], tuple]:
    """``row -> tuple`` of the row's values in ``columns`` order; a missing key gives
    ``None`` (NULL); ``convert``, when given, is applied to every value."""
    if len(columns) == 1:
        (column,) = columns

        def extract(row: Any) -> tuple:
            return (row.get(column),)
    else:
        getter = operator.itemgetter(*columns)

        def extract(row: Any) -> tuple:
            try:
                return getter(row)
            except KeyError:
                return tuple(map(row.get, columns))
    if convert is None:
        return extract
    return lambda row: tuple(map(convert, extract(row)))
