"""Off-policy value of a targeting policy: which arm (or none) each client gets.

Why: a ranking metric says whether the model orders clients well; the business question is
"how many extra conversions would this budgeted policy have produced?". From logged offers
(arm drawn with a known propensity) that is answered without deploying the policy:

- IPW: V = mean( 1[pi(x_i) = a_i] * y_i / p_i ), unbiased when p is the logged propensity.
- DR:  V = mean( mu(x_i, pi(x_i)) + 1[pi(x_i) = a_i] * (y_i - mu(x_i, a_i)) / p_i ), unbiased
  if either p or the outcome model mu is right, and with much lower variance than IPW.
- True: with simulated truth, the exact expected outcome of the policy.

Each returns the mean outcome under the policy, the same for "treat nobody" (all control),
and incremental conversions = n * (value - baseline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PolicyValue:
    """Estimated mean outcome per client under the policy and under treating nobody."""

    value: float
    baseline: float
    incremental_rate: float
    incremental_conversions: float
    n_treated: int


def _names(a: Sequence[str] | np.ndarray | pd.Series) -> np.ndarray:
    return np.asarray(a, dtype=object).ravel()


def _result(value: float, baseline: float, n: int, policy: np.ndarray, control: str) -> PolicyValue:
    return PolicyValue(
        value=float(value), baseline=float(baseline), incremental_rate=float(value - baseline),
        incremental_conversions=float(n * (value - baseline)), n_treated=int((policy != control).sum()),
    )


def policy_value_ipw(
    policy_arm: Sequence[str] | np.ndarray | pd.Series,
    logged_arm: Sequence[str] | np.ndarray | pd.Series,
    y: Sequence[float] | np.ndarray | pd.Series,
    propensity: Sequence[float] | np.ndarray | pd.Series,
    control_name: str = "none",
) -> PolicyValue:
    """Inverse-propensity estimate; `propensity` = P(logged arm | x) as logged."""
    pol, log = _names(policy_arm), _names(logged_arm)
    yv, p = np.asarray(y, dtype=float).ravel(), np.asarray(propensity, dtype=float).ravel()
    value = np.mean((pol == log) * yv / p)
    baseline = np.mean((log == control_name) * yv / p)
    return _result(value, baseline, len(yv), pol, control_name)


def policy_value_dr(
    policy_arm: Sequence[str] | np.ndarray | pd.Series,
    logged_arm: Sequence[str] | np.ndarray | pd.Series,
    y: Sequence[float] | np.ndarray | pd.Series,
    propensity: Sequence[float] | np.ndarray | pd.Series,
    mu: pd.DataFrame | np.ndarray,
    arms: Sequence[str] | None = None,
    control_name: str = "none",
) -> PolicyValue:
    """Doubly-robust estimate. `mu` is n x groups of predicted outcome probabilities, one column
    per group (the control and every arm): a DataFrame named by group, or an array whose
    column names are given in `arms` (control included)."""
    if isinstance(mu, pd.DataFrame):
        names = [str(c) for c in mu.columns]
        m = mu.to_numpy(dtype=float)
    else:
        if arms is None:
            raise ValueError("arms must name mu's columns when mu is an array")
        names, m = list(arms), np.asarray(mu, dtype=float)
    col = {name: j for j, name in enumerate(names)}
    pol, log = _names(policy_arm), _names(logged_arm)
    yv, p = np.asarray(y, dtype=float).ravel(), np.asarray(propensity, dtype=float).ravel()
    rows = np.arange(len(yv))
    mu_logged = m[rows, [col[a] for a in log]]

    def value_of(target: np.ndarray) -> float:
        mu_target = m[rows, [col[a] for a in target]]
        return float(np.mean(mu_target + (target == log) * (yv - mu_logged) / p))

    nobody = np.full(len(yv), control_name, dtype=object)
    return _result(value_of(pol), value_of(nobody), len(yv), pol, control_name)


def policy_value_true(
    policy_arm: Sequence[str] | np.ndarray | pd.Series,
    p_control_true: Sequence[float] | np.ndarray | pd.Series,
    p_treated_true: pd.DataFrame | Mapping[str, Sequence[float] | np.ndarray],
    control_name: str = "none",
) -> PolicyValue:
    """Exact expected outcome when the true conversion probabilities are known (simulation):
    `p_treated_true` maps each arm to P(y=1 | x, arm)."""
    pol = _names(policy_arm)
    p0 = np.asarray(p_control_true, dtype=float).ravel()
    truth = {str(k): np.asarray(v, dtype=float).ravel() for k, v in dict(p_treated_true).items()}
    expected = p0.copy()
    for arm, p1 in truth.items():
        expected = np.where(pol == arm, p1, expected)
    unknown = set(pol) - set(truth) - {control_name}
    if unknown:
        raise KeyError(f"policy uses arms without truth: {sorted(unknown)}")
    return _result(float(expected.mean()), float(p0.mean()), len(p0), pol, control_name)


def greedy_policy(
    uplift: pd.DataFrame, budget: float | int | None = None, control_name: str = "none",
    prefix: str = "uplift_",
) -> np.ndarray:
    """Best arm per client if its predicted uplift is positive, then only the `budget` clients
    with the largest uplift keep it (an int is a count, a float in (0, 1] a fraction)."""
    cols = [c for c in uplift.columns if str(c).startswith(prefix)]
    values = uplift[cols].to_numpy(dtype=float)
    best = values.argmax(axis=1)
    gain = values[np.arange(len(values)), best]
    arms = np.array([str(c)[len(prefix):] for c in cols], dtype=object)
    policy = np.where(gain > 0, arms[best], control_name).astype(object)
    if budget is not None:
        limit = int(budget) if isinstance(budget, int) else int(np.floor(budget * len(values)))
        order = np.argsort(-gain, kind="stable")
        policy[order[limit:]] = control_name
    return policy
