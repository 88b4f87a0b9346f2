"""Training labels: which products a client adds in the month after the cutoff.

label[client, product] at cutoff m = 1 when the product is held at m+1 and not at m, 0 when
it is held at neither, and NaN (not a candidate) when it is already held at m: recommending
a product the client holds is not a decision the model has to learn.

Format (wide): one row per client, one `label_<code>` column per product (float 1/0/NaN),
the same rows as the feature frame so the two join on (client_id, cutoff). A long
(client, product) view is `frame.melt(...)` away and drops the NaN pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.features.frames import month_indices
from core.features.holdings import holding_cube


def label_columns(products: Sequence[str]) -> list[str]:
    return [f"label_{p}" for p in products]


def make_labels(holdings: pd.DataFrame, ids: np.ndarray, m: int, products: Sequence[str]) -> pd.DataFrame:
    """Wide labels for the sorted client `ids` at cutoff month `m` (needs month m+1 data)."""
    if len(holdings) and not (month_indices(holdings["month"]) == m + 1).any():
        raise ValueError("no holdings snapshot in the month after the cutoff: labels unknown")
    held, _ = holding_cube(holdings, ids, m + 1, products, depth=2)
    nxt, now = held[:, 0, :], held[:, 1, :]
    labels = np.where(now, np.nan, (nxt & ~now).astype(np.float64))
    return pd.DataFrame(labels, columns=label_columns(products)).assign(client_id=ids)
