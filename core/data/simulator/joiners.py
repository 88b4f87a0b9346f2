"""Clients who join during the horizon: the Santander file's customer base grows month by month.

Why: a bank's client base is not fixed. The real `train_ver2.csv` holds 13.6M rows for about
950,000 customers over 17 months because customers keep arriving: its published monthly row
counts (`SANTANDER_MONTHLY_CLIENTS`, from the competition's data exploration write-ups) grow
from 625,457 in January 2015 to 931,453 in May 2016, with one large intake in July 2015.
Without joiners the simulator had no client to test the cold-start path on (issue 15: MAP@7
of the cold-start path on clients who joined during the test window).

Mechanics (assumptions, stated):
- Join month: drawn per client from the published growth, rescaled to the simulated horizon:
  the share present at month 0 is count[0] / count[last], and each later month gets its net
  growth (count[t] - count[t-1], floored at 0) / count[last]. Net growth stands in for gross
  arrivals (the file shows few customers leaving).
- Before joining a client is invisible: no holdings rows, no events, no operations, no
  offers, no truth rows. At the join month the client appears holding the first products of
  the calibrated month-0 patterns of its cell (segment x activity x minor): the real file gives
  no separate ownership for newcomers, so the sample's patterns are reused. Those products
  are the client's additions of that month, as the competition's labels count them.
- The first contract date of a joiner falls in its join month; clients present at month 0
  have one on or before it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.data.simulator.population import SEGMENTS, Population

# Rows per monthly snapshot of the real train_ver2.csv, 2015-01-28 .. 2016-05-28 (sum 13,647,309).
SANTANDER_MONTHLY_CLIENTS = (
    625_457, 627_394, 629_209, 630_367, 631_957, 632_110, 829_817, 843_201, 865_440,
    892_251, 906_109, 912_021, 916_269, 920_904, 925_076, 928_274, 931_453,
)  # fmt: skip


def join_pmf(n_months: int) -> np.ndarray:
    """P(join month = t), t = 0..n_months-1 (t = 0: present from the first snapshot).

    Horizons longer than the real file repeat its average late growth (Jan-May 2016).
    """
    counts = np.asarray(SANTANDER_MONTHLY_CLIENTS, dtype=float)
    if n_months > len(counts):
        late = float(np.mean(np.diff(counts[-5:])))
        extra = counts[-1] + late * np.arange(1, n_months - len(counts) + 1)
        counts = np.concatenate([counts, extra])
    counts = counts[:n_months]
    growth = np.maximum(np.diff(counts), 0.0)
    pmf = np.concatenate([[counts[0]], growth])
    return pmf / pmf.sum()


def draw_join_months(rng: np.random.Generator, n: int, n_months: int) -> np.ndarray:
    """(n,) join month index per client."""
    if n_months <= 1:
        return np.zeros(n, dtype=np.int64)
    return rng.choice(n_months, size=n, p=join_pmf(n_months)).astype(np.int64)


def contract_dates(
    rng: np.random.Generator, first: np.ndarray, join: np.ndarray, months: np.ndarray
) -> np.ndarray:
    """First contract dates consistent with the join months (datetime64[D]).

    Joiners: a day of their join month up to its snapshot day. Month-0 clients: the
    calibrated date, moved back to the first snapshot when it fell after it.
    """
    month_start = months.astype("datetime64[M]").astype("datetime64[D]")
    span = (months - month_start).astype(np.int64)  # days from the 1st to the snapshot day
    out = np.minimum(first.astype("datetime64[D]"), months[0])
    late = join > 0
    if late.any():
        offset = (rng.random(int(late.sum())) * (span[join[late]] + 1)).astype(np.int64)
        out[late] = month_start[join[late]] + offset
    return out


def first_product_rates(cal: dict[str, Any], pop: Population) -> np.ndarray:
    """(n, P) P(product among a new client's first products | cell): the truth of a join month.

    The marginal of the calibrated cell patterns plus the residual rate (population._holdings
    draws one pattern, then residual products); the catalog's requires/conflicts fix-ups are
    left out (they move these rates by well under a percentage point).
    """
    codes = cal["products"]
    seg, act, minor = pop.segment, pop.active.astype(int), (pop.age < 18).astype(int)
    out = np.zeros((len(seg), len(codes)))
    for key, cell in cal["ownership_cells"].items():
        s, a, m = key.split("|")
        rows = (seg == SEGMENTS.index(s)) & (act == int(a)) & (minor == int(m))
        if not rows.any():
            continue
        total = cell["n"]
        pattern = np.zeros(len(codes))
        for pat, count in cell["patterns"].items():
            pattern += np.array([c == "1" for c in pat], dtype=float) * count / total
        resid = np.array([cell["residual_rate"][c] for c in codes])
        out[rows] = pattern + (1.0 - pattern) * resid
    return out * pop.eligible


def visible_operations(
    ops: pd.DataFrame, ids: np.ndarray, join: np.ndarray, months: np.ndarray
) -> pd.DataFrame:
    """Operations from each client's join month on (month 0 clients: all of them)."""
    if not (join > 0).any() or ops.empty:
        return ops
    start = months.astype("datetime64[M]").astype("datetime64[us]")[join]
    first = pd.Series(start, index=ids)
    since = first.reindex(ops["client_id"].to_numpy()).to_numpy()
    occurred = ops["occurred_at"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    return ops.loc[occurred >= since].reset_index(drop=True)
