"""The client's history at decision time, read from the same feature rows the model scored.

Why from the feature rows: they are the client's holdings and operations as of the moment
the offer is decided (core.features is point-in-time; the serving path folds in today's
operations), so a claim checked against them is true when the client reads it. Reading
the database again here could see a different moment than the scores did.

Pure (pandas/numpy over a frame), vectorised over the batch the scorer already built.
Thresholds are the meaning of the claims' words ("often", "regular", "a while") and sit
here once, next to the columns they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.domain import OPERATION_CATEGORIES
from core.features.definitions import HOLDING_LAGS, RECENT_EVENT_MONTHS

FREQUENT_OPS_3M = 3  # "often" / "regularly": on average an operation a month for 3 months
ACTIVE_OPS_1M = 20  # "you use your account actively": about one operation a working day
SALARY_REGULAR_MONTHS = 3  # "a regular salary": an inflow in at least half of the last 6 months
LONG_TENURE_MONTHS = 24  # "you have been with us for a while": two years or more


@dataclass(frozen=True)
class History:
    """What the claims need beyond the questionnaire, for one client (see ClientFacts).

    held_now: products held in the cutoff month (the month the scores describe).
    held_before: products held in some month of the feature window (HOLDING_LAGS, up to a
    year back, the cutoff month included); client_facts drops the ones held now.
    frequent_categories: operation categories with at least FREQUENT_OPS_3M operations in
    the last 3 months. flags: names from core.explain.types.FLAGS that are true.
    """

    held_now: tuple[str, ...] = ()
    held_before: tuple[str, ...] = ()
    frequent_categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


def _num(X: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column, 0 where missing (a column absent from the frame reads as all 0:
    a claim resting on it is then false, never true by accident)."""
    if name not in X.columns:
        return np.zeros(len(X))
    return pd.to_numeric(X[name], errors="coerce").fillna(0.0).to_numpy(dtype=float)


def _columns(X: pd.DataFrame, names: Sequence[str]) -> dict[str, np.ndarray]:
    """_num for many columns: the numeric ones in one conversion, the rest one by one.

    Why: about 150 columns are read; column by column that is ~0.3 ms of pandas each, the
    largest fixed cost of scoring a small batch of events. Same values as _num (NaN -> 0)."""
    dtypes = dict(zip(X.columns.tolist(), X.dtypes.tolist(), strict=True))  # no Index probes
    numeric = [
        n
        for n in dict.fromkeys(names)
        if n in dtypes and (pd.api.types.is_numeric_dtype(dtypes[n]) or pd.api.types.is_bool_dtype(dtypes[n]))
    ]
    out: dict[str, np.ndarray] = {}
    if numeric:
        block = X[numeric].to_numpy(dtype=float, na_value=np.nan)
        block[np.isnan(block)] = 0.0
        out = {n: block[:, j] for j, n in enumerate(numeric)}
    return {n: out[n] if n in out else _num(X, n) for n in names}


def history_facts(X: pd.DataFrame, products: Sequence[str]) -> list[History]:
    """One History per row of a feature frame (core.features.build_features columns)."""
    n = len(X)
    names = [f"hold_{p}_l{k}" for p in products for k in (0, *HOLDING_LAGS)]
    names += [f"op_{c}_cnt_3m" for c in OPERATION_CATEGORIES]
    names += [f"n_add_{RECENT_EVENT_MONTHS}m", f"n_drop_{RECENT_EVENT_MONTHS}m"]
    names += ["salary_months_6m", "ops_cnt_1m", "is_new", "seniority_months"]
    col = _columns(X, names)
    held = {p: np.zeros(n, dtype=bool) for p in products}
    now = {p: col[f"hold_{p}_l0"] > 0 for p in products}
    for p in products:
        for k in HOLDING_LAGS:
            held[p] |= col[f"hold_{p}_l{k}"] > 0
    frequent = {c: col[f"op_{c}_cnt_3m"] >= FREQUENT_OPS_3M for c in OPERATION_CATEGORIES}
    adds, drops = col[f"n_add_{RECENT_EVENT_MONTHS}m"], col[f"n_drop_{RECENT_EVENT_MONTHS}m"]
    flags = {
        "salary_regular": col["salary_months_6m"] >= SALARY_REGULAR_MONTHS,
        "active": col["ops_cnt_1m"] >= ACTIVE_OPS_1M,
        "new_products": adds > 0,
        "products_changed": (adds + drops) > 0,
        # is_new is the questionnaire's flag brought back to the cutoff (joined < 6 months).
        "new_client": col["is_new"] > 0,
        "long_tenure": col["seniority_months"] >= LONG_TENURE_MONTHS,
    }
    return [
        History(
            held_now=tuple(p for p in products if now[p][i]),
            held_before=tuple(p for p in products if held[p][i]),
            frequent_categories=tuple(c for c in OPERATION_CATEGORIES if frequent[c][i]),
            flags=tuple(name for name, hit in flags.items() if hit[i]),
        )
        for i in range(n)
    ]


__all__ = [
    "ACTIVE_OPS_1M",
    "FREQUENT_OPS_3M",
    "LONG_TENURE_MONTHS",
    "SALARY_REGULAR_MONTHS",
    "History",
    "history_facts",
]
