"""core.db.literals: parameters written into a COPY query exactly, anything else refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from core.db.literals import inline, literal


def test_literals_of_the_supported_types() -> None:
    assert literal(42) == "42" and literal(np.int64(-7)) == "-7"
    assert literal(True) == "true" and literal(np.bool_(False)) == "false"
    assert literal(date(2016, 5, 1)) == "'2016-05-01'::date"
    assert literal(datetime(2016, 5, 1, 12, 30, tzinfo=UTC)) == "'2016-05-01T12:30:00+00:00'::timestamptz"
    assert literal(pd.Timestamp("2016-06-01", tz="UTC")) == "'2016-06-01T00:00:00+00:00'::timestamptz"
    assert literal(datetime(2016, 5, 1)) == "'2016-05-01T00:00:00'::timestamp"
    assert literal([3, np.int64(1), 2]) == "'{3,1,2}'::int8[]" and literal([]) == "'{}'::int8[]"


@pytest.mark.parametrize("bad", ["x'; DROP TABLE client; --", 1.5, None, ["1"], [1.0], b"1"])
def test_anything_else_is_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        literal(bad)


def test_inline_replaces_every_placeholder_once() -> None:
    sql = "SELECT 1 FROM t WHERE a < $1 AND b = ANY($2) AND c >= $10"
    args: list[object] = [date(2016, 1, 1), [5, 6], *range(3, 10), 11]
    assert inline(sql, args) == (
        "SELECT 1 FROM t WHERE a < '2016-01-01'::date AND b = ANY('{5,6}'::int8[]) AND c >= 11"
    )
    with pytest.raises(ValueError, match=r"\$3 has no parameter"):
        inline("SELECT $3", [1, 2])
