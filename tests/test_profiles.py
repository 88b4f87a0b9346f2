"""Median profiles per product (pure): medians, and where they sit among all clients."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.analytics.profiles import median_profiles


def test_group_medians_come_with_their_percentile_among_all_clients() -> None:
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
    assert holders["percentiles"]["age"] == 90.0  # 89.5 sits above 90% of clients
    assert recent["percentiles"]["age"] == 95.0
    # half the clients hold no product, half one: a median of 0.5 sits in the middle
    assert holders["products_held"] == 0.5 and holders["percentiles"]["products_held"] == 50.0
    assert 0.0 <= holders["percentiles"]["income"] <= 100.0
    assert "percentiles" not in everyone
