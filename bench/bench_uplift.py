"""Benchmark: UpliftModel against causalml's T- and X-learners, fit time and ranking quality.

    python bench/bench_uplift.py [--synthetic-rows 20000] [--clients 3000] [--products 3] [--json]

Two data sets, each split into a training and a test part; every model is trained on the
same rows with the same base learner (CatBoost, UpliftModel's defaults) and scored on the
same test rows:

(a) synthetic, randomized (a public-style trial: 50/50 arms, ~4% baseline conversion, an
    effect that helps some clients and hurts others, a hidden remainder of noise features),
    generated here; its true uplift is known, so the correlation with it is reported too;
(b) offers of a small simulated population (core.data.simulator, no database): per
    product, features at offer time as `recsys train` builds them, training on all offers
    before the last 4 months, scoring Qini/AUUC on the random slice (50/50 arms) after
    them, the IPW-weighted Qini on all offers after them (logged propensities), and the
    correlation with the simulator's true uplift on all of them.

Reported per data set and model: fit seconds, wall and process CPU (side by side in one
process; on a shared machine read the CPU ratio to causalml's X-learner, which other
processes' load does not move; base models single-threaded by default for that reason),
Qini coefficient and AUUC on the test rows (core.uplift.metrics), correlation with the
true uplift; for UpliftModel also the learner `auto` chose. `--json`: the last line is one
JSON object. Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, arm, y, P(treatment), true uplift): a randomized trial with heterogeneous effects."""
    rng = np.random.default_rng(seed)
    k = 12
    X = pd.DataFrame(rng.normal(size=(n, k)), columns=[f"f{i}" for i in range(k)])
    X["channel"] = rng.choice(["web", "app", "branch", "phone"], n, p=[0.4, 0.3, 0.2, 0.1])
    ch = X["channel"].map({"web": 0.0, "app": 0.3, "branch": -0.2, "phone": 0.5}).to_numpy()
    f = X[[f"f{i}" for i in range(k)]].to_numpy()
    base = -3.3 + 0.8 * f[:, 0] + 0.5 * f[:, 1] - 0.4 * f[:, 2] ** 2 + ch
    effect = 0.7 * f[:, 3] + 0.6 * (f[:, 4] > 0.5) - 0.5 * (f[:, 5] > 1.0) + 0.4 * ch + 0.15
    p0, p1 = _sigmoid(base), _sigmoid(base + effect)
    treated = rng.random(n) < 0.5
    y = (rng.random(n) < np.where(treated, p1, p0)).astype(int)
    return X, np.where(treated, "offer", "none"), y, np.full(n, 0.5), p1 - p0


def _encode(X_train: pd.DataFrame, X_test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The matrices UpliftModel's base learners see: encoded, columns constant in training
    dropped (they carry nothing), so causalml gets the same inputs and base-model size."""
    from core.uplift._frame import FrameEncoder

    enc = FrameEncoder().fit(X_train)
    train, test = enc.transform(X_train), enc.transform(X_test)
    active = (train != train[:1]).any(axis=0)
    return train[:, active], test[:, active]


def compare(
    X_train: pd.DataFrame,
    arm_train: np.ndarray,
    y_train: np.ndarray,
    p_train: np.ndarray,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    treated_test: np.ndarray,
    true_test: np.ndarray | None,
    arm: str,
    params: dict[str, Any],
    scored: np.ndarray | None = None,
    p_test: np.ndarray | None = None,
) -> dict[str, Any]:
    """Fit UpliftModel (auto), causalml T and X on the same rows; score on the test rows.

    `p_train` is P(treatment | x) as logged; UpliftModel takes P(row's own arm | x).
    Qini/AUUC on the `scored` test rows (all when None: a randomized test set), the
    correlation with the true uplift on every test row, and with `p_test` (logged
    P(treatment | x) of the test rows) the IPW-weighted Qini on every test row."""
    from causalml.inference.meta import BaseTClassifier, BaseXClassifier

    from core.uplift import UpliftModel
    from core.uplift._learners import BaseSpec, feature_fraction
    from core.uplift.metrics import auuc, qini_coefficient

    spec_keys = ("n_estimators", "max_depth", "learning_rate", "random_state", "threads")
    own = np.where(arm_train == arm, p_train, 1.0 - p_train)
    Xm_train, Xm_test = _encode(X_train, X_test)
    base = {k: v for k, v in params.items() if k in spec_keys}
    spec = BaseSpec(**base, feature_fraction=feature_fraction(Xm_train.shape[1]))
    scored = np.ones(len(y_test), dtype=bool) if scored is None else scored
    out: dict[str, Any] = {
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "scored_test_rows": int(scored.sum()),
        "scored_test_conversions": int(y_test[scored].sum()),
        "columns": Xm_train.shape[1],
        "feature_fraction": spec.feature_fraction,
    }
    scores: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, c = time.perf_counter(), time.process_time()
        model = UpliftModel(learner="auto", control_name="none", **params)
        model.fit(X_train, arm_train, y_train, propensity=own)
        out["uplift_model_seconds"] = time.perf_counter() - t
        out["uplift_model_cpu_seconds"] = time.process_time() - c
        scores["uplift_model"] = model.predict(X_test)[f"uplift_{arm}"].to_numpy()
        out["chosen"] = model.learner_
        out["uplift_model_stage_seconds"] = model.fit_info_["stage_seconds"]
        out["selection_qini"] = {
            k: round(v["qini"], 5) for k, v in model.selection_.get("scores", {}).items()
        }

        t, c = time.perf_counter(), time.process_time()
        tl = BaseTClassifier(learner=spec.classifier(), control_name="none")
        tl.fit(Xm_train, treatment=arm_train, y=y_train)
        out["causalml_t_seconds"] = time.perf_counter() - t
        out["causalml_t_cpu_seconds"] = time.process_time() - c
        scores["causalml_t"] = np.asarray(tl.predict(Xm_test)).reshape(len(Xm_test), -1)[:, 0]

        t, c = time.perf_counter(), time.process_time()
        xl = BaseXClassifier(
            outcome_learner=spec.classifier(), effect_learner=spec.regressor(), control_name="none"
        )
        xl.fit(Xm_train, treatment=arm_train, y=y_train, p={arm: p_train})
        out["causalml_x_seconds"] = time.perf_counter() - t
        out["causalml_x_cpu_seconds"] = time.process_time() - c
        p_mean = {arm: np.full(len(Xm_test), float(np.mean(p_train)))}  # no propensity model of its own
        scores["causalml_x"] = np.asarray(xl.predict(Xm_test, p=p_mean)).reshape(len(Xm_test), -1)[:, 0]
    for name, s in scores.items():
        out[name] = {
            "qini": qini_coefficient(y_test[scored], treated_test[scored], s[scored]),
            "auuc": auuc(y_test[scored], treated_test[scored], s[scored]),
            "corr_true": None if true_test is None else float(np.corrcoef(s, true_test)[0, 1]),
        }
        if p_test is not None:
            out[name]["qini_ipw_all_test"] = qini_coefficient(y_test, treated_test, s, p_test)
    out["fit_ratio_to_x"] = out["uplift_model_seconds"] / out["causalml_x_seconds"]
    out["fit_cpu_ratio_to_x"] = out["uplift_model_cpu_seconds"] / out["causalml_x_cpu_seconds"]
    best = max(out["causalml_t"]["qini"], out["causalml_x"]["qini"])
    out["qini_minus_best_causalml"] = out["uplift_model"]["qini"] - best
    return out


def bench_synthetic(rows: int, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    X, arm, y, p, truth = synthetic(2 * rows, seed)
    tr, te = slice(0, rows), slice(rows, 2 * rows)
    return compare(
        X.iloc[tr], arm[tr], y[tr], p[tr], X.iloc[te], y[te], arm[te] == "offer", truth[te], "offer", params
    )


def simulated_offers(clients: int, months: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(uplift dataset with features at offer time, truth) of a simulated population."""
    from core.data.simulator import simulate
    from core.features import from_bundle
    from core.services.uplift_data import OFFER_COLUMNS, attach_cutoffs, uplift_dataset

    bundles = list(simulate(clients, months, seed))
    cat = {
        name: pd.concat([getattr(b, name) for b in bundles], ignore_index=True)
        for name in ("clients", "holdings", "product_events", "operations", "offers")
    }
    truth = pd.concat([b.truth for b in bundles if b.truth is not None], ignore_index=True)
    bundle = type(bundles[0])(**cat)
    frames = from_bundle(bundle)
    offers = bundle.offers.assign(converted=bundle.offers["converted"].fillna(False).astype(bool))
    offers = offers.reset_index(names="id").loc[:, OFFER_COLUMNS]  # what load_offer_log reads
    offers = attach_cutoffs(offers, frames.holdings["month"])
    from core.catalog import load_catalog

    data = uplift_dataset(frames, offers, load_catalog().bank_codes)
    return data, truth


def bench_simulated(
    clients: int, months: int, seed: int, n_products: int, params: dict[str, Any]
) -> dict[str, Any]:
    from core.features.frames import month_indices
    from core.services.uplift_data import feature_matrix
    from core.services.uplift_eval import split_offers

    t = time.perf_counter()
    data, truth = simulated_offers(clients, months, seed)
    out: dict[str, Any] = {
        "clients": clients,
        "months": months,
        "simulate_and_features_seconds": time.perf_counter() - t,
    }
    truth = truth.assign(
        m=month_indices(pd.to_datetime(truth["month"])), product_code=truth["product_code"].astype(str)
    )
    train, test = split_offers(data)
    # most converting products first, each with conversions in both arms (as fit_uplift_models needs)
    treated = train["arm"] == "treatment"
    by_arm = train.groupby([train["product_code"], treated])["converted"].sum().unstack(fill_value=0)
    usable = by_arm[(by_arm.min(axis=1) >= 10)].sum(axis=1).sort_values(ascending=False)
    for code in usable.index[:n_products]:
        tr = train[train["product_code"] == code]
        te = test[test["product_code"] == code]
        key = pd.DataFrame(
            {"client_id": te["client_id"].to_numpy(), "product_code": code, "m": te["cutoff"].to_numpy() + 1}
        )
        merged = key.merge(truth[["client_id", "product_code", "m", "p_organic", "p_offer"]], how="left")
        true_up = (merged["p_offer"] - merged["p_organic"]).fillna(0.0).to_numpy(dtype=float)
        arm_tr = np.where(tr["arm"].to_numpy() == "treatment", str(code), "none")
        out[str(code)] = compare(
            feature_matrix(tr),
            arm_tr,
            tr["converted"].to_numpy(dtype=int),
            tr["propensity"].to_numpy(dtype=float),
            feature_matrix(te),
            te["converted"].to_numpy(dtype=int),
            te["arm"].to_numpy() == "treatment",
            true_up,
            str(code),
            params,
            scored=te["assignment"].to_numpy() == "random",
            p_test=te["propensity"].to_numpy(dtype=float),
        )
        out[str(code)]["train_conversions"] = int(tr["converted"].sum())
        print(f"  {code}: {_line(out[str(code)])}", file=sys.stderr)
    return out


MODELS = ("uplift_model", "causalml_t", "causalml_x")


def _line(r: dict[str, Any]) -> str:
    return (
        f"fit {r['uplift_model_seconds']:.1f}s {r['uplift_model_stage_seconds']} "
        f"vs X {r['causalml_x_seconds']:.1f}s (x{r['fit_ratio_to_x']:.2f}, "
        f"CPU x{r['fit_cpu_ratio_to_x']:.2f}), "
        f"T {r['causalml_t_seconds']:.1f}s; qini model {r['uplift_model']['qini']:.5f} "
        f"T {r['causalml_t']['qini']:.5f} X {r['causalml_x']['qini']:.5f}; chosen {r['chosen']}; "
        f"corr_true {[round(r[k]['corr_true'] or 0, 3) for k in MODELS]}"
    )


def _round(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, float):
        return round(obj, 5)
    return obj


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic-rows", type=int, default=20_000, help="training rows (as many for test)")
    ap.add_argument("--clients", type=int, default=3_000, help="simulated clients (0: skip)")
    ap.add_argument("--months", type=int, default=17)
    ap.add_argument("--products", type=int, default=3, help="simulated products to fit (most offered first)")
    ap.add_argument("--seed", type=int, default=31)
    ap.add_argument("--threads", type=int, default=1, help="base-model threads (1: CPU seconds comparable)")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    params: dict[str, Any] = {"threads": args.threads, "random_state": 0}
    result: dict[str, Any] = {"params": params}
    if args.synthetic_rows:
        print("synthetic randomized data", file=sys.stderr)
        result["synthetic"] = bench_synthetic(args.synthetic_rows, args.seed, params)
        print(f"  {_line(result['synthetic'])}", file=sys.stderr)
    if args.clients:
        print(f"simulated population: {args.clients} clients x {args.months} months", file=sys.stderr)
        result["simulated"] = bench_simulated(args.clients, args.months, args.seed, args.products, params)
    result = _round(result)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
