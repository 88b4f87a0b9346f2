"""`recsys evaluate`: every strategy on a temporal holdout month, stored as a model run.

Train up to month m (the cutoffs of `plan_windows(evaluation=True)`), score every client
at cutoff m, compare with the products actually added in m+1. On simulated data the
oracle ranks by the true take-up probability of that month (with the offer's effect where
the client was shown an offer), which bounds what any model could reach.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pandas as pd
from rich.console import Console

from core.catalog import Catalog, load_catalog
from core.db.session import raw_connection
from core.evaluation.ranking import compare
from core.evaluation.truth import CEILING, TRUE, truth_matrices
from core.features import build_features, label_columns, load_frames_db, make_labels, month_start
from core.features.frames import FeatureFrames
from core.llm.client import ChatClient, LLMUnavailable
from core.models.base import eligibility_mask
from core.models.hybrid import HybridParams
from core.models.llm_only import LLMRecommender
from core.services.cold_start_eval import cold_start_section
from core.services.registry import record_run
from core.services.training import additions_by_month, fit_model_set, plan_windows, snapshot_months
from core.services.uplift_eval import uplift_and_policy_sections
from core.settings import get_settings


def oracle_scores(
    truth_path: str,
    offers: pd.DataFrame,
    month: int,
    ids: np.ndarray,
    products: tuple[str, ...],
    columns: tuple[str, str] = TRUE,
) -> np.ndarray | None:
    """Probability of each (client, product) addition in `month` (None if no truth rows):
    with the offer's effect where the client was shown an offer that month. The true one
    (the oracle), or with `columns=CEILING` the Bayes ceiling from observables."""
    matrices = truth_matrices(truth_path, month, ids, products, columns)
    if matrices is None:
        return None
    organic, offered = matrices
    col = {p: j for j, p in enumerate(products)}
    row = pd.Series(np.arange(len(ids)), index=ids)
    treated = np.zeros_like(organic, dtype=bool)
    if not offers.empty:
        o = offers[offers["client_id"].isin(row.index) & offers["product_code"].isin(col)]
        treated[row[o["client_id"]].to_numpy(), o["product_code"].map(col).to_numpy()] = True
    return np.where(treated, offered, organic)


async def _treated_offers(
    conn: asyncpg.Connection, month: int, snapshots: list[pd.Timestamp]
) -> pd.DataFrame:
    """Offers shown between the snapshot before `month` and the snapshot of `month`."""
    by_index = {int(s.year * 12 + s.month - 1): s for s in snapshots}
    if month not in by_index or month - 1 not in by_index:
        return pd.DataFrame(columns=["client_id", "product_code"])
    rows = await conn.fetch(
        "SELECT client_id, product_code FROM offer_log WHERE arm = 'treatment' "
        "AND shown_at >= $1 AND shown_at < $2",
        by_index[month - 1].tz_localize("UTC").to_pydatetime(),
        by_index[month].tz_localize("UTC").to_pydatetime(),
    )
    return pd.DataFrame([dict(r) for r in rows], columns=["client_id", "product_code"])


async def evaluate(
    url: str | None = None,
    console: Console | None = None,
    catalog: Catalog | None = None,
    llm_sample: int = 100,
    frames: FeatureFrames | None = None,
    params: HybridParams | None = None,
    uplift_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from core.db.session import database_url

    url = url or database_url()
    catalog = catalog or load_catalog()
    products = catalog.bank_codes
    say = (console or Console(stderr=True, quiet=True)).print
    frames = (frames or await load_frames_db(url)).coerce()
    months = snapshot_months(frames)
    windows = plan_windows(months, evaluation=True, adds_by_month=additions_by_month(frames))
    fit = fit_model_set(frames, windows, catalog, params=params, console=console)
    models = fit.models
    test_cutoff = windows.target_month - 1
    say(f"[bold]evaluate[/] on additions in {month_start(windows.target_month).date()}")
    X = build_features(
        frames, month_start(test_cutoff), products=products, clusters=models.clusters, coerce=False
    )
    ids = X["client_id"].to_numpy()
    labels = make_labels(frames.holdings, ids, test_cutoff, products)[label_columns(products)].to_numpy()
    actual = np.nan_to_num(labels) > 0
    eligible = eligibility_mask(X, products, catalog) & ~np.isnan(labels)
    scores = {name: models.score(X, name) for name in ("hybrid", "popularity", "rules", "cf")}
    async with raw_connection(url) as conn:
        truth_path = await conn.fetchval(
            "SELECT truth_path FROM dataset WHERE truth_path IS NOT NULL ORDER BY id DESC LIMIT 1"
        )
        if truth_path and not Path(truth_path).exists():
            truth_path = None
        if truth_path:
            snapshots = sorted(pd.to_datetime(frames.holdings["month"]).drop_duplicates())
            offers = await _treated_offers(conn, windows.target_month, snapshots)
            for name, columns in (("oracle", TRUE), ("ceiling", CEILING)):
                probs = oracle_scores(truth_path, offers, windows.target_month, ids, products, columns)
                if probs is not None:
                    scores[name] = probs
            scores["perfect"] = actual.astype(float)  # the additions themselves
        categories = [catalog[p].category for p in products]
        popularity = np.clip(models.baselines["popularity"].rates, 1e-6, 1.0)  # type: ignore[attr-defined]
        result = compare(scores, actual, eligible, categories, popularity, products)
        result["llm"] = _evaluate_llm(
            X, actual, eligible, categories, popularity, products, catalog, llm_sample
        )
        if "oracle" in result and result["llm"].get("available"):
            result["llm"]["ratio_to_oracle"] = None  # different client sample: not comparable
        say("[bold]uplift[/]: per-product models on past campaigns, policies at a 20% contact budget")
        uplift, policy, _ = await uplift_and_policy_sections(
            url,
            frames,
            models,
            X,
            test_cutoff,
            truth_path,
            eligible,
            uplift_params=uplift_params,
        )
        cold = cold_start_section(frames, models, windows.target_month, catalog, truth_path)
        evaluation = {
            "strategies": result,
            "cold_start": cold,
            "uplift": uplift,
            "policy": policy,
            "window": windows.as_dict(),
            "test": {
                "clients": int(len(ids)),
                "clients_adding": int(actual.any(axis=1).sum()),
                "additions": int(actual.sum()),
            },
            "hybrid_top_features": models.hybrid.feature_importance(15),
            "clusters_k": models.clusters.k,
            "fit_seconds": {k: round(v, 1) for k, v in fit.seconds.items()},
        }
        run_id = await record_run(
            conn,
            "evaluation",
            models.version,
            train_from=month_start(windows.train_cutoffs[0]).date(),
            train_to=month_start(windows.train_cutoffs[-1]).date(),
            params={"windows": windows.as_dict(), "k": 7},
            metrics=evaluation,
            artifact_path=None,
        )
        evaluation["model_run_id"] = run_id
    return evaluation


def _evaluate_llm(X, actual, eligible, categories, popularity, products, catalog, sample) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        client = ChatClient.from_settings(get_settings())
    except LLMUnavailable as exc:
        return {"available": False, "reason": str(exc)}
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(X), min(sample, len(X)), replace=False))
    scores = LLMRecommender(products, catalog, client).predict_proba(X.iloc[rows])
    out = compare({"llm": scores}, actual[rows], eligible[rows], categories, popularity, products)["llm"]
    return {"available": True, "sample_clients": int(len(rows)), **out}


async def latest_evaluation(url: str | None = None) -> dict[str, Any] | None:
    """The metrics of the newest stored evaluation run (None when there is none)."""
    from core.services.registry import latest_run

    async with raw_connection(url) as conn:
        run = await latest_run(conn, "evaluation")
    if run is None:
        return None
    return {**run["metrics"], "model_run_id": run["id"]}
