"""Median profiles per product (pure): medians, and where they sit among all clients."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.analytics.profiles import median_profiles


def test_groups_come_with_their_mean_percentile_rank_among_all_clients() -> None:
    n = 1000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": np.arange(n) % 100,  # 0..99 ten times: percentiles are exact
            "log_income": np.log1p(rng.lognormal(10, 0.5, n)),
            "n_held_l0": np.r_[np.zeros(n // 2), np.ones(n // 2)],
            "hold_a_l0": (np.arange(n) % 100 >= 80).astype(int),  # holders: ages 80..99
            "months_since_change_a": np.where(np.arange(n) % 100 >= 90, 1, 30),  # recent: 90..99
            "segment": "individual",
        }
    )
    profile = median_profiles(frame, ["a"])["a"]
    holders, recent, everyone = profile["holders"], profile["recent_adopters"], profile["all_clients"]
    assert (holders["clients"], recent["clients"], everyone["clients"]) == (200, 100, n)
    assert holders["age"] == 89.5 and everyone["age"] == 49.5
    assert holders["percentile_ranks"]["age"] == 90.0  # the average holder is above 90% of clients
    assert recent["percentile_ranks"]["age"] == 95.0
    # ties count half: spread like all clients (half hold no product, half one) reads 50
    assert holders["products_held"] == 0.5 and holders["percentile_ranks"]["products_held"] == 50.0
    assert 0.0 <= holders["percentile_ranks"]["income"] <= 100.0
    assert "percentile_ranks" not in everyone
