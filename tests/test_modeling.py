"""Training, evaluation and analytics end to end on a small simulated population."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import numpy as np
import pytest

from core.data.generate import generate_to_db
from core.models.hybrid import HybridParams
from core.services.training import plan_windows

FAST = HybridParams(iterations_any=40, iterations_which=40)
FAST_UPLIFT = {
    "min_rows": 80,
    "min_conversions": 2,
    "learner": "t",
    "n_estimators": 30,
    "max_depth": 3,
    "threads": 1,
}
METRICS = {"map@7", "ndcg@7", "precision@7", "recall@7", "coverage", "diversity", "novelty"}


def test_plan_windows_holds_out_the_last_month_and_adds_last_years_season() -> None:
    months = list(range(24180, 24197))  # 17 consecutive months
    ev = plan_windows(months, n_train=4, evaluation=True)
    assert ev.target_month == months[-1]
    assert max(ev.train_cutoffs) + 1 < ev.target_month  # labels never from the test month
    assert ev.target_month - 13 in ev.train_cutoffs  # same month last year
    serve = plan_windows(months, n_train=4)
    assert serve.target_month == months[-1] + 1 and max(serve.train_cutoffs) == months[-2]
    # Plenty of recent additions: only as many recent months as needed (at least 2) + season.
    busy = {m: 15_000 for m in months}
    short = plan_windows(months, n_train=6, evaluation=True, adds_by_month=busy)
    assert short.train_cutoffs == [ev.target_month - 13, ev.target_month - 3, ev.target_month - 2]
    with pytest.raises(ValueError, match="not enough history"):
        plan_windows([24180], evaluation=True)


@pytest.fixture(scope="module")
def population(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    asyncio.run(
        generate_to_db(  # seed 8: its offer log has a product with conversions in both arms
            2500,
            9,
            seed=8,
            url=db_url,
            chunk_size=1250,
            truth_dir=tmp_path_factory.mktemp("truth"),
            show_progress=False,
        )
    )
    return db_url


@pytest.fixture(scope="module")
def evaluation(population: str) -> dict[str, Any]:
    from core.services.evaluation import evaluate

    return asyncio.run(evaluate(population, params=FAST, uplift_params=FAST_UPLIFT))


def test_evaluation_json_shape(evaluation: dict[str, Any]) -> None:
    strategies = evaluation["strategies"]
    assert {"hybrid", "popularity", "rules", "cf", "oracle", "llm"} <= set(strategies)
    for name in ("hybrid", "popularity", "rules", "cf", "oracle"):
        assert set(strategies[name]) >= METRICS, name
        assert 0.0 <= strategies[name]["map@7"] <= 1.0
        assert set(strategies[name]["per_product_recall"]) == set(strategies["hybrid"]["per_product_recall"])
        assert "ratio_to_oracle" in strategies[name]
    assert strategies["llm"] == {
        "available": False,
        "reason": "no LLM configured (LLM_BASE_URL and LLM_MODEL are not set)",
    }
    # The oracle knows the true probabilities: nobody beats it by more than noise.
    assert strategies["oracle"]["ndcg@7"] >= strategies["popularity"]["ndcg@7"] - 0.05
    assert evaluation["test"]["clients"] > 0 and evaluation["window"]["target_month"]


def test_evaluation_reports_what_was_reachable(evaluation: dict[str, Any]) -> None:
    """Simulated data: the Bayes ceiling from observables and the perfect ranking sit beside
    the strategies with the same metrics, and every model is read against the ceiling."""
    strategies, policy = evaluation["strategies"], evaluation["policy"]
    for name in ("ceiling", "perfect"):
        assert set(strategies[name]) >= METRICS, name
    perfect = strategies["perfect"]["map@7"]
    share_adding = evaluation["test"]["clients_adding"] / evaluation["test"]["clients"]
    assert perfect == pytest.approx(share_adding, abs=1e-4)  # every adder ranked right
    assert perfect >= strategies["ceiling"]["map@7"] > strategies["popularity"]["map@7"]
    assert strategies["ceiling"]["ratio_to_ceiling"] == 1.0
    vs = strategies["hybrid"]["map@7_vs_ceiling"]
    assert vs["low"] <= vs["ratio"] <= vs["high"]
    for base in ("rules", "cf"):  # the hybrid against each baseline, paired
        vs = strategies["hybrid"][f"map@7_vs_{base}"]
        assert vs["low"] <= vs["ratio"] <= vs["high"]
        ratio = strategies["hybrid"]["map@7"] / max(strategies[base]["map@7"], 1e-9)
        assert vs["ratio"] == pytest.approx(ratio, rel=1e-3)
    for name in ("ceiling", "ceiling_takeup"):
        assert policy[name]["incremental_conversions"] is not None
        assert policy[name]["incremental_conversions"] <= policy["oracle"]["incremental_conversions"] + 1e-9
    assert policy["ceiling"]["share_of_ceiling"] == 1.0


def test_cold_start_on_clients_who_joined_in_the_test_month(evaluation: dict[str, Any]) -> None:
    """Newcomers of the test month, scored from the questionnaire as at registration, against
    the products they opened: the cold-start path beside popularity and the ceiling."""
    cold = evaluation["cold_start"]
    assert cold["available"], cold
    assert cold["clients"] >= 20 and 0 < cold["clients_adding"] <= cold["clients"]
    assert cold["month"] == evaluation["window"]["target_month"]
    s = cold["strategies"]
    for name in ("cold_start", "hybrid_alone", "popularity", "ceiling"):
        assert set(s[name]) >= METRICS, name
    vs = s["cold_start"]["map@7_vs_popularity"]
    assert vs["low"] <= vs["ratio"] <= vs["high"]
    # what the questionnaire shows of a newcomer's first products beats the overall add rates
    assert s["ceiling"]["map@7"] > s["popularity"]["map@7"]


def test_uplift_and_policy_sections(evaluation: dict[str, Any]) -> None:
    uplift, policy = evaluation["uplift"], evaluation["policy"]
    assert uplift["products"], uplift.get("training")
    for code, metrics in uplift["products"].items():
        assert metrics["rows"] > 0, code
        assert "corr_true_uplift" in metrics or metrics["mean_predicted_uplift"] == 0.0
        if "random" in metrics:  # curve points for the analytics chart: 0 at 0, over [0, 1]
            curve = metrics["random"]["qini_curve"]
            assert len(curve["x"]) == len(curve["y"]) == 21 and curve["x"][0] == 0.0 and curve["x"][-1] == 1.0
            assert curve["y"][0] == 0.0
    assert set(policy) >= {"budget_share", "uplift", "propensity", "rules", "random", "oracle"}
    for name in ("uplift", "propensity", "rules", "random", "oracle"):
        entry = policy[name]
        assert {
            "incremental_conversions",
            "incremental_conversions_ipw",
            "incremental_conversions_dr",
        } <= set(entry)
        assert entry["contacts"] <= round(evaluation["test"]["clients"] * policy["budget_share"]) + 1
    # The oracle picks by the true uplift: no policy beats it on the exact count.
    best = policy["oracle"]["incremental_conversions_true"]
    assert all(
        policy[n]["incremental_conversions_true"] <= best + 1e-9
        for n in ("uplift", "propensity", "rules", "random")
    )


async def test_evaluation_is_stored_as_a_model_run(evaluation: dict[str, Any], population: str) -> None:
    conn = await asyncpg.connect(population)
    try:
        row = await conn.fetchrow(
            "SELECT kind, metrics FROM model_run WHERE id = $1", evaluation["model_run_id"]
        )
    finally:
        await conn.close()
    assert row["kind"] == "evaluation"
    assert '"hybrid"' in row["metrics"]


@pytest.fixture(scope="module")
def trained(population: str) -> dict[str, Any]:
    from core.services.training import train_and_save

    return asyncio.run(train_and_save(population, params=FAST, uplift_params=FAST_UPLIFT))


def latest_models(url: str) -> Any:
    from core.services.registry import load_latest

    async def _load() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await load_latest(conn)
        finally:
            await conn.close()

    return asyncio.run(_load())


def test_training_registers_a_loadable_model_set(trained: dict[str, Any], population: str) -> None:
    models = latest_models(population)
    assert models is not None and models.version == trained["version"]
    assert trained["clusters_k"] in range(3, 11)


def test_client_probabilities_and_profiles(trained: dict[str, Any], population: str) -> None:
    from core.services.analytics import NotFound, client_probabilities, product_profiles

    async def _first_client() -> int:
        conn = await asyncpg.connect(population)
        try:
            return int(await conn.fetchval("SELECT min(id) FROM client"))
        finally:
            await conn.close()

    cid = asyncio.run(_first_client())
    result = asyncio.run(client_probabilities(cid, population))
    probs = {p["product"]: p for p in result["probabilities"]}
    assert len(probs) == 18
    assert all(0.0 <= p["probability"] <= 1.0 for p in probs.values())
    for code in result["held"]:
        assert not probs[code]["eligible"]
    with pytest.raises(NotFound):
        asyncio.run(client_probabilities(10**12, population))
    profiles = asyncio.run(product_profiles(population))
    assert profiles["profiles"]["cco_fin"]["holders"]["clients"] > 0
    assert profiles["profiles"]["cco_fin"]["holders"]["age"] > 0


def test_cold_start_client_gets_sensible_probabilities(trained: dict[str, Any], population: str) -> None:
    """A client with only questionnaire data: finite probabilities, eligibility respected,
    and the blend uses similar clients' cluster (so two different profiles differ)."""
    import pandas as pd

    from core.features import FeatureFrames, build_features

    models = latest_models(population)
    cutoff = pd.Timestamp(models.serve_cutoff)
    clients = pd.DataFrame(
        {
            "id": [1, 2],
            "snapshot_month": [cutoff, cutoff],
            "first_contract_date": [cutoff, cutoff],
            "age": [15, 52],
            "income": [20_000.0, 250_000.0],
            "seniority_months": [0, 0],
            "is_new": [True, True],
            "primary_status": [1, 1],
            "sex": ["H", "V"],
            "segment": ["student", "top"],
            "join_channel": ["KHE", "KAT"],
            "province_code": [28, 8],
            "employee_status": ["N", "N"],
            "country": ["ES", "ES"],
            "relation_type": ["A", "A"],
            "customer_type": ["1", "1"],
            "is_active": [True, True],
            "is_foreigner": [False, False],
            "is_resident": [True, True],
            "is_deceased": [False, False],
        }
    )
    X = build_features(
        FeatureFrames(clients=clients), cutoff, products=models.products, clusters=models.clusters
    )
    scores = models.score(X)
    assert np.isfinite(scores).all() and (scores >= 0).all() and (scores.sum(axis=1) <= 1.0 + 1e-9).all()
    assert not np.allclose(scores[0], scores[1])
    raw = models.hybrid.predict_proba(X)
    assert not np.allclose(raw, scores)  # the cluster blend changed cold rows


def test_recommendation_obeys_rules_and_is_stored(trained: dict[str, Any], population: str) -> None:
    """Decisions for real clients of the population: reasons, propensities, the hybrid's
    comparison list, and the stored recommendation row."""
    import random

    from core.services.recommend import demo_client_ids, recommend_for_client

    ids = asyncio.run(demo_client_ids(5, population))
    assert len(ids) == 5
    results = [asyncio.run(recommend_for_client(cid, population, rng=random.Random(1))) for cid in ids]
    served = 0
    for r in results:
        assert r["hybrid_only"] and len(r["hybrid_only"]) <= 3
        categories = [o["category"] for o in r["offers"]]
        assert len(r["offers"]) <= 3
        if len(set(categories)) < len(categories):
            assert any("SAME_CATEGORY_ALTERNATIVE" in o["reason_codes"] for o in r["offers"])
        for o in r["offers"]:
            served += 1
            assert 0 < o["propensity"] <= 1
            assert o["reason_codes"] and len(o["reason_texts"]) == len(o["reason_codes"])
            assert o["explanation_source"] == "template" and o["name"] in o["explanation"]
            assert o["product_code"] not in r["rejected"]
        if not r["offers"]:
            assert r["no_contact_reason"]
    assert served > 0

    async def _stored() -> int:
        conn = await asyncpg.connect(population)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM recommendation WHERE client_id = ANY($1::bigint[])", ids
                )
            )
        finally:
            await conn.close()

    assert asyncio.run(_stored()) == 5


def test_serving_shap_values_equal_catboosts_public_api(trained: dict[str, Any], population: str) -> None:
    """The serving path reads SHAP values past CatBoost's slow Python copy (shap_reasons.shap_values)
    or from the tabulated trees (oblivious_shap); they must equal the public API's, and the
    reasons must be each pair's top positive contributions in order, as a full sort of stage
    A + stage B contributions gives them."""
    from catboost import Pool

    from core.features import build_features_db
    from core.models.shap_reasons import shap_values

    models = latest_models(population)
    h = models.hybrid

    async def _features() -> Any:
        conn = await asyncpg.connect(population)
        try:
            ids = [int(r["id"]) for r in await conn.fetch("SELECT id FROM client ORDER BY id LIMIT 60")]
            return await build_features_db(
                conn, models.serve_cutoff, ids, products=models.products, clusters=models.clusters
            )
        finally:
            await conn.close()

    X = asyncio.run(_features())
    pool = Pool(h._x(X), cat_features=h.cat_columns)
    public = {"type": "ShapValues", "shap_calc_type": "Approximate"}
    fast_any, fast_which = shap_values(h.model_any, pool), shap_values(h.model_which, pool)
    slow_any = h.model_any.get_feature_importance(pool, **public)
    slow_which = h.model_which.get_feature_importance(pool, **public)
    assert fast_any.shape == slow_any.shape and fast_which.shape == slow_which.shape
    np.testing.assert_allclose(fast_any, slow_any, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast_which, slow_which, rtol=0, atol=1e-12)

    contrib = slow_any[:, None, :-1] + slow_which[:, :, :-1]
    reasons = h.reasons(X)
    for i in range(len(X)):
        for k, cls in enumerate(h.classes):
            row = contrib[i, k]
            top = np.argsort(-row, kind="stable")[:3]
            expected = [
                (h.feature_columns[j], round(float(row[j]), 4)) for j in top if round(float(row[j]), 4) > 0
            ]
            assert reasons[i][h.products[cls]] == expected
    # The serving path's one-pool form gives the same probabilities and reasons.
    p_take, shared = models.score_with_reasons(X)
    np.testing.assert_array_equal(p_take, models.score(X))
    assert shared.all_rows() == reasons
    # Asked per client for a few products (as a decision asks): the same lists.
    codes = [h.products[cls] for cls in h.classes]
    asks = [(i, codes[i % len(codes) :: 5]) for i in range(len(X))]
    for (i, wanted), got in zip(asks, shared.top_many(asks), strict=True):
        assert got == {code: reasons[i][code] for code in wanted}
