"""Out-of-fold uplift predictions of every learner from one set of shared outcome models.

Why: choosing a learner by the Qini of out-of-fold predictions used to fit each learner
from scratch in every fold (X, DR, T and RR: about 16 base models per fold, most of them
the same outcome models fitted again). All four learners are built on the same nuisance,
the outcome model of each group, so it is fitted once per fold here and shared:

1. outcome pass: per fold, one classifier per group (control and each arm) on the fold's
   fitting rows predicts the held-out rows, giving out-of-fold mu_g(x) for every row;
2. T: mu_arm - mu_control, out of fold at once;
   RR: mu_control x (risk ratio - 1), the ratio from the fitting rows (Hajek IPW), as in
   _learners.RiskRatioLearner (whose baseline is a pooled model; here the control's);
3. effect pass: per fold, X's two effect regressors on imputed effects (treated
   y - mu_control, control mu_arm - y) and DR's regressor on the doubly-robust
   pseudo-outcome, both from the out-of-fold mu (cross-fitted nuisances, as DR requires),
   predict the held-out rows; X combines them with the propensity like causalml
   (e * tau_control + (1 - e) * tau_treated).

Base models: 2 passes x folds x (groups + 3 per arm), each on (folds-1)/folds of the rows,
against 4 x (groups) models per fold before. The chosen learner is then refitted on all
rows by UpliftModel, so its final model is exactly that learner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.uplift._learners import BaseSpec

Predictor = Callable[[np.ndarray], np.ndarray]


def _classifier(spec: BaseSpec, X: np.ndarray, y: np.ndarray) -> Predictor:
    """P(y=1 | x); a constant when the rows hold one class (a small fold)."""
    if len(y) == 0 or y.min() == y.max():
        rate = float(y.mean()) if len(y) else 0.0
        return lambda Z: np.full(len(Z), rate)
    model = spec.classifier().fit(X, y)
    return lambda Z: np.asarray(model.predict_proba(Z)[:, 1], dtype=float)


def _regressor(spec: BaseSpec, X: np.ndarray, y: np.ndarray) -> Predictor:
    if len(y) < 2 or np.ptp(y) == 0:
        value = float(y.mean()) if len(y) else 0.0
        return lambda Z: np.full(len(Z), value)
    model = spec.regressor().fit(X, y)
    return lambda Z: np.asarray(model.predict(Z), dtype=float)


def risk_ratio(y: np.ndarray, treated: np.ndarray, e: np.ndarray) -> float:
    """Hajek-weighted P(y | arm) / P(y | control) over arm + control rows (1 when undefined)."""
    w1, w0 = 1.0 / e[treated], 1.0 / (1.0 - e[~treated])
    rate1 = float((w1 * y[treated]).sum() / max(w1.sum(), 1e-12))
    rate0 = float((w0 * y[~treated]).sum() / max(w0.sum(), 1e-12))
    return rate1 / rate0 if rate0 > 0 else 1.0


def oof_uplift(
    X: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    e: dict[str, np.ndarray],
    spec: BaseSpec,
    control: str,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Out-of-fold uplift (rows x arms, arms sorted) of x, dr, t and rr; `e` clipped e_a(x)."""
    arms = sorted(e)
    groups = [control, *arms]
    n = len(y)
    mu = np.zeros((n, len(groups)))
    for fit, held in folds:
        for g, group in enumerate(groups):
            rows = fit[t[fit] == group]
            mu[held, g] = _classifier(spec, X[rows], y[rows])(X[held])
    out = {kind: np.zeros((n, len(arms))) for kind in ("x", "dr", "t", "rr")}
    for j, arm in enumerate(arms):
        a = j + 1
        out["t"][:, j] = mu[:, a] - mu[:, 0]
        ea = e[arm]
        treated = t == arm
        for fit, held in folds:
            f_arm, f_ctl = fit[treated[fit]], fit[t[fit] == control]
            tau_t = _regressor(spec, X[f_arm], y[f_arm] - mu[f_arm, 0])
            tau_c = _regressor(spec, X[f_ctl], mu[f_ctl, a] - y[f_ctl])
            out["x"][held, j] = ea[held] * tau_c(X[held]) + (1.0 - ea[held]) * tau_t(X[held])
            both = np.concatenate([f_arm, f_ctl])
            tb, yb, eb = treated[both], y[both], ea[both]
            psi = (
                mu[both, a]
                - mu[both, 0]
                + np.where(tb, (yb - mu[both, a]) / eb, 0.0)
                - np.where(tb, 0.0, (yb - mu[both, 0]) / (1.0 - eb))
            )
            out["dr"][held, j] = _regressor(spec, X[both], psi)(X[held])
            ratio = risk_ratio(yb, tb, eb)
            out["rr"][held, j] = mu[held, 0] * (ratio - 1.0)
    return out


def describe() -> dict[str, Any]:
    return {
        "metric": "mean over arms of the IPW-weighted Qini coefficient of out-of-fold predictions",
        "method": "shared cross-fitted outcome models (core/uplift/_selection.py)",
    }
