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


TRUE = ("p_organic", "p_offer")
CEILING = ("p_ceiling_organic", "p_ceiling_offer")  # the Bayes ceiling from observables


def truth_matrices(
    truth_path: str,
    month: int,
    ids: np.ndarray,
    products: tuple[str, ...],
    columns: tuple[str, str] = TRUE,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(organic, offer) take-up probabilities in `month` (a month index): the true ones, or
    with `columns=CEILING` their expectation from observables; None when absent (a truth
    file written before the ceiling existed has no ceiling columns)."""
    truth = read_truth(truth_path)
    if not set(columns) <= set(truth.columns):
        return None
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
    organic[r, c] = truth[columns[0]].to_numpy()
    offered[r, c] = truth[columns[1]].to_numpy()
    return organic, offered
