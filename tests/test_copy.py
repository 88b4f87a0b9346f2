"""Binary COPY encoding round-trips exactly through a real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from core.db.copy import Col, _money_fields, copy_frames


def test_money_encoding_fields() -> None:
    # 1234567.89 EUR -> groups 0 | 123 | 4567 and fraction 8900, weight 2, dscale 2.
    fields = _money_fields(np.array([123456789, -5]))
    assert fields[0].tolist() == [4, 2, 0, 2, 0, 123, 4567, 8900]
    assert fields[1].tolist() == [4, 2, 0x4000, 2, 0, 0, 0, 500]
    with pytest.raises(ValueError, match="out of range"):
        _money_fields(np.array([10**14]))


async def test_round_trip(conn) -> None:  # type: ignore[no-untyped-def]
    await conn.execute(
        "CREATE TEMP TABLE t (i bigint, ts timestamptz, m numeric(14,2), cat operation_category, "
        "note text, b bool, d date, f float8, s smallint)"
    )
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3, 4],
            "ts": pd.to_datetime(
                ["2015-01-28 10:00:00.123456", "1999-12-31 23:59:59", "2016-05-28", "2000-01-01"],
                utc=True,
                format="ISO8601",
            ),
            "m": [0, -1, 99_999_999_999_999, 1050],
            "cat": ["auto", "kids", "auto", "salary"],
            "b": [True, False, True, False],
            "d": pd.to_datetime(["2015-01-28", "1990-06-01", "2016-05-28", "2000-01-01"]),
            "f": [0.5, 1e-9, -3.25, 0.0],
            "s": [1, -2, 300, 0],
        }
    )
    cols = [
        Col("i", "int8"),
        Col("ts", "timestamptz"),
        Col("m", "money"),
        Col("cat", "text"),
        Col("note", "null"),
        Col("b", "bool"),
        Col("d", "date"),
        Col("f", "float8"),
        Col("s", "int2"),
    ]
    assert await copy_frames(conn, "t", cols, [frame.iloc[:2], frame.iloc[2:]]) == 4
    rows = {r["i"]: r for r in await conn.fetch("SELECT * FROM t")}
    assert rows[1]["ts"].isoformat() == "2015-01-28T10:00:00.123456+00:00"
    assert rows[2]["ts"].isoformat() == "1999-12-31T23:59:59+00:00"
    assert [rows[i]["m"] for i in (1, 2, 3, 4)] == [
        Decimal("0.00"),
        Decimal("-0.01"),
        Decimal("999999999999.99"),
        Decimal("10.50"),
    ]
    assert [rows[i]["cat"] for i in (1, 2, 3, 4)] == ["auto", "kids", "auto", "salary"]
    assert all(rows[i]["note"] is None for i in rows)
    assert str(rows[2]["d"]) == "1990-06-01" and rows[3]["b"] is True
    assert rows[2]["f"] == 1e-9 and rows[3]["s"] == 300


async def test_bad_enum_value_is_rejected_by_the_server(conn) -> None:  # type: ignore[no-untyped-def]
    import asyncpg

    await conn.execute("CREATE TEMP TABLE t2 (cat operation_category)")
    with pytest.raises(asyncpg.InvalidTextRepresentationError):
        await copy_frames(conn, "t2", [Col("cat", "text")], [pd.DataFrame({"cat": ["spaceships"]})])
