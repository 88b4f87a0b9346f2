"""Uplift and policy evaluation: the `uplift` and `policy` sections of `recsys evaluate`.

Split: uplift models learn from offers whose features predate the last TEST_MONTHS
snapshots and are scored on the offers after (temporal, like the take-up evaluation).

- uplift.<product>: Qini coefficient, AUUC, uplift@10%/30% on the random slice (the
  unbiased experiment); AIPW-corrected versions on the targeted (policy) part; on
  simulated data the correlation of predicted with true uplift.
- policy.<name>: incremental conversions of each policy with one offer to BUDGET of the
  clients. Off-policy from the logged test offers (IPW and doubly robust, each row a
  treat/hold-out decision reweighted by its logged propensity) and, on simulated data,
  exactly from the truth over the whole test month population, where `ceiling` (expected
  uplift from observables, the best a model could target) and `ceiling_takeup` (expected
  take-up from observables) join the policies. Policies choose among the
  products that have an uplift model, so they compete on the same candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.evaluation.truth import CEILING, read_truth, truth_matrices
from core.services.uplift_data import feature_matrix

TEST_MONTHS = 4
BUDGET = 0.2
POLICIES = ("uplift", "propensity", "rules", "random", "oracle", "ceiling", "ceiling_takeup")


def split_offers(offers: pd.DataFrame, test_months: int = TEST_MONTHS) -> tuple[pd.DataFrame, pd.DataFrame]:
    last = int(offers["cutoff"].max())
    test = offers["cutoff"] > last - test_months
    return offers[~test], offers[test]


def truth_lookup(truth_path: str | None, rows: pd.DataFrame) -> np.ndarray | None:
    """True uplift (p_offer - p_organic) of each offer row's take-up month (None: no truth)."""
    if not truth_path:
        return None
    truth = read_truth(truth_path)
    key = pd.DataFrame(
        {
            "client_id": rows["client_id"].to_numpy(),
            "product_code": rows["product_code"].to_numpy(),
            "m": rows["cutoff"].to_numpy() + 1,
        }
    )
    merged = key.merge(truth, on=["client_id", "product_code", "m"], how="left")
    if merged["p_offer"].isna().all():
        return None
    return (merged["p_offer"] - merged["p_organic"]).fillna(0.0).to_numpy(dtype=float)


def product_metrics(
    rows: pd.DataFrame, pred: pd.DataFrame, code: str, true_uplift: np.ndarray | None
) -> dict[str, Any]:
    from core.uplift import metrics as um

    y = rows["converted"].to_numpy(dtype=int)
    t = (rows["arm"].to_numpy() == "treatment").astype(int)
    u = pred[f"uplift_{code}"].to_numpy(dtype=float)
    mu0 = pred["p_control"].to_numpy(dtype=float)
    mu1 = np.clip(mu0 + u, 0.0, 1.0)
    rnd = rows["assignment"].to_numpy() == "random"
    out: dict[str, Any] = {"rows": int(len(rows)), "random_rows": int(rnd.sum())}
    if rnd.sum() >= 40 and 0 < t[rnd].sum() < rnd.sum():
        out["random"] = {
            "qini": round(float(um.qini_coefficient(y[rnd], t[rnd], u[rnd])), 5),
            "auuc": round(float(um.auuc(y[rnd], t[rnd], u[rnd])), 5),
            "uplift@10%": round(float(um.uplift_at_k(y[rnd], t[rnd], u[rnd], 0.1)), 5),
            "uplift@30%": round(float(um.uplift_at_k(y[rnd], t[rnd], u[rnd], 0.3)), 5),
            "observed_ate": round(float(y[rnd][t[rnd] == 1].mean() - y[rnd][t[rnd] == 0].mean()), 5),
            "qini_curve": curve_points(um.qini_curve(y[rnd], t[rnd], u[rnd])),
        }
    pol = ~rnd
    if pol.sum() >= 40:
        e = np.clip(rows["propensity"].to_numpy(dtype=float)[pol], 0.02, 0.98)
        args = (y[pol], t[pol], u[pol])
        nuisance = (e, mu0[pol], mu1[pol])
        out["targeted_aipw"] = {
            "qini": round(float(um.qini_coefficient_aipw(*args, *nuisance)), 5),
            "uplift@10%": round(float(um.uplift_at_k_aipw(*args, 0.1, *nuisance)), 5),
            "uplift@30%": round(float(um.uplift_at_k_aipw(*args, 0.3, *nuisance)), 5),
            "ate": round(float(um.aipw_pseudo_outcomes(y[pol], t[pol], *nuisance).mean()), 5),
        }
    if true_uplift is not None and len(u) > 2 and np.std(u) > 0 and np.std(true_uplift) > 0:
        out["corr_true_uplift"] = round(float(np.corrcoef(u, true_uplift)[0, 1]), 4)
        out["mean_true_uplift"] = round(float(true_uplift.mean()), 5)
    out["mean_predicted_uplift"] = round(float(u.mean()), 5)
    return out


def curve_points(curve: pd.DataFrame, n: int = 21) -> dict[str, list[float]]:
    """A Qini curve resampled at n evenly spaced shares targeted, for charts (analytics panel)."""
    x = np.linspace(0.0, 1.0, n)
    y = np.interp(x, curve["fraction"].to_numpy(dtype=float), curve["incremental"].to_numpy(dtype=float))
    return {"x": [round(float(v), 3) for v in x], "y": [round(float(v), 6) for v in y]}


def choose(scores: np.ndarray, budget: float = BUDGET) -> np.ndarray:
    """Policy: each client's best product, then the top `budget` share of clients.

    Returns the chosen product column per client, -1 for clients not contacted.
    """
    s = np.where(np.isfinite(scores), scores, -np.inf)
    best = np.argmax(s, axis=1)
    best_score = s[np.arange(len(s)), best]
    n = int(round(len(s) * budget))
    order = np.argsort(-best_score, kind="stable")[:n]
    chosen = np.full(len(s), -1)
    ok = np.isfinite(best_score[order])
    chosen[order[ok]] = best[order[ok]]
    return chosen


def true_incremental(chosen: np.ndarray, true_uplift: np.ndarray) -> float:
    rows = np.flatnonzero(chosen >= 0)
    return float(true_uplift[rows, chosen[rows]].sum())


def off_policy(treat: np.ndarray, rows: pd.DataFrame, mu0: np.ndarray, mu1: np.ndarray) -> dict[str, float]:
    """IPW and DR incremental conversions of offering exactly the logged rows where `treat`.

    Each row is its own product's offer-or-not decision (arm "offer" vs "none"), so one
    estimator covers all products; the logged propensity reweights the targeted rows.
    """
    from core.uplift.policy import policy_value_dr, policy_value_ipw

    y = rows["converted"].to_numpy(dtype=float)
    logged = np.where(rows["arm"].to_numpy() == "treatment", "offer", "none")
    e = np.clip(rows["propensity"].to_numpy(dtype=float), 0.02, 0.98)
    p_logged = np.where(logged == "offer", e, 1 - e)
    policy = np.where(treat, "offer", "none")
    ipw = policy_value_ipw(policy, logged, y, p_logged)
    dr = policy_value_dr(policy, logged, y, p_logged, pd.DataFrame({"none": mu0, "offer": mu1}))
    return {
        "incremental_conversions_ipw": round(ipw.incremental_conversions, 2),
        "incremental_conversions_dr": round(dr.incremental_conversions, 2),
        "policy_value_ipw": round(ipw.value, 5),
        "policy_value_dr": round(dr.value, 5),
    }


def top_share(score: np.ndarray, budget: float = BUDGET) -> np.ndarray:
    n = int(round(len(score) * budget))
    treat = np.zeros(len(score), dtype=bool)
    treat[np.argsort(-score, kind="stable")[:n]] = True
    return treat


def _predict(models: dict[str, Any], code: str, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pred = models[code].predict(feature_matrix(X))
    return pred[f"uplift_{code}"].to_numpy(dtype=float), pred["p_control"].to_numpy(dtype=float)


def population_policies(
    scores: dict[str, np.ndarray],
    candidates: np.ndarray,
    true_uplift: np.ndarray | None,
    budget: float = BUDGET,
) -> dict[str, dict[str, Any]]:
    """Exact incremental conversions of each policy on the test month (needs the truth)."""
    out: dict[str, dict[str, Any]] = {}
    for name, s in scores.items():
        chosen = choose(np.where(candidates, s, -np.inf), budget)
        entry: dict[str, Any] = {"contacts": int((chosen >= 0).sum())}
        if true_uplift is not None:
            inc = true_incremental(chosen, true_uplift)
            entry["incremental_conversions_true"] = round(inc, 2)
            entry["policy_value_true"] = round(inc / max(1, len(s)), 6)
        out[name] = entry
    return out


async def uplift_and_policy_sections(
    url: str,
    frames: Any,
    models: Any,
    X: pd.DataFrame,
    test_cutoff: int,
    truth_path: str | None,
    eligible: np.ndarray,
    seed: int = 0,
    uplift_params: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(uplift section, policy section, fitted uplift models) of the evaluation."""
    from core.services.uplift_data import attach_cutoffs, load_offer_log, sample_per_product, uplift_dataset
    from core.services.uplift_training import fit_uplift_models
    from core.settings import get_settings

    products = models.products
    offers = await load_offer_log(url)
    if offers.empty:
        reason = "no offer log: uplift needs past campaigns (treatment and control rows)"
        return {"available": False, "reason": reason}, {"available": False, "reason": reason}, {}
    offers = attach_cutoffs(offers, frames.holdings["month"])
    offers = offers[offers["cutoff"] <= test_cutoff]
    train_offers, test_offers = split_offers(offers)
    train_offers = sample_per_product(train_offers, get_settings().uplift_max_rows)  # as `recsys train`
    train = uplift_dataset(frames, train_offers, products, models.clusters)
    test = uplift_dataset(frames, test_offers, products, models.clusters)
    fitted, report = fit_uplift_models(train, **(uplift_params or {}))
    uplift: dict[str, Any] = {"products": {}, "training": report}
    if not fitted:
        return {**uplift, "available": False, "reason": "no product had enough offers"}, {}, fitted
    test = test[test["product_code"].isin(list(fitted))].reset_index(drop=True)
    true_rows = truth_lookup(truth_path, test) if truth_path else None
    mu0 = np.zeros(len(test))
    u_rows = np.zeros(len(test))
    for code, idx in test.groupby("product_code").groups.items():
        rows = test.loc[idx]
        pred = fitted[str(code)].predict(feature_matrix(rows))
        u_rows[np.asarray(idx)] = pred[f"uplift_{code}"].to_numpy()
        mu0[np.asarray(idx)] = pred["p_control"].to_numpy()
        truth_part = true_rows[np.asarray(idx)] if true_rows is not None else None
        uplift["products"][str(code)] = product_metrics(rows, pred, str(code), truth_part)
    mu1 = np.clip(mu0 + u_rows, 0.0, 1.0)

    # Scores of each policy on the logged test rows (off-policy) ...
    col = {p: j for j, p in enumerate(products)}
    cols = test["product_code"].map(col).to_numpy()
    hybrid_rows = models.score(test)[np.arange(len(test)), cols] if len(test) else np.zeros(0)
    rules_rows = (
        models.baselines["rules"].predict_proba(test)[np.arange(len(test)), cols]
        if len(test)
        else np.zeros(0)
    )
    rng = np.random.default_rng(seed)
    row_scores = {
        "uplift": u_rows,
        "propensity": hybrid_rows,
        "rules": rules_rows,
        "random": rng.random(len(test)),
    }
    if true_rows is not None:
        row_scores["oracle"] = true_rows
    # ... and on the whole test-month population (exact, from the truth).
    candidates = eligible.copy()
    for j, code in enumerate(products):
        if code not in fitted:
            candidates[:, j] = False
    pop_scores = {
        "uplift": np.column_stack(
            [_predict(fitted, p, X)[0] if p in fitted else np.full(len(X), -np.inf) for p in products]
        ),
        "propensity": models.score(X),
        "rules": models.baselines["rules"].predict_proba(X),
        "random": rng.random((len(X), len(products))),
    }
    true_pop = None
    if truth_path:
        matrices = truth_matrices(truth_path, test_cutoff + 1, X["client_id"].to_numpy(), products)
        if matrices is not None:
            true_pop = matrices[1] - matrices[0]
            pop_scores["oracle"] = true_pop
        # the Bayes ceiling from observables: expected uplift, and expected take-up
        ceiling = truth_matrices(truth_path, test_cutoff + 1, X["client_id"].to_numpy(), products, CEILING)
        if ceiling is not None and true_pop is not None:
            pop_scores["ceiling"] = ceiling[1] - ceiling[0]
            pop_scores["ceiling_takeup"] = ceiling[0]
    exact = population_policies(pop_scores, candidates, true_pop)
    policy: dict[str, Any] = {"budget_share": BUDGET, "candidates": sorted(fitted)}
    for name in POLICIES:
        if name not in row_scores and name not in exact:
            continue
        entry = dict(exact.get(name, {}))
        if name in row_scores:
            entry.update(off_policy(top_share(row_scores[name]), test, mu0, mu1))
        entry["incremental_conversions"] = entry.get(
            "incremental_conversions_true", entry.get("incremental_conversions_dr")
        )
        policy[name] = entry
    if "oracle" in policy and policy["oracle"].get("incremental_conversions"):
        best = policy["oracle"]["incremental_conversions"]
        for name in POLICIES:
            if name in policy and policy[name].get("incremental_conversions") is not None:
                policy[name]["share_of_oracle"] = round(policy[name]["incremental_conversions"] / best, 4)
    if "ceiling" in policy and policy["ceiling"].get("incremental_conversions"):
        reach = policy["ceiling"]["incremental_conversions"]
        for name in POLICIES:
            if name in policy and policy[name].get("incremental_conversions") is not None:
                policy[name]["share_of_ceiling"] = round(policy[name]["incremental_conversions"] / reach, 4)
    return uplift, policy, fitted
