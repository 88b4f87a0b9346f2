"""The simulator's row builders: one month's holdings, events, truth and offer-log rows as
the frames of a `Bundle`, from the arrays the monthly loop (simulate/_chunk) computes.

Why apart from the loop: these only shape arrays into the bundle's columns (the database
and parquet writers read them), and the loop is easier to follow without them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.simulator import campaigns as camp


def holding_rows(ids: np.ndarray, month: np.datetime64, held: np.ndarray, codes: list[str]) -> pd.DataFrame:
    r, c = np.nonzero(held)
    return pd.DataFrame(
        {
            "client_id": ids[r],
            "month": np.full(len(r), month),
            "product_code": pd.Categorical.from_codes(c, categories=codes),
        }
    )


def event_rows(
    ids: np.ndarray, month: np.datetime64, added: np.ndarray, dropped: np.ndarray, codes: list[str]
) -> pd.DataFrame:
    a, d = holding_rows(ids, month, added, codes), holding_rows(ids, month, dropped, codes)
    a["kind"], d["kind"] = "add", "drop"
    return pd.concat([a, d], ignore_index=True)


def truth_rows(
    ids: np.ndarray,
    month: np.datetime64,
    p_org: np.ndarray,
    p_off: np.ndarray,
    c_org: np.ndarray,
    c_off: np.ndarray,
    codes: list[str],
) -> pd.DataFrame:
    n, n_p = p_org.shape
    return pd.DataFrame(
        {
            "client_id": np.repeat(ids, n_p),
            "month": np.full(n * n_p, month),
            "product_code": pd.Categorical.from_codes(np.tile(np.arange(n_p), n), categories=codes),
            "p_organic": p_org.ravel(),
            "p_offer": p_off.ravel(),
            "p_ceiling_organic": c_org.astype(np.float32).ravel(),
            "p_ceiling_offer": c_off.astype(np.float32).ravel(),
        }
    )


def offer_rows(
    rng: np.random.Generator,
    ids: np.ndarray,
    prev_snapshot: np.datetime64,
    idx: np.ndarray,
    j: int,
    c: camp.Campaign,
    is_rand: np.ndarray,
    arm: np.ndarray,
    prop: np.ndarray,
    converted: np.ndarray,
) -> pd.DataFrame:
    """Offers shown 1-4 days after the previous snapshot; a conversion lands before the next."""
    k = len(idx)
    days, hours, lag = offer_draws(rng, k)
    base = prev_snapshot.astype("datetime64[us]").astype(np.int64)
    shown = base + days * 86_400_000_000 + hours * 3_600_000_000
    outcome = shown + lag * 86_400e6
    return pd.DataFrame(
        {
            "client_id": ids[idx],
            "product_code": c.product,
            "shown_at": pd.to_datetime(shown, unit="us", utc=True),
            "channel": c.channel,
            "strategy": c.name,
            "assignment": np.where(is_rand, "random", "policy"),
            "arm": np.where(arm, "treatment", "control"),
            "propensity": prop.astype(float),
            "window_days": 30,
            "converted": converted,
            "outcome_at": pd.to_datetime(
                np.where(converted, outcome.astype(np.int64), np.iinfo(np.int64).min), unit="us", utc=True
            ),
        }
    )


def offer_draws(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The random draws of k offer-log rows (day, hour, conversion lag), in a fixed order."""
    return rng.integers(1, 5, k), rng.integers(8, 20, k), rng.uniform(0.2, 24, k)
