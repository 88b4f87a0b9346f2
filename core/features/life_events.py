"""Life events read from recent operations (pure): what a bank analyst would flag.

The decision layer links events to partner offers (car purchase -> car accessories) and
explanations cite them. Thresholds are domain rules of thumb written once here, applied to
the feature row (so the same definitions serve batch and online scoring):

- car_purchase: auto spending of at least 5,000 EUR in the last 3 months;
- relocation: home purchases of at least 1,500 EUR in the last 3 months;
- travel: travel spending of at least 500 EUR in the cutoff month;
- child: spending on children rising (trend > 0.5) with at least 3 such payments in 3 months;
- salary_rise: salary inflow at least 10% above its 3-month average.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.zeros(len(frame))
    return pd.to_numeric(frame[name], errors="coerce").fillna(0.0).to_numpy(dtype=float)


RULES: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "car_purchase": lambda f: _col(f, "op_auto_abs_3m") >= 5_000,
    "relocation": lambda f: _col(f, "op_home_abs_3m") >= 1_500,
    "travel": lambda f: _col(f, "op_travel_abs_1m") >= 500,
    "child": lambda f: (_col(f, "op_kids_trend") > 0.5) & (_col(f, "op_kids_cnt_3m") >= 3),
    "salary_rise": lambda f: _col(f, "salary_change") >= math.log(1.1),
}


def detect_life_events(features: pd.DataFrame) -> list[set[str]]:
    """One set of detected events per feature row."""
    flags = {name: rule(features) for name, rule in RULES.items()}
    return [{name for name, hit in flags.items() if hit[i]} for i in range(len(features))]
