"""Training one uplift model per offered product from the offer log.

Each product's campaign rows are a treatment-vs-control problem with its own outcome (took
up this product within the window). The logged propensity (probability of the treatment arm
under the policy that decided) is passed through, so the learners reweight the targeted,
non-random part correctly; the random slice is where their quality is measured.
"""

from __future__ import annotations

import warnings
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
    **params: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit per product; returns (models, report) where report says what was skipped and why."""
    from catboost import CatBoostError

    from core.uplift import UpliftModel

    models: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for code, rows in data.groupby("product_code", sort=True):
        y = rows["converted"].to_numpy(dtype=int)
        treated = rows["arm"].to_numpy() == "treatment"
        info: dict[str, Any] = {
            "rows": int(len(rows)),
            "treated": int(treated.sum()),
            "conversions": int(y.sum()),
        }
        if len(rows) < min_rows or y.sum() < min_conversions or treated.all() or not treated.any():
            info["skipped"] = f"too little data (need {min_rows} rows and {min_conversions} conversions)"
            report[str(code)] = info
            continue
        model = UpliftModel(learner=learner, base=base, control_name="none", **params)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(
                    feature_matrix(rows),
                    np.where(treated, str(code), "none"),
                    y,
                    propensity=arm_propensity(rows),
                )
        except (ValueError, CatBoostError) as exc:
            # e.g. a cross-fitting fold with one outcome class on a small population: this
            # product gets no uplift model (the decision layer falls back to p_take x value).
            info["skipped"] = f"could not fit: {exc}"[:300]
            report[str(code)] = info
            continue
        models[str(code)] = model
        info["learner"] = model.learner_
        info["seconds"] = model.fit_info_["seconds"]
        scores = (getattr(model, "selection_", None) or {}).get("scores", {})
        info["selection_qini"] = {
            k: (round(v["qini"], 5) if np.isfinite(v["qini"]) else None) for k, v in scores.items()
        }
        info["overlap"] = {
            arm: {k: round(float(v), 4) for k, v in o.items()} for arm, o in model.overlap_.items()
        }
        report[str(code)] = info
    return models, report
