"""Behavioural features from operations: per-category windows, trend, recency, salary.

Vectorised, from the monthly bins of `FeatureFrames.operation_months` (count, sums and the
latest time per client, UTC month and category; every feature below is a function of them):
each bin goes to a (client, category, months back) cell of dense arrays with `np.bincount`;
windows are then prefix sums over the months axis. Only bins of the months
[cutoff + 1 - RECENCY_LOOKBACK_MONTHS, cutoff] are read, so nothing after the cutoff can
leak and the adapters can load exactly that slice.

Definitions (w = 1, 3, 6 months ending with the cutoff month):
- cnt_w: number of operations; abs_w: sum of |amount|;
- share_w: the category's outflows / all outflows ("share of spend"; 0 without spend);
- trend: log1p(|amount| in the cutoff month) - log1p(mean monthly |amount| of the 3 months
  before it): 0 = flat, > 0 = growing, bounded and defined for zeros;
- recency_days: days from the last operation of the category to the end of the cutoff
  month, capped at the lookback length when there is none in the lookback;
- ops_cnt_w / ops_spend_w / ops_inflow_w: totals over categories;
- salary_months_6m: months (of the last 6) with a salary inflow; salary_cv_6m: coefficient
  of variation (std/mean, ddof=0) of the monthly salary totals over those months (0 when
  fewer than 2); salary_change: log1p(salary in the cutoff month) - log1p(mean salary of the
  3 months before it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.features.definitions import (
    CATEGORIES,
    OP_BINS,
    OP_WINDOWS,
    RECENCY_LOOKBACK_MONTHS,
    SALARY_MONTHS,
    TREND_BASE_MONTHS,
    month_start_utc,
)
from core.features.holdings import positions

_US_PER_DAY = 86_400 * 1_000_000


def _utc_us(ts: pd.Timestamp) -> int:
    return int(ts.as_unit("us").asm8.astype("datetime64[us]").astype(np.int64))


def operation_features(bins: pd.DataFrame, ids: np.ndarray, m: int) -> dict[str, np.ndarray]:
    """Features for the sorted client `ids` at cutoff month `m` from canonical
    `operation_months` bins (core.features.frames): months after `m` are never read."""
    n, n_c = len(ids), len(CATEGORIES)
    first = m + 1 - RECENCY_LOOKBACK_MONTHS
    end_us = _utc_us(month_start_utc(m + 1))
    start_us = _utc_us(month_start_utc(first))
    month = bins["month"].to_numpy(dtype=np.int64)
    in_time = (month >= first) & (month <= m)
    client = bins["client_id"].to_numpy(dtype=np.int64)
    pos, found = positions(ids, client)
    cat = np.asarray(bins["category"].cat.codes, dtype=np.int64) if len(bins) else pos
    ok = in_time & found & (cat >= 0)
    rows = np.flatnonzero(ok)
    pos, cat = pos[rows], cat[rows]
    back = m - month[rows]  # months back from the cutoff month: 0 = cutoff month
    in_bins = back < OP_BINS
    key = pos * n_c + cat
    size = n * n_c * OP_BINS
    flat = key[in_bins] * OP_BINS + back[in_bins]
    binned = rows[in_bins]

    def cube(col: str) -> np.ndarray:
        w = bins[col].to_numpy(dtype=np.float64)[binned]
        return _sums(flat, w, size).reshape(n, n_c, OP_BINS)

    cnt, absum, spend, inflow = cube("n"), cube("abs"), cube("spend"), cube("inflow")
    last = _last_time(key, bins["last_us"].to_numpy(dtype=np.int64)[rows], n * n_c).reshape(n, n_c)
    cap = (end_us - start_us) / _US_PER_DAY
    recency = np.where(last >= 0, (end_us - last) / _US_PER_DAY, cap)

    out: dict[str, np.ndarray] = {}
    cum = {name: np.cumsum(arr, axis=2) for name, arr in (("cnt", cnt), ("abs", absum))}
    cum_spend = np.cumsum(spend, axis=2)
    cum_in = np.cumsum(inflow, axis=2)
    base = absum[:, :, 1 : 1 + TREND_BASE_MONTHS].mean(axis=2)
    trend = np.log1p(absum[:, :, 0]) - np.log1p(base)
    total_spend = {w: cum_spend[:, :, w - 1].sum(axis=1) for w in OP_WINDOWS}
    for j, c in enumerate(CATEGORIES):
        for w in OP_WINDOWS:
            share = np.divide(
                cum_spend[:, j, w - 1],
                total_spend[w],
                out=np.zeros(n),
                where=total_spend[w] > 0,
            )
            out[f"op_{c}_cnt_{w}m"] = cum["cnt"][:, j, w - 1].astype(np.int32)
            out[f"op_{c}_abs_{w}m"] = cum["abs"][:, j, w - 1]
            out[f"op_{c}_share_{w}m"] = share
        out[f"op_{c}_trend"] = trend[:, j]
        out[f"op_{c}_recency_days"] = recency[:, j]
    for w in OP_WINDOWS:
        out[f"ops_cnt_{w}m"] = cum["cnt"][:, :, w - 1].sum(axis=1).astype(np.int32)
        out[f"ops_spend_{w}m"] = total_spend[w]
        out[f"ops_inflow_{w}m"] = cum_in[:, :, w - 1].sum(axis=1)
    out.update(_salary(inflow[:, CATEGORIES.index("salary"), :]))
    return out


def _sums(flat: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    # float64 even for no rows (bincount returns int64 then, which would change dtypes)
    return np.bincount(flat, weights=weights, minlength=size).astype(np.float64, copy=False)


def _last_time(key: np.ndarray, t: np.ndarray, size: int) -> np.ndarray:
    """Latest timestamp per key (-1 when none): one unbuffered ufunc pass, no groupby."""
    last = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last, key, t)
    return last


def _salary(monthly: np.ndarray) -> dict[str, np.ndarray]:
    """monthly[c, k]: salary inflow of client c in month cutoff-k (k < OP_BINS)."""
    last6 = monthly[:, :SALARY_MONTHS]
    has = last6 > 0
    n_months = has.sum(axis=1)
    safe_n = np.maximum(n_months, 1)
    mean = np.where(has, last6, 0).sum(axis=1) / safe_n
    var = (np.where(has, last6 - mean[:, None], 0) ** 2).sum(axis=1) / safe_n
    cv = np.divide(np.sqrt(var), mean, out=np.zeros(len(mean)), where=(n_months >= 2) & (mean > 0))
    base = monthly[:, 1 : 1 + TREND_BASE_MONTHS].mean(axis=1)
    return {
        "salary_months_6m": n_months.astype(np.int8),
        "salary_cv_6m": cv,
        "salary_change": np.log1p(monthly[:, 0]) - np.log1p(base),
    }
