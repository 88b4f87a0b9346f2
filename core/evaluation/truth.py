"""The simulator's ground truth as dense matrices (clients x products) for one month."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd


@lru_cache(maxsize=2)
def read_truth(truth_path: str) -> pd.DataFrame:
    """The truth file with a month-index column `m` (read once per evaluation, not per use:
    it is clients x months x products rows). Callers must not modify the frame."""
    truth = pd.read_parquet(truth_path)
    month = pd.to_datetime(truth["month"])
    truth["m"] = (month.dt.year * 12 + month.dt.month - 1).to_numpy()
    return truth


def truth_matrices(
    truth_path: str, month: int, ids: np.ndarray, products: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(p_organic, p_offer) of take-up in `month` (a month index); None when absent."""
    truth = read_truth(truth_path)
    truth = truth[truth["m"].to_numpy() == month]
    if truth.empty:
        return None
    col = {p: j for j, p in enumerate(products)}
    row = pd.Series(np.arange(len(ids)), index=ids)
    truth = truth[truth["client_id"].isin(row.index) & truth["product_code"].isin(col)]
    r = row[truth["client_id"]].to_numpy()
    c = truth["product_code"].map(col).to_numpy()
    organic = np.zeros((len(ids), len(products)))
    offered = np.zeros_like(organic)
    organic[r, c] = truth["p_organic"].to_numpy()
    offered[r, c] = truth["p_offer"].to_numpy()
    return organic, offered
