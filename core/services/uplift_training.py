"""Training one uplift model per offered product from the offer log.

Each product's campaign rows are a treatment-vs-control problem with its own outcome (took
up this product within the window). The logged propensity (probability of the treatment arm
under the policy that decided) is passed through, so the learners reweight the targeted,
non-random part correctly; the random slice is where their quality is measured.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from core.services.uplift_data import feature_matrix

MIN_ROWS = 300  # fewer offer rows than this: no model, the decision layer falls back
MIN_CONVERSIONS = 15


def arm_propensity(rows: pd.DataFrame) -> np.ndarray:
    """P(the row's own arm | x) from the logged P(treatment | x)."""
    p = rows["propensity"].to_numpy(dtype=float)
    return np.where(rows["arm"].to_numpy() == "treatment", p, 1.0 - p)


def fit_uplift_models(
    data: pd.DataFrame,
    learner: str = "auto",
    base: str = "catboost",
    min_rows: int = MIN_ROWS,
    min_conversions: int = MIN_CONVERSIONS,
    workers: int | None = None,
    **params: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit per product; returns (models, report) where report says what was skipped and why.

    Products are fitted `workers` at a time (default: one per core, at most 2), each model
    single-threaded. Why: a product's log is a few thousand to tens of thousands of rows,
    where CatBoost's per-iteration threading keeps two cores about 70% busy; independent
    products keep both busy. CatBoost and LightGBM release the GIL while they fit, so
    threads suffice, and a model's result does not depend on its thread count.
    """
    groups = [(str(code), rows) for code, rows in data.groupby("product_code", sort=True)]
    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1:
        params.setdefault("threads", 1)
    fit_one = partial(
        _fit_product,
        learner=learner,
        base=base,
        min_rows=min_rows,
        min_conversions=min_conversions,
        params=params,
    )
    with warnings.catch_warnings():  # process-wide filters: set once, not per thread
        warnings.simplefilter("ignore")
        if workers > 1 and len(groups) > 1:
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(lambda g: fit_one(*g), groups))
        else:
            results = [fit_one(*g) for g in groups]
    models = {code: model for (code, _), (model, _) in zip(groups, results, strict=True) if model is not None}
    report = {code: info for (code, _), (_, info) in zip(groups, results, strict=True)}
    return models, report


def _fit_product(
    code: str,
    rows: pd.DataFrame,
    *,
    learner: str,
    base: str,
    min_rows: int,
    min_conversions: int,
    params: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    """(model or None, report) of one product's offer rows."""
    from catboost import CatBoostError

    from core.uplift import UpliftModel

    y = rows["converted"].to_numpy(dtype=int)
    treated = rows["arm"].to_numpy() == "treatment"
    info: dict[str, Any] = {
        "rows": int(len(rows)),
        "treated": int(treated.sum()),
        "conversions": int(y.sum()),
    }
    if len(rows) < min_rows or y.sum() < min_conversions or treated.all() or not treated.any():
        info["skipped"] = f"too little data (need {min_rows} rows and {min_conversions} conversions)"
        return None, info
    model = UpliftModel(learner=learner, base=base, control_name="none", **params)
    try:
        model.fit(
            feature_matrix(rows),
            np.where(treated, code, "none"),
            y,
            propensity=arm_propensity(rows),
        )
    except (ValueError, CatBoostError) as exc:
        # e.g. a cross-fitting fold with one outcome class on a small population: this
        # product gets no uplift model (the decision layer falls back to p_take x value).
        info["skipped"] = f"could not fit: {exc}"[:300]
        return None, info
    info["learner"] = model.learner_
    info["seconds"] = model.fit_info_["seconds"]
    scores = (getattr(model, "selection_", None) or {}).get("scores", {})
    info["selection_qini"] = {
        k: (round(v["qini"], 5) if np.isfinite(v["qini"]) else None) for k, v in scores.items()
    }
    info["overlap"] = {
        arm: {k: round(float(v), 4) for k, v in o.items()} for arm, o in model.overlap_.items()
    }
    return model, info
