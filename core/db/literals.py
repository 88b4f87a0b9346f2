"""Query parameters written into the SQL text as literals, for statements that take none.

Why: `COPY (query) TO STDOUT` cannot have bind parameters, so asyncpg's copy_from_query
inlines them itself by asking the server: it prepares the query to learn the parameter
types, then runs a second query to cast every value to text. Those are two extra round trips
(and a parse of the whole query) before each COPY: on a worker batch of a few clients, five
COPYs and ten round trips. The feature loader only passes integers, integer lists, dates and
timestamps, whose literals can be written exactly here; anything else is refused rather than
quoted by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

_PLACEHOLDER = re.compile(r"\$(\d+)\b")


def literal(value: Any) -> str:
    """The SQL literal of one parameter (int, bool, date, datetime, or a sequence of ints)."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, datetime):  # before date: a datetime is a date
        if value.tzinfo is None:
            return f"'{value.isoformat()}'::timestamp"
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, date):
        return f"'{value.isoformat()}'::date"
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes):
        items = []
        for item in value:
            if isinstance(item, bool | np.bool_) or not isinstance(item, int | np.integer):
                raise TypeError(f"only integer lists are written as literals, got {type(item).__name__}")
            items.append(str(int(item)))
        return f"'{{{','.join(items)}}}'::int8[]"
    raise TypeError(f"no literal for a parameter of type {type(value).__name__}")


def inline(sql: str, args: Sequence[Any]) -> str:
    """`sql` with $1..$n replaced by the literals of `args` (every placeholder must have one)."""

    def _sub(match: re.Match[str]) -> str:
        i = int(match.group(1))
        if not 1 <= i <= len(args):
            raise ValueError(f"${i} has no parameter ({len(args)} given)")
        return literal(args[i - 1])

    return _PLACEHOLDER.sub(_sub, sql)
