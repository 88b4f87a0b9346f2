"""UpliftModel and uplift/policy metrics on synthetic data with known effects (fast, no DB).

The synthetic offer log has two arms against "none": `deposit` helps clients with x0 > 0 and
hurts those with x0 < 0 ("sleeping dogs"); `card` helps only clients with x2 > 0. 30% of rows
are a uniform random slice, 70% follow a targeting rule that also looks at x1, which drives
the outcome too (confounding); the logged propensity is the exact P(logged arm | x).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from core.uplift import UpliftModel
from core.uplift.metrics import (
    aipw_pseudo_outcomes,
    auuc,
    greedy_policy,
    policy_value_dr,
    policy_value_ipw,
    policy_value_true,
    qini_coefficient,
    qini_curve,
    uplift_at_k,
)

GROUPS = ("none", "deposit", "card")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def make_offers(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, dict]:
    """(X, arm, y, logged propensity, truth) with truth = p_none / p_deposit / p_card."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"x{i}" for i in range(5)])
    X["segment"] = rng.choice(["mass", "affluent", "young"], n)
    seg = X["segment"].map({"mass": 0.0, "affluent": 0.5, "young": -0.4}).to_numpy()
    x0, x1, x2 = X["x0"].to_numpy(), X["x1"].to_numpy(), X["x2"].to_numpy()
    base = -1.0 + 0.6 * x1 + seg
    truth = {
        "none": _sigmoid(base),
        "deposit": _sigmoid(base + 1.5 * x0),
        "card": _sigmoid(base + 1.4 * (x2 > 0) - 0.1),
    }
    logits = np.c_[np.zeros(n), 0.8 * x0 + 0.5 * x1, 0.5 * x2 + 0.5 * x1]
    policy = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    prob = 0.3 / 3 + 0.7 * policy
    draw = (prob.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1)
    arm = np.array(GROUPS, dtype=object)[draw]
    p_true = np.select([arm == g for g in GROUPS], [truth[g] for g in GROUPS])
    y = (rng.random(n) < p_true).astype(int)
    return X, arm, y, prob[np.arange(n), draw], truth


@pytest.fixture(scope="module")
def offers() -> tuple:
    return make_offers(6000, seed=1)


@pytest.fixture(scope="module")
def fresh() -> tuple:
    return make_offers(2000, seed=2)


@pytest.fixture(scope="module")
def x_model(offers: tuple) -> UpliftModel:
    X, arm, y, prop, _ = offers
    model = UpliftModel(learner="x", base="catboost", n_estimators=150, max_depth=4, threads=1)
    return model.fit(X, arm, y, prop)


@pytest.fixture(scope="module")
def auto_model(offers: tuple) -> UpliftModel:
    X, arm, y, prop, _ = offers
    model = UpliftModel(learner="auto", base="lightgbm", n_estimators=100, max_depth=4, threads=1)
    return model.fit(X, arm, y, prop)


@pytest.mark.parametrize("arm", ["deposit", "card"])
def test_uplift_correlates_with_truth(x_model: UpliftModel, fresh: tuple, arm: str) -> None:
    X, _, _, _, truth = fresh
    pred = x_model.predict(X)
    corr = np.corrcoef(pred[f"uplift_{arm}"], truth[arm] - truth["none"])[0, 1]
    assert corr > 0.5, corr


def test_sleeping_dogs_sign(x_model: UpliftModel, fresh: tuple) -> None:
    X = fresh[0]
    uplift = x_model.predict_arm(X, "deposit")
    assert uplift[X["x0"] < -0.5].mean() < -0.05
    assert uplift[X["x0"] > 0.5].mean() > 0.05
    assert (np.sign(uplift[X["x0"].abs() > 1]) == np.sign(X["x0"][X["x0"].abs() > 1])).mean() > 0.8


def test_predict_columns_index_and_p_control(x_model: UpliftModel, fresh: tuple) -> None:
    X, _, _, _, truth = fresh
    X = X.set_index(pd.Index(np.arange(len(X)) * 3 + 7))
    pred = x_model.predict(X)
    assert list(pred.columns) == ["p_control", "uplift_card", "uplift_deposit"]
    assert pred.index.equals(X.index)
    assert pred["p_control"].between(0, 1).all()
    assert np.corrcoef(pred["p_control"], truth["none"])[0, 1] > 0.5
    mu = x_model.predict_outcomes(X)
    assert list(mu.columns) == ["none", "card", "deposit"]


def test_risk_ratio_learner_recovers_a_constant_relative_effect() -> None:
    """Targeted log, offer doubles everyone's chance: the IPW risk ratio is ~2 (a naive ratio
    is not, because targeting follows the baseline chance) and uplift follows the baseline."""
    rng = np.random.default_rng(3)
    n = 30_000
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["x0", "x1", "x2"])
    p0 = _sigmoid(-3.0 + 0.9 * X["x0"].to_numpy())
    e = np.clip(_sigmoid(-1.0 - 1.2 * X["x0"].to_numpy()), 0.05, 0.95)  # targets low-chance clients
    treated = rng.random(n) < e
    y = (rng.random(n) < np.where(treated, 2.0 * p0, p0)).astype(int)
    arm = np.where(treated, "offer", "none")
    logged = np.where(treated, e, 1.0 - e)
    model = UpliftModel(learner="rr", n_estimators=60, max_depth=3).fit(X, arm, y, propensity=logged)
    ratio = model._meta.model.ratio["offer"]  # type: ignore[union-attr]
    naive = y[treated].mean() / y[~treated].mean()
    assert abs(ratio - 2.0) < 0.3 and abs(naive - 2.0) > 0.5
    uplift = model.predict(X)["uplift_offer"].to_numpy()
    assert np.corrcoef(uplift, p0)[0, 1] > 0.8


def test_auto_records_selection(auto_model: UpliftModel, fresh: tuple) -> None:
    sel = auto_model.selection_
    assert sel["chosen"] == auto_model.learner_ in ("x", "dr", "t", "rr")
    assert set(sel["scores"]) == {"x", "dr", "t", "rr"}
    assert sel["scores"][sel["chosen"]]["qini"] == max(s["qini"] for s in sel["scores"].values())
    assert set(sel["scores"]["x"]["per_arm"]) == {"deposit", "card"}
    assert set(auto_model.fit_info_["stage_seconds"]) == {"propensity", "selection", "final"}
    X, _, _, _, truth = fresh
    corr = np.corrcoef(auto_model.predict_arm(X, "deposit"), truth["deposit"] - truth["none"])[0, 1]
    assert corr > 0.5


def test_selection_shares_outcome_models_and_drops_constant_columns() -> None:
    """Out-of-fold predictions of all four learners come from one cross-fitting pass; on a
    randomized trial with a strong, one-feature effect every learner ranks by it, and a
    constant column is never given to a base model."""
    from sklearn.model_selection import StratifiedKFold

    from core.uplift._learners import BaseSpec
    from core.uplift._selection import oof_uplift

    rng = np.random.default_rng(5)
    n = 4000
    x = rng.normal(size=(n, 3))
    treated = rng.random(n) < 0.5
    y = (rng.random(n) < _sigmoid(-1.5 + np.where(treated, 1.2 * x[:, 0], 0.0))).astype(int)
    t = np.where(treated, "offer", "none").astype(object)
    folds = list(StratifiedKFold(2, shuffle=True, random_state=0).split(x, t.astype(str)))
    spec = BaseSpec(n_estimators=60, max_depth=3, learning_rate=0.2, threads=1)
    oof = oof_uplift(x, t, y, {"offer": np.full(n, 0.5)}, spec, "none", folds)
    assert set(oof) == {"x", "dr", "t", "rr"}
    for kind in ("x", "dr", "t"):
        assert np.corrcoef(oof[kind][:, 0], x[:, 0])[0, 1] > 0.5, kind
    X = pd.DataFrame(x, columns=["a", "b", "c"]).assign(const=1.0)
    model = UpliftModel(learner="auto", n_estimators=60, max_depth=3, threads=1).fit(X, t, y)
    assert list(model.active_columns_) == [0, 1, 2]
    assert model.predict(X)["uplift_offer"].notna().all()


def test_overlap_report_and_clipping(x_model: UpliftModel, offers: tuple) -> None:
    for arm in ("deposit", "card"):
        ov = x_model.overlap_[arm]
        assert {"min", "max", "mean", "share_clipped", "ess", "ess_treated", "ess_control"} <= set(ov)
        assert 0 < ov["min"] <= ov["mean"] <= ov["max"] < 1
        assert 0 < ov["ess"] <= ov["n_treated"] + ov["n_control"]
    X, arm, y, prop, _ = offers
    extreme = np.where(arm == "deposit", 0.005, 0.995)  # single arm: control e = 1 - logged
    keep = arm != "card"
    m = UpliftModel(learner="t", base="lightgbm", n_estimators=30, propensity_clip=(0.05, 0.95), threads=1)
    m.fit(X[keep], arm[keep], y[keep], extreme[keep])
    ov = m.overlap_["deposit"]
    assert ov["min"] == pytest.approx(0.005) and ov["share_clipped"] == pytest.approx(1.0)
    assert m.fit_info_["propensity"] == "logged"
    # one arm with logged propensities: T never reads e(x), so no propensity model is fitted;
    # X weighs its effect models by e(x) at prediction, so it gets one
    assert m.propensity_model_.model is None and m.propensity_model_.constant is not None
    x = UpliftModel(learner="x", base="lightgbm", n_estimators=30, threads=1)
    x.fit(X[keep], arm[keep], y[keep], prop[keep])
    assert x.propensity_model_.model is not None
    assert x.predict(X[keep])["uplift_deposit"].notna().all()
    with pytest.raises(ValueError):
        UpliftModel(propensity_clip=(0.5, 0.2))


def test_categorical_and_skipped_arm(offers: tuple) -> None:
    X, arm, y, _, _ = offers
    X = X.assign(channel=np.where(X["x3"] > 0, "app", "branch"))
    arm = arm.copy()
    arm[:10] = "rare"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = UpliftModel(learner="t", base="lightgbm", n_estimators=50, threads=1).fit(X, arm, y)
    assert "rare" in m.skipped_arms_ and any("rare" in str(w.message) for w in caught)
    assert m.fit_info_["propensity"] == "estimated"
    new = X.head(5).assign(segment=["vip", None, "mass", "young", "affluent"], channel="atm")
    pred = m.predict(new)
    assert (pred["uplift_rare"] == 0).all() and np.isfinite(pred.to_numpy()).all()


# ---------------------------------------------------------------------------- metrics by hand
Y = [1, 0, 1, 0, 0, 1, 0, 0]
T = [1, 0, 1, 0, 1, 0, 1, 0]
U = [8, 7, 6, 5, 4, 3, 2, 1]


def test_uplift_at_k_by_hand() -> None:
    assert uplift_at_k(Y, T, U, 0.25) == pytest.approx(1.0)
    assert uplift_at_k(Y, T, U, 0.5) == pytest.approx(1.0)
    assert uplift_at_k(Y, T, U, 1.0) == pytest.approx(0.5 - 0.25)
    assert np.isnan(uplift_at_k(Y, T, U, 0.1))  # top-1 holds no control row


def test_qini_and_auuc_by_hand() -> None:
    y, t, u = [1, 0, 0, 0], [1, 0, 1, 0], [4, 3, 2, 1]
    curve = qini_curve(y, t, u)
    assert curve["incremental"].tolist() == pytest.approx([0, 0.5, 0.5, 0.5, 0.5])
    assert qini_coefficient(y, t, u) == pytest.approx(0.1875)
    assert auuc(y, t, u) == pytest.approx(0.34375)


def test_qini_perfect_beats_random() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    tau = rng.uniform(-0.3, 0.3, n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.4 + t * tau).astype(int)
    perfect = qini_coefficient(y, t, tau)
    random = qini_coefficient(y, t, rng.random(n))
    assert perfect > 0.03 > abs(random)
    assert qini_coefficient(y, t, -tau) < 0
    assert qini_coefficient(y, t, np.zeros(n)) == pytest.approx(0.0)  # one tied block = random line
    assert auuc(y, t, tau) > auuc(y, t, rng.random(n))


def test_policy_values_by_hand() -> None:
    policy = ["a", "none", "a", "b"]
    logged = ["a", "a", "none", "b"]
    y, p = [1, 1, 0, 1], [0.5, 0.25, 0.5, 0.8]
    ipw = policy_value_ipw(policy, logged, y, p)
    assert ipw.value == pytest.approx(0.8125) and ipw.baseline == pytest.approx(0.0)
    assert ipw.incremental_conversions == pytest.approx(3.25) and ipw.n_treated == 3
    mu = pd.DataFrame(
        [[0.2, 0.5, 0.3], [0.1, 0.4, 0.2], [0.3, 0.3, 0.6], [0.2, 0.3, 0.7]], columns=["none", "a", "b"]
    )
    dr = policy_value_dr(policy, logged, y, p, mu)
    assert dr.value == pytest.approx(0.74375) and dr.baseline == pytest.approx(0.05)
    assert dr.incremental_conversions == pytest.approx(4 * 0.69375)
    assert policy_value_dr(policy, logged, y, p, mu.to_numpy(), arms=["none", "a", "b"]) == dr
    truth = {"a": [0.3, 0.5, 0.3], "b": [0.2, 0.1, 0.6]}
    true = policy_value_true(["a", "none", "b"], [0.1, 0.2, 0.3], truth)
    assert true.value == pytest.approx(1.1 / 3) and true.incremental_conversions == pytest.approx(0.5)


def test_greedy_policy_budget() -> None:
    up = pd.DataFrame({"uplift_a": [0.1, -0.2, 0.05, 0.3], "uplift_b": [0.2, -0.1, 0.01, 0.0]})
    assert greedy_policy(up).tolist() == ["b", "none", "a", "a"]
    assert greedy_policy(up, budget=2).tolist() == ["b", "none", "none", "a"]
    assert greedy_policy(up, budget=0.25).tolist() == ["none", "none", "none", "a"]


def test_aipw_corrects_confounded_ate() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    n = 20000
    x = rng.normal(size=n)
    e = _sigmoid(1.5 * x)  # clients likely to convert anyway are targeted more
    t = (rng.random(n) < e).astype(int)
    p0, p1 = _sigmoid(-0.5 + 1.2 * x), _sigmoid(-0.5 + 1.2 * x + 0.4)
    y = (rng.random(n) < np.where(t == 1, p1, p0)).astype(int)
    true_ate = float(np.mean(p1 - p0))
    naive = y[t == 1].mean() - y[t == 0].mean()
    xs = x.reshape(-1, 1)
    mu0 = LogisticRegression().fit(xs[t == 0], y[t == 0]).predict_proba(xs)[:, 1]
    mu1 = LogisticRegression().fit(xs[t == 1], y[t == 1]).predict_proba(xs)[:, 1]
    e_hat = np.clip(LogisticRegression().fit(xs, t).predict_proba(xs)[:, 1], 0.02, 0.98)
    aipw = float(aipw_pseudo_outcomes(y, t, e_hat, mu0, mu1).mean())
    assert abs(aipw - true_ate) < 0.3 * abs(naive - true_ate)
    assert abs(aipw - true_ate) < 0.02


def test_sample_per_product_caps_each_product_uniformly() -> None:
    from core.services.uplift_data import sample_per_product

    rng = np.random.default_rng(3)
    n = 30_000
    offers = pd.DataFrame(
        {
            "product_code": np.where(np.arange(n) < 25_000, "big", "small"),
            "arm": rng.choice(["treatment", "control"], n, p=[0.8, 0.2]),
            "assignment": rng.choice(["policy", "random"], n, p=[0.9, 0.1]),
        },
        index=np.arange(n) + 7,  # an index that is not positions, as after attach_cutoffs
    )
    out = sample_per_product(offers, 10_000)
    counts = out["product_code"].value_counts()
    assert counts["big"] == 10_000 and counts["small"] == 5_000  # under the cap: every row
    big, sample = offers[offers["product_code"] == "big"], out[out["product_code"] == "big"]
    for col in ("arm", "assignment"):  # uniform: the shares stay (within sampling noise)
        assert abs((sample[col] == big[col].iloc[0]).mean() - (big[col] == big[col].iloc[0]).mean()) < 0.02
    assert out.index.isin(offers.index).all() and out.index.is_unique
    assert sample_per_product(offers, 0) is offers


def test_compiled_small_batches_predict_as_catboost(x_model: UpliftModel, fresh: tuple) -> None:
    """The serving path's compiled copy (numpy trees up to SMALL_BATCH_ROWS rows) gives the
    uplift model's own predictions, and larger batches are untouched."""
    import pickle

    from core.uplift.model import SMALL_BATCH_ROWS

    X = fresh[0]
    compiled = pickle.loads(pickle.dumps(x_model))
    assert compiled.compile_small_batches() >= 4  # X-learner: two outcome, two effect models per arm
    for rows in (X.iloc[:1], X.iloc[5:10], X.iloc[:SMALL_BATCH_ROWS]):
        np.testing.assert_allclose(compiled.predict(rows), x_model.predict(rows), rtol=0, atol=1e-12)
    big = X.iloc[: SMALL_BATCH_ROWS + 1]
    assert np.array_equal(compiled.predict(big).to_numpy(), x_model.predict(big).to_numpy())
