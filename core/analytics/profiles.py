"""Median client profile per product (pure: a feature frame in, a dict out).

For each product, two groups: its holders at the cutoff, and its recent adopters (added it
in the last 3 months). Numeric questionnaire and behaviour fields get the median, the
categorical ones the mode, so a product manager sees "the typical holder" at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = {
    "age": "age",
    "income": "log_income",
    "seniority_months": "seniority_months",
    "spend_6m": "ops_spend_6m",
    "inflow_6m": "ops_inflow_6m",
    "operations_6m": "ops_cnt_6m",
    "salary_months_6m": "salary_months_6m",
    "products_held": "n_held_l0",
}
CATEGORICAL = ("segment", "sex", "join_channel", "cluster")
RECENT_MONTHS = 3


def _summary(group: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"clients": int(len(group))}
    if group.empty:
        return out
    for name, col in NUMERIC.items():
        if col in group.columns:
            values = pd.to_numeric(group[col], errors="coerce").dropna()
            if col == "log_income":
                values = np.expm1(values)
            out[name] = round(float(values.median()), 2) if len(values) else None
    for col in CATEGORICAL:
        if col in group.columns:
            mode = group[col].astype(str).mode()
            out[col] = str(mode.iloc[0]) if len(mode) else None
    return out


def median_profiles(features: pd.DataFrame, products: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{product: {"holders": {...}, "recent_adopters": {...}}} at the features' cutoff."""
    result: dict[str, dict[str, Any]] = {}
    for p in products:
        held = pd.to_numeric(features.get(f"hold_{p}_l0", 0), errors="coerce").fillna(0) > 0
        since = pd.to_numeric(features.get(f"months_since_change_{p}", 99), errors="coerce").fillna(99)
        recent = held & (since < RECENT_MONTHS)
        result[p] = {
            "holders": _summary(features[held]),
            "recent_adopters": _summary(features[recent]),
        }
    return result
