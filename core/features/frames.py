"""The four input frames of the feature pipeline and their one canonical dtype contract.

Why: the database adapter, the Parquet loader and hand-made test frames all pass through
`coerce`, so the pure feature code sees identical dtypes whatever the source (a float vs a
Decimal, or a naive vs a UTC timestamp, would otherwise make "the same" data featurise
differently).

- clients: definitions.CLIENT_FIELDS (the questionnaire, one latest snapshot per client).
- holdings: client_id, month, product_code (one row per product held in a month).
- events: client_id, month, product_code, kind ('add' | 'drop').
- operations: client_id, occurred_at (UTC), amount (float EUR, inflows positive), category.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
CATEGORY_DTYPE = pd.CategoricalDtype(list(CATEGORIES))


@dataclass
class FeatureFrames:
    clients: pd.DataFrame = field(default_factory=lambda: empty_frame(CLIENT_FIELDS))
    holdings: pd.DataFrame = field(default_factory=lambda: empty_frame(HOLDING_FIELDS))
    events: pd.DataFrame = field(default_factory=lambda: empty_frame(EVENT_FIELDS))
    operations: pd.DataFrame = field(default_factory=lambda: empty_frame(OPERATION_FIELDS))

    def coerce(self) -> FeatureFrames:
        """A copy with canonical dtypes (cheap when they are already canonical)."""
        return FeatureFrames(
            clients=coerce_clients(self.clients),
            holdings=_coerce_monthly(self.holdings, HOLDING_FIELDS),
            events=_coerce_monthly(self.events, EVENT_FIELDS),
            operations=coerce_operations(self.operations),
        )


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s).astype("datetime64[s]")


def coerce_clients(frame: pd.DataFrame) -> pd.DataFrame:
    missing = set(CLIENT_FIELDS) - set(frame.columns)
    if missing:
        raise ValueError(f"clients frame lacks {sorted(missing)}")
    out = pd.DataFrame({"id": frame["id"].astype("int64").to_numpy()})
    for col in ("snapshot_month", "first_contract_date"):
        out[col] = _dates(frame[col]).to_numpy()
    for col in ("age", "income", "seniority_months", "primary_status"):
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64").to_numpy()
    for col in ("is_new", *FLAG_FIELDS):
        out[col] = frame[col].fillna(False).astype(bool).to_numpy()
    for col in CATEGORICAL_FIELDS:
        values = frame[col]
        if col == "province_code":  # numeric code in the table, a label for the model
            values = pd.to_numeric(values, errors="coerce").astype("Int64")
        out[col] = values.astype(object).where(values.notna(), None).to_numpy()
    return out.sort_values("id", kind="stable").reset_index(drop=True)


def _coerce_monthly(frame: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "client_id": frame["client_id"].astype("int64").to_numpy(),
            "month": _dates(frame["month"]).to_numpy(),
            "product_code": frame["product_code"].astype(str).to_numpy(),
        }
    )
    if "kind" in cols:
        out["kind"] = frame["kind"].astype(str).to_numpy()
    return out


def coerce_operations(frame: pd.DataFrame) -> pd.DataFrame:
    if "amount" not in frame.columns and "amount_cents" in frame.columns:
        frame = frame.assign(amount=frame["amount_cents"].to_numpy() / 100.0)
    occurred = frame["occurred_at"]
    if not isinstance(occurred.dtype, pd.DatetimeTZDtype):
        occurred = pd.to_datetime(occurred, utc=True)
    elif str(occurred.dt.tz) != "UTC":
        occurred = occurred.dt.tz_convert("UTC")
    category = frame["category"]
    if isinstance(category.dtype, pd.CategoricalDtype) and category.dtype != CATEGORY_DTYPE:
        category = category.cat.set_categories(list(CATEGORIES))  # recode, no string pass
    elif category.dtype != CATEGORY_DTYPE:
        category = category.astype(str).astype(CATEGORY_DTYPE)
    if str(occurred.dtype) != "datetime64[us, UTC]":
        occurred = occurred.astype("datetime64[us, UTC]")
    return pd.DataFrame(
        {
            "client_id": frame["client_id"].to_numpy(dtype=np.int64),
            "occurred_at": occurred.array,
            "amount": frame["amount"].to_numpy(dtype=np.float64),
            "category": category.array,
        }
    )


def from_bundle(bundle: object) -> FeatureFrames:
    """Frames from a core.data.bundle.Bundle (what loaders and the simulator emit)."""
    clients = bundle.clients  # type: ignore[attr-defined]
    return FeatureFrames(
        clients=clients,
        holdings=bundle.holdings,  # type: ignore[attr-defined]
        events=bundle.product_events,  # type: ignore[attr-defined]
        operations=bundle.operations,  # type: ignore[attr-defined]
    ).coerce()


def month_indices(months: pd.Series) -> np.ndarray:
    """Vectorised definitions.month_index for a datetime64 column."""
    return (months.dt.year.to_numpy() * 12 + months.dt.month.to_numpy() - 1).astype(np.int64)
