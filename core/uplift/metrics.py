"""Uplift ranking metrics, randomized and AIPW-corrected, plus policy value (re-exported).

Conventions (all curves are on the same scale, so randomized and AIPW numbers compare):

- Rows are ranked by predicted uplift, highest first; tied scores are one block (the curve is
  only evaluated between blocks and interpolated linearly inside), so a constant score is
  exactly the random line.
- x = fraction of the population targeted.
- Qini curve (Radcliffe): Q(k) = Y_T(k) - Y_C(k) * N_T(k) / N_C(k), incremental conversions
  among the treated of the top k, divided by the total treated count N_T so that Q(1) is the
  average treatment effect. With `propensity`, every sum is inverse-propensity weighted
  (treated 1/e, control 1/(1-e)), which removes the targeting bias of policy-chosen rows.
- `qini_coefficient` = area between the Qini curve and the random line (0,0)-(1,Q(1)): the
  mean extra incremental conversion rate of ranking by the model over ranking at random.
  causalml's `qini_score` divides by Q(1) instead; with helpful arms and "sleeping dogs"
  cancelling, Q(1) is near 0 and that ratio explodes, so we keep the unnormalised area.
- Uplift (cumulative gain) curve: G(k) = k/n * (mean y_T - mean y_C in the top k); `auuc` is
  its area. Random ranking scores ATE/2, so compare AUUCs of models on the same data.
- AIPW versions replace the per-group means by doubly-robust pseudo-outcomes
  phi = mu1 - mu0 + T (y - mu1) / e - (1 - T) (y - mu0) / (1 - e), whose mean over any set
  of rows chosen by x estimates the set's mean effect even when treatment was targeted; the
  AIPW Qini curve is cumsum(phi)/n, on the same scale as Q.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

from core.uplift.policy import (
    PolicyValue,
    greedy_policy,
    policy_value_dr,
    policy_value_ipw,
    policy_value_true,
)

ArrayLike: TypeAlias = Sequence[float] | np.ndarray | pd.Series

__all__ = [
    "PolicyValue", "aipw_pseudo_outcomes", "auuc", "auuc_aipw", "greedy_policy", "policy_value_dr",
    "policy_value_ipw", "policy_value_true", "qini_coefficient", "qini_coefficient_aipw",
    "qini_curve", "qini_curve_aipw", "uplift_at_k", "uplift_at_k_aipw",
]


def _arr(a: ArrayLike) -> np.ndarray:
    return np.asarray(a, dtype=float).ravel()


def _blocks(uplift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Descending order of rows and the end index (exclusive) of each tied-score block."""
    order = np.argsort(-uplift, kind="stable")
    s = uplift[order]
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True]) + 1
    return order, ends


def _weights(treated: np.ndarray, propensity: ArrayLike | None) -> np.ndarray:
    if propensity is None:
        return np.ones_like(treated, dtype=float)
    e = _arr(propensity)
    return np.where(treated, 1.0 / e, 1.0 / (1.0 - e))


def qini_curve(
    y: ArrayLike, treated: ArrayLike, uplift: ArrayLike, propensity: ArrayLike | None = None
) -> pd.DataFrame:
    """Qini curve points (fraction targeted, incremental conversions per treated client).

    `incremental_conversions` holds the unscaled Radcliffe counts for a chart in conversions.
    """
    yv, t, u = _arr(y), _arr(treated) > 0, _arr(uplift)
    w = _weights(t, propensity)
    order, ends = _blocks(u)
    yo, to, wo = yv[order], t[order], w[order]
    yt = np.cumsum(np.where(to, wo * yo, 0.0))[ends - 1]
    yc = np.cumsum(np.where(to, 0.0, wo * yo))[ends - 1]
    nt = np.cumsum(np.where(to, wo, 0.0))[ends - 1]
    nc = np.cumsum(np.where(to, 0.0, wo))[ends - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = yt - np.where(nc > 0, yc * nt / nc, 0.0)
    total_t = max(float(nt[-1]), 1e-12)
    return pd.DataFrame(
        {
            "fraction": np.r_[0.0, ends / len(u)],
            "incremental": np.r_[0.0, q / total_t],
            "incremental_conversions": np.r_[0.0, q],
        }
    )


def _area_over_random(x: np.ndarray, q: np.ndarray) -> float:
    """Trapezoid area between the curve and the straight line from (0, 0) to (1, q[-1])."""
    gap = q - x * q[-1]
    return float(np.sum((gap[1:] + gap[:-1]) * np.diff(x) / 2.0))


def qini_coefficient(
    y: ArrayLike, treated: ArrayLike, uplift: ArrayLike, propensity: ArrayLike | None = None
) -> float:
    """Area between the Qini curve and the random line; > 0 means the ranking beats random."""
    c = qini_curve(y, treated, uplift, propensity)
    return _area_over_random(c["fraction"].to_numpy(), c["incremental"].to_numpy())


def auuc(y: ArrayLike, treated: ArrayLike, uplift: ArrayLike) -> float:
    """Area under the uplift curve G(k) = k/n * (mean y_T - mean y_C within the top k)."""
    yv, t, u = _arr(y), _arr(treated) > 0, _arr(uplift)
    order, ends = _blocks(u)
    yo, to = yv[order], t[order]
    nt = np.cumsum(to)[ends - 1]
    nc = np.cumsum(~to)[ends - 1]
    yt = np.cumsum(np.where(to, yo, 0.0))[ends - 1]
    yc = np.cumsum(np.where(to, 0.0, yo))[ends - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(nt > 0, yt / np.maximum(nt, 1), 0.0) - np.where(nc > 0, yc / np.maximum(nc, 1), 0.0)
    x = np.r_[0.0, ends / len(u)]
    g = np.r_[0.0, x[1:] * diff]
    return float(np.sum((g[1:] + g[:-1]) * np.diff(x) / 2.0))


def _top_k(uplift: np.ndarray, k: float) -> np.ndarray:
    if not 0.0 < k <= 1.0:
        raise ValueError("k is a fraction in (0, 1]")
    n_top = max(1, int(np.ceil(k * len(uplift) - 1e-9)))
    return np.argsort(-uplift, kind="stable")[:n_top]


def uplift_at_k(y: ArrayLike, treated: ArrayLike, uplift: ArrayLike, k: float) -> float:
    """Mean outcome of treated minus control among the top ceil(k*n) rows by predicted uplift.

    For randomized data. NaN when the top k holds no treated or no control row.
    """
    yv, t = _arr(y), _arr(treated) > 0
    top = _top_k(_arr(uplift), k)
    yt, tt = yv[top], t[top]
    if tt.all() or not tt.any():
        return float("nan")
    return float(yt[tt].mean() - yt[~tt].mean())


def aipw_pseudo_outcomes(
    y: ArrayLike, treated: ArrayLike, propensity: ArrayLike, mu0: ArrayLike, mu1: ArrayLike
) -> np.ndarray:
    """Doubly-robust per-row effect phi (module doc): unbiased if either e or mu is right."""
    yv, t, e, m0, m1 = _arr(y), _arr(treated), _arr(propensity), _arr(mu0), _arr(mu1)
    return m1 - m0 + t * (yv - m1) / e - (1.0 - t) * (yv - m0) / (1.0 - e)


def uplift_at_k_aipw(
    y: ArrayLike, treated: ArrayLike, uplift: ArrayLike, k: float,
    propensity: ArrayLike, mu0: ArrayLike, mu1: ArrayLike,
) -> float:
    """Mean AIPW pseudo-outcome among the top-k by predicted uplift (targeted data)."""
    phi = aipw_pseudo_outcomes(y, treated, propensity, mu0, mu1)
    return float(phi[_top_k(_arr(uplift), k)].mean())


def qini_curve_aipw(
    y: ArrayLike, treated: ArrayLike, uplift: ArrayLike,
    propensity: ArrayLike, mu0: ArrayLike, mu1: ArrayLike,
) -> pd.DataFrame:
    """(fraction targeted, estimated incremental conversions per client = cumsum(phi) / n)."""
    phi = aipw_pseudo_outcomes(y, treated, propensity, mu0, mu1)
    order, ends = _blocks(_arr(uplift))
    cum = np.cumsum(phi[order])[ends - 1]
    return pd.DataFrame(
        {
            "fraction": np.r_[0.0, ends / len(phi)],
            "incremental": np.r_[0.0, cum / len(phi)],
            "incremental_conversions": np.r_[0.0, cum],
        }
    )


def qini_coefficient_aipw(
    y: ArrayLike, treated: ArrayLike, uplift: ArrayLike,
    propensity: ArrayLike, mu0: ArrayLike, mu1: ArrayLike,
) -> float:
    """Area between the AIPW Qini curve and the random line."""
    c = qini_curve_aipw(y, treated, uplift, propensity, mu0, mu1)
    return _area_over_random(c["fraction"].to_numpy(), c["incremental"].to_numpy())


def auuc_aipw(
    y: ArrayLike, treated: ArrayLike, uplift: ArrayLike,
    propensity: ArrayLike, mu0: ArrayLike, mu1: ArrayLike,
) -> float:
    """Area under the AIPW uplift curve cumsum(phi)/n (random ranking scores ATE/2)."""
    c = qini_curve_aipw(y, treated, uplift, propensity, mu0, mu1)
    x, g = c["fraction"].to_numpy(), c["incremental"].to_numpy()
    return float(np.sum((g[1:] + g[:-1]) * np.diff(x) / 2.0))
