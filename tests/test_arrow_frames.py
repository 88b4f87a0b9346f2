"""The loader's Arrow path to canonical frames (core.features.arrow_frames) against the
generic one (to_pandas, then FeatureFrames.coerce), on a real PostgreSQL.

The serving path reads a few clients through arrow_frames; a difference in any dtype, value
or element type would make a client's features depend on which path read them.
"""

from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

import core.features.source as source
from core.features import arrow_frames
from core.features.frames import FeatureFrames
from tests.test_features import bundle_of, random_frames

FRAMES = ("clients", "holdings", "events", "operations", "operation_months", "offers")


async def _generic(conn, cutoff: str, ids: list[int], live: bool) -> FeatureFrames:  # type: ignore[no-untyped-def]
    t = {name: await source._read_table(conn, name, cutoff, ids, live) for name in source._TABLES}
    return FeatureFrames(
        clients=source._to_frame(t["clients"]),
        holdings=source._to_frame(t["holdings"]),
        events=source._to_frame(t["events"]),
        operation_months=t["operations"].to_pandas(),
        offers=source._to_frame(t["offers"]),
    ).coerce()


def _assert_same(a: FeatureFrames, b: FeatureFrames, label: str) -> None:
    for name in FRAMES:
        x, y = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=f"{label} {name}")
        for col in x.columns:
            if x[col].dtype == object:  # 1 and "1" and 1.0 compare equal; features differ
                assert [type(v) for v in x[col]] == [type(v) for v in y[col]], (label, name, col)


async def test_arrow_path_equals_the_generic_one(conn, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from core.data.store import create_dataset, write_bundle

    bundle = bundle_of(random_frames(40, seed=9))
    async with conn.transaction():
        ds = await create_dataset(conn, "synthetic", "arrow-frames-test", {}, date(2015, 1, 28), 17)
        await write_bundle(conn, bundle, ds)
        # Missing values where the schema allows them, and digits in a text field.
        await conn.execute(
            "UPDATE client SET age = NULL, income = NULL, first_contract_date = NULL, segment = NULL, "
            "province_code = NULL, customer_type = NULL, seniority_months = NULL WHERE id % 4 = 0"
        )
        await conn.execute("UPDATE client SET customer_type = '1' WHERE id % 4 = 1")
    taken = {"clients": 0, "monthly": 0, "offers": 0, "operation_months": 0}
    for name in taken:
        real = getattr(arrow_frames, name)

        def counted(*args, _real=real, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            out = _real(*args, **kwargs)
            taken[_name] += out is not None
            return out

        monkeypatch.setattr(arrow_frames, name, counted)
    rnd = random.Random(3)
    cases = 0
    for size in (1, 1, 2, 4, 5, 40):
        ids = rnd.sample(range(1, 41), size) + [10**9]  # and one id that does not exist
        for cutoff, live in (("2015-08-28", True), ("2015-08-28", False), ("2016-04-28", False)):
            fast = await source.load_frames_db(conn, cutoff, ids, live=live)
            generic = await _generic(conn, cutoff, ids, live)
            _assert_same(fast, generic, f"{size} clients, {cutoff}, live={live}")
            cases += 1
    assert taken == {"clients": cases, "monthly": 2 * cases, "offers": cases, "operation_months": cases}


def test_unexpected_tables_are_declined() -> None:
    """What the Arrow path cannot reproduce exactly goes the generic way (None here)."""
    month = pa.array([date(2015, 1, 1), date(2015, 2, 1)], type=pa.date32())
    holdings = pa.table({"client_id": [1, 1], "month": month, "product_code": ["cco_fin", None]})
    assert arrow_frames.monthly(holdings, with_kind=False) is None  # a NULL product code
    ok = holdings.set_column(2, "product_code", pa.array(["cco_fin", "recibo"]))
    assert arrow_frames.monthly(ok, with_kind=False) is not None
    as_text = ok.set_column(1, "month", pa.array(["2015-01-01", "2015-02-01"]))
    assert arrow_frames.monthly(as_text, with_kind=False) is None  # months not read as dates
