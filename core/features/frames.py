"""The four input frames of the feature pipeline and their one canonical dtype contract.

Why: the database adapter, the Parquet loader and hand-made test frames all pass through
`coerce`, so the pure feature code sees identical dtypes whatever the source (a float vs a
Decimal, or a naive vs a UTC timestamp, would otherwise make "the same" data featurise
differently).

- clients: definitions.CLIENT_FIELDS (the questionnaire, one latest snapshot per client).
- holdings: client_id, month, product_code (one row per product held in a month).
- events: client_id, month, product_code, kind ('add' | 'drop').
- operations: client_id, occurred_at (UTC), amount (float EUR, inflows positive), category.
- offers (optional; empty when not given): the offer log, client_id, product_code, shown_at
  (UTC), arm ('treatment' | 'control'), converted (bool), outcome_at (UTC, NaT when not
  converted), window_days (int). The features read only the offers shown before the cutoff
  month (definitions.horizon).
- operation_months: the operations binned per (client, UTC month, category): n (count),
  abs (sum of |amount|), spend (sum of outflows, positive), inflow (sum of inflows) and
  last_us (latest occurred_at, µs since the epoch). Every operation feature is a function
  of these bins, so the feature code reads only them: `coerce` bins raw `operations` when
  the bins are not given, and the database adapter aggregates them in SQL instead of
  shipping tens of millions of rows (load_frames_db leaves `operations` empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.bundle import empty_frame
from core.features.definitions import (
    CATEGORICAL_FIELDS,
    CATEGORIES,
    CLIENT_FIELDS,
    FLAG_FIELDS,
)

HOLDING_FIELDS = ("client_id", "month", "product_code")
EVENT_FIELDS = ("client_id", "month", "product_code", "kind")
OPERATION_FIELDS = ("client_id", "occurred_at", "amount", "category")
OFFER_FIELDS = ("client_id", "product_code", "shown_at", "arm", "converted", "outcome_at", "window_days")
OPERATION_MONTH_FIELDS = ("client_id", "month", "category", "n", "abs", "spend", "inflow", "last_us")
CATEGORY_DTYPE = pd.CategoricalDtype(list(CATEGORIES))


@dataclass
class FeatureFrames:
    clients: pd.DataFrame = field(default_factory=lambda: empty_frame(CLIENT_FIELDS))
    holdings: pd.DataFrame = field(default_factory=lambda: empty_frame(HOLDING_FIELDS))
    events: pd.DataFrame = field(default_factory=lambda: empty_frame(EVENT_FIELDS))
    operations: pd.DataFrame = field(default_factory=lambda: empty_frame(OPERATION_FIELDS))
    operation_months: pd.DataFrame | None = None  # None: binned from `operations` by coerce
    offers: pd.DataFrame = field(default_factory=lambda: empty_frame(OFFER_FIELDS))

    def coerce(self) -> FeatureFrames:
        """A copy with canonical dtypes (cheap when they are already canonical)."""
        operations = coerce_operations(self.operations)
        months = (
            bin_operations(operations)
            if self.operation_months is None
            else coerce_operation_months(self.operation_months)
        )
        return FeatureFrames(
            clients=coerce_clients(self.clients),
            holdings=coerce_monthly(self.holdings, HOLDING_FIELDS),
            events=coerce_monthly(self.events, EVENT_FIELDS),
            operations=operations,
            operation_months=months,
            offers=coerce_offers(self.offers),
        )

    def operation_count(self) -> int:
        """Number of operations behind the frames (raw rows, or the sum of the bins)."""
        if self.operation_months is not None:
            return int(self.operation_months["n"].sum())
        return len(self.operations)


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).astype("datetime64[s]")


def coerce_clients(frame: pd.DataFrame) -> pd.DataFrame:
    missing = set(CLIENT_FIELDS) - set(frame.columns)
    if missing:
        raise ValueError(f"clients frame lacks {sorted(missing)}")
    # Columns gathered first (each in one numpy conversion) and the frame built once, sorted
    # by a numpy argsort: with `astype(object).where(notna, None)` per field and a DataFrame
    # sort this took ~17 ms on every worker batch of a few clients, now ~9 ms.
    ids = frame["id"].to_numpy(dtype=np.int64)
    cols: dict[str, np.ndarray] = {"id": ids}
    for col in ("snapshot_month", "first_contract_date"):
        cols[col] = _dates(frame[col]).to_numpy()
    for col in ("age", "income", "seniority_months", "primary_status"):
        cols[col] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    for col in ("is_new", *FLAG_FIELDS):
        cols[col] = frame[col].fillna(False).to_numpy(dtype=bool)
    for col in CATEGORICAL_FIELDS:
        values = frame[col]
        if col == "province_code":  # numeric code in the table, a label for the model
            values = pd.to_numeric(values, errors="coerce").astype("Int64")
        cols[col] = values.to_numpy(dtype=object, na_value=None)
    return clients_frame(cols)


def clients_frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """The canonical clients frame from its canonical columns (coerce_clients' arrays, or
    core.features.arrow_frames'), rows sorted by id. One constructor for both sources, so
    pandas infers the same dtypes from the same arrays."""
    order = np.argsort(cols["id"], kind="stable")
    return pd.DataFrame({name: values[order] for name, values in cols.items()})


def coerce_monthly(frame: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    return monthly_frame(
        frame["client_id"].astype("int64").to_numpy(),
        _dates(frame["month"]).to_numpy(),
        frame["product_code"].astype(str).to_numpy(),
        frame["kind"].astype(str).to_numpy() if "kind" in cols else None,
    )


def monthly_frame(
    client_id: np.ndarray, month: np.ndarray, product_code: np.ndarray, kind: np.ndarray | None
) -> pd.DataFrame:
    """Canonical holdings (kind None) or product events from canonical columns."""
    out = {"client_id": client_id, "month": month, "product_code": product_code}
    return pd.DataFrame(out if kind is None else {**out, "kind": kind})


def canonical_category(category: pd.Series) -> pd.Series:
    """Operation categories as CATEGORY_DTYPE, codes in CATEGORIES order.

    Unordered CategoricalDtypes compare equal whatever the order of their categories, so a
    dictionary column read from Arrow (categories in order of appearance) would pass an
    `!= CATEGORY_DTYPE` test with codes that mean other categories: compare the lists.
    """
    if isinstance(category.dtype, pd.CategoricalDtype):
        if list(category.cat.categories) == list(CATEGORIES) and not category.cat.ordered:
            return category
        return category.cat.set_categories(list(CATEGORIES)).astype(CATEGORY_DTYPE)  # recode
    return category.astype(str).astype(CATEGORY_DTYPE)


def coerce_operations(frame: pd.DataFrame) -> pd.DataFrame:
    if "amount" not in frame.columns and "amount_cents" in frame.columns:
        frame = frame.assign(amount=frame["amount_cents"].to_numpy() / 100.0)
    occurred = frame["occurred_at"]
    if not isinstance(occurred.dtype, pd.DatetimeTZDtype):
        occurred = pd.to_datetime(occurred, utc=True)
    elif str(occurred.dt.tz) != "UTC":
        occurred = occurred.dt.tz_convert("UTC")
    category = canonical_category(frame["category"])
    if str(occurred.dtype) != "datetime64[us, UTC]":
        occurred = occurred.astype("datetime64[us, UTC]")
    return pd.DataFrame(
        {
            "client_id": frame["client_id"].to_numpy(dtype=np.int64),
            "occurred_at": occurred.array,
            "amount": frame["amount"].to_numpy(dtype=np.float64),
            "category": category.array,
        },
        copy=False,
    )


def bin_operations(ops: pd.DataFrame) -> pd.DataFrame:
    """Canonical operations -> operation_months (see the module doc), rows sorted by key.

    Each bin's sums accumulate its operations in row order (np.bincount), exactly as the
    feature code summed raw rows before, so features from these bins equal those from the
    raw operations bit for bit.
    """
    if len(ops) == 0:
        return coerce_operation_months(empty_frame(OPERATION_MONTH_FIELDS))
    t = np.asarray(ops["occurred_at"].array.asi8, dtype=np.int64)  # µs, UTC
    month = t.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    cat = np.asarray(ops["category"].cat.codes, dtype=np.int64)
    client = ops["client_id"].to_numpy(dtype=np.int64)
    ok = cat >= 0
    if not ok.all():
        t, month, cat, client = t[ok], month[ok], cat[ok], client[ok]
        amount = ops["amount"].to_numpy(dtype=np.float64)[ok]
    else:
        amount = ops["amount"].to_numpy(dtype=np.float64)
    ids, cpos = np.unique(client, return_inverse=True)
    m0 = int(month.min())
    n_m, n_c = int(month.max()) - m0 + 1, len(CATEGORIES)
    keys, inv = np.unique((cpos * n_m + (month - m0)) * n_c + cat, return_inverse=True)
    size = len(keys)
    last = np.full(size, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, inv, t)
    out = pd.DataFrame(
        {
            "client_id": ids[keys // (n_m * n_c)],
            "month": (keys // n_c % n_m + m0).astype(np.int32),
            "category": pd.Categorical.from_codes((keys % n_c).astype(np.int8), dtype=CATEGORY_DTYPE),
            "n": np.bincount(inv, minlength=size).astype(np.int32),
            "abs": np.bincount(inv, weights=np.abs(amount), minlength=size),
            "spend": np.bincount(inv, weights=np.clip(-amount, 0, None), minlength=size),
            "inflow": np.bincount(inv, weights=np.clip(amount, 0, None), minlength=size),
            "last_us": last,
        }
    )
    return out


def coerce_operation_months(frame: pd.DataFrame) -> pd.DataFrame:
    missing = set(OPERATION_MONTH_FIELDS) - set(frame.columns)
    if missing:
        raise ValueError(f"operation_months frame lacks {sorted(missing)}")
    return operation_months_frame(
        {
            "client_id": frame["client_id"].to_numpy(dtype=np.int64),
            "month": frame["month"].to_numpy(dtype=np.int32),
            "category": canonical_category(frame["category"]).array,
            "n": frame["n"].to_numpy(dtype=np.int32),
            **{c: frame[c].to_numpy(dtype=np.float64) for c in ("abs", "spend", "inflow")},
            "last_us": frame["last_us"].to_numpy(dtype=np.int64),
        }
    )


def operation_months_frame(cols: dict[str, Any]) -> pd.DataFrame:
    """Canonical bins from canonical columns (OPERATION_MONTH_FIELDS, category a
    CATEGORY_DTYPE Categorical)."""
    # copy=False: canonical columns are views, not a second copy of ~20M bins (100k clients)
    return pd.DataFrame({c: cols[c] for c in OPERATION_MONTH_FIELDS}, copy=False)


def _utc_us(values: pd.Series) -> pd.Series:
    ts = pd.to_datetime(values, utc=True)
    return ts.astype("datetime64[us, UTC]") if str(ts.dtype) != "datetime64[us, UTC]" else ts


def coerce_offers(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical offer rows (OFFER_FIELDS); `*_us` integer columns (µs) are read as times.

    Missing `converted`/`outcome_at`/`window_days` read as not converted, NaT and 30 days.
    """
    n = len(frame)
    if n == 0 and not len(frame.columns):
        frame = empty_frame(OFFER_FIELDS)
    for name in ("shown_at", "outcome_at"):
        us = name.replace("_at", "_us")
        if name not in frame.columns and us in frame.columns:
            frame = frame.assign(**{name: pd.to_datetime(frame[us], unit="us", utc=True)})
    converted = frame["converted"] if "converted" in frame.columns else pd.Series(False, index=frame.index)
    outcome = frame["outcome_at"] if "outcome_at" in frame.columns else pd.Series(pd.NaT, index=frame.index)
    window = frame["window_days"] if "window_days" in frame.columns else pd.Series(30, index=frame.index)
    return offers_frame(
        {
            "client_id": frame["client_id"].to_numpy(dtype=np.int64),
            "product_code": frame["product_code"].astype(str).to_numpy(),
            "shown_at": _utc_us(frame["shown_at"]).array,
            "arm": frame["arm"].astype(str).to_numpy(),
            "converted": converted.fillna(False).astype(bool).to_numpy(),
            "outcome_at": _utc_us(outcome).array,
            "window_days": pd.to_numeric(window, errors="coerce").fillna(30).to_numpy(dtype=np.int64),
        }
    )


def offers_frame(cols: dict[str, Any]) -> pd.DataFrame:
    """Canonical offers from canonical columns (OFFER_FIELDS; times as UTC µs DatetimeArrays)."""
    return pd.DataFrame({c: cols[c] for c in OFFER_FIELDS})


def from_bundle(bundle: object) -> FeatureFrames:
    """Frames from a core.data.bundle.Bundle (what loaders and the simulator emit)."""
    clients = bundle.clients  # type: ignore[attr-defined]
    return FeatureFrames(
        clients=clients,
        holdings=bundle.holdings,  # type: ignore[attr-defined]
        events=bundle.product_events,  # type: ignore[attr-defined]
        operations=bundle.operations,  # type: ignore[attr-defined]
        offers=getattr(bundle, "offers", empty_frame(OFFER_FIELDS)),
    ).coerce()


def month_indices(months: pd.Series) -> np.ndarray:
    """Vectorised definitions.month_index for a datetime64 column."""
    return (months.dt.year.to_numpy() * 12 + months.dt.month.to_numpy() - 1).astype(np.int64)
