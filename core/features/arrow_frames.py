"""Canonical feature frames straight from the feature loader's Arrow tables (serving path).

Why: a worker batch of a few clients read its five tables through `to_pandas` and then
`FeatureFrames.coerce`, about 30 ms of pandas overhead per batch whatever the rows (a
notification waits for it). Here each column goes from Arrow to the numpy array that coerce
would have produced, and the frame is built by the same constructor as coerce's
(`frames.clients_frame`, `monthly_frame`, `offers_frame`, `operation_months_frame`), so the
frames are the same. A table with anything this does not expect (a null where the schema
has none, a type the CSV reader inferred differently) returns None and goes the generic
way. tests/test_arrow_frames.py compares both paths on a database.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.bundle import empty_frame
from core.features.definitions import CATEGORICAL_FIELDS, CATEGORIES, FLAG_FIELDS
from core.features.frames import (
    CATEGORY_DTYPE,
    OPERATION_FIELDS,
    clients_frame,
    coerce_operations,
    monthly_frame,
    offers_frame,
    operation_months_frame,
)

_NAT = np.iinfo(np.int64).min  # numpy's NaT as an integer


def _numpy(column: pa.ChunkedArray, dtype: Any) -> np.ndarray:
    """The column as a numpy array of `dtype` (nulls as Arrow converts them: NaN, NaT, None)."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=dtype)


def _seconds(column: pa.ChunkedArray) -> np.ndarray | None:
    """date32 -> datetime64[s] (nulls NaT), what frames._dates gives."""
    if not (pa.types.is_date32(column.type) or pa.types.is_null(column.type)):
        return None
    return _numpy(pc.cast(column, pa.timestamp("s")), "datetime64[s]")


def _strings(column: pa.ChunkedArray) -> np.ndarray | None:
    """Non-null text -> an object array of str (what `.astype(str).to_numpy()` gives)."""
    if column.null_count or not (pa.types.is_string(column.type) or len(column) == 0):
        return None
    return _numpy(column, object)


def _utc_us(column: pa.ChunkedArray) -> Any:
    """µs since the epoch (nulls NaT) -> a UTC DatetimeArray, what frames._utc_us gives."""
    values = pc.fill_null(pc.cast(column, pa.int64()), _NAT).to_numpy(zero_copy_only=False)
    return pd.DatetimeIndex(values.view("datetime64[us]")).tz_localize("UTC").array


def clients(table: pa.Table) -> pd.DataFrame | None:
    """coerce_clients(the table as pandas), from Arrow."""
    if table["id"].null_count:
        return None
    cols: dict[str, np.ndarray] = {"id": table["id"].to_numpy().astype(np.int64)}
    for name in ("snapshot_month", "first_contract_date"):
        dates = _seconds(table[name])
        if dates is None:
            return None
        cols[name] = dates
    for name in ("age", "income", "seniority_months", "primary_status"):
        kind = table[name].type  # all NULL in this batch: Arrow's CSV reader says "null"
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)):
            return None
        cols[name] = _numpy(pc.cast(table[name], pa.float64()), np.float64)
    for name in ("is_new", *FLAG_FIELDS):
        if not pa.types.is_boolean(table[name].type):
            return None
        cols[name] = _numpy(pc.fill_null(table[name], False), bool)
    for name in CATEGORICAL_FIELDS:
        column = table[name]
        if name == "province_code" and (pa.types.is_integer(column.type) or pa.types.is_null(column.type)):
            cols[name] = np.array(column.to_pylist(), dtype=object)  # Int64's ints and None
        elif pa.types.is_string(column.type):
            cols[name] = _numpy(column, object)
        else:
            return None
    return clients_frame(cols)


def monthly(table: pa.Table, with_kind: bool) -> pd.DataFrame | None:
    """coerce_monthly(the table as pandas) for holdings (with_kind False) or events."""
    month = _seconds(table["month"])
    codes = _strings(table["product_code"])
    kind = _strings(table["kind"]) if with_kind else None
    if month is None or codes is None or (with_kind and kind is None) or table["client_id"].null_count:
        return None
    return monthly_frame(table["client_id"].to_numpy().astype(np.int64), month, codes, kind)


def offers(table: pa.Table) -> pd.DataFrame | None:
    """coerce_offers(the table as pandas, its *_us columns as UTC times), from Arrow."""
    codes, arms = _strings(table["product_code"]), _strings(table["arm"])
    if codes is None or arms is None or table["window_days"].null_count or table["client_id"].null_count:
        return None
    if not pa.types.is_boolean(table["converted"].type) and len(table):
        return None
    return offers_frame(
        {
            "client_id": table["client_id"].to_numpy().astype(np.int64),
            "product_code": codes,
            "shown_at": _utc_us(table["shown_us"]),
            "arm": arms,
            "converted": _numpy(pc.fill_null(pc.cast(table["converted"], pa.bool_()), False), bool),
            "outcome_at": _utc_us(table["outcome_us"]),
            "window_days": _numpy(pc.cast(table["window_days"], pa.int64()), np.int64),
        }
    )


def operation_months(table: pa.Table) -> pd.DataFrame | None:
    """coerce_operation_months(the binned table as pandas), from Arrow (after _bin_sums)."""
    category = table["category"].combine_chunks() if table.num_rows else None
    if category is not None and not pa.types.is_dictionary(category.type):
        return None
    if any(table[c].null_count for c in ("client_id", "month", "n", "last_us")):
        return None
    if category is None:
        codes = np.zeros(0, dtype=np.int8)
    else:
        # The dictionary's own order is the order of appearance: recode to CATEGORIES'
        # (unknown or missing -> -1, as Categorical.set_categories does).
        where = {name: i for i, name in enumerate(CATEGORIES)}
        recode = np.array([where.get(v, -1) for v in category.dictionary.to_pylist()] + [-1], dtype=np.int8)
        index = pc.fill_null(category.indices, -1).to_numpy(zero_copy_only=False)
        codes = recode[index]
    return operation_months_frame(
        {
            "client_id": table["client_id"].to_numpy().astype(np.int64),
            "month": table["month"].to_numpy().astype(np.int32),
            "category": pd.Categorical.from_codes(codes, dtype=CATEGORY_DTYPE),
            "n": table["n"].to_numpy().astype(np.int32),
            **{c: _numpy(table[c], np.float64) for c in ("abs", "spend", "inflow")},
            "last_us": table["last_us"].to_numpy().astype(np.int64),
        }
    )


_EMPTY_OPERATIONS = coerce_operations(empty_frame(OPERATION_FIELDS))


def no_operations() -> pd.DataFrame:
    """The canonical empty operations frame (the loader reads bins, never raw operations)."""
    return _EMPTY_OPERATIONS.copy()
