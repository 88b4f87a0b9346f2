"""Training: choose time windows, build features, fit every strategy, save the model set.

Windows (month indices of the holdings snapshots; a cutoff needs the next month's labels):
- serving: the last `n_train` cutoffs whose next month is known, plus the cutoff one year
  before the month we will predict (seasonality: the June tax product - the Santander
  winners trained on the previous June for the same reason);
- evaluation: the same rule one month earlier, so the last known month is the untouched
  test month (train up to m, test on m+1).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from rich.console import Console

from core.catalog import Catalog, load_catalog
from core.features import (
    FeatureFrames,
    categorical_columns,
    fit_clusters,
    label_columns,
    month_start,
    training_frame,
)
from core.features.clustering import BEHAVIOUR_COLUMNS, add_clusters
from core.features.frames import month_indices
from core.models.base import TrainSet
from core.models.cf import ItemItemCF
from core.models.cold_start import ColdStart
from core.models.hybrid import HybridParams, HybridScorer
from core.models.popularity import PopularityRecommender
from core.models.rules import RulesRecommender
from core.services.registry import ModelSet
from core.services.training_sample import sample_clients
from core.settings import get_settings


@dataclass
class Windows:
    train_cutoffs: list[int]
    target_month: int  # the month the model predicts (serving) or is tested on (evaluation)

    def as_dict(self) -> dict[str, object]:
        return {
            "train_cutoffs": [str(month_start(m).date()) for m in self.train_cutoffs],
            "target_month": str(month_start(self.target_month).date()),
        }


def additions_by_month(frames: FeatureFrames) -> dict[int, int]:
    """Number of product additions per month index (from the add/drop events)."""
    events = frames.events
    if events.empty:
        return {}
    adds = events[events["kind"] == "add"]
    counts = pd.Series(month_indices(pd.to_datetime(adds["month"]))).value_counts()
    return {int(k): int(v) for k, v in counts.items()}


def snapshot_months(frames: FeatureFrames) -> list[int]:
    if frames.holdings.empty:
        return []
    return sorted(set(month_indices(pd.to_datetime(frames.holdings["month"])).tolist()))


def plan_windows(
    months: Sequence[int],
    n_train: int = 14,
    evaluation: bool = False,
    adds_by_month: Mapping[int, int] | None = None,
    enough_additions: int = 20_000,
) -> Windows:
    """Training cutoffs for serving (predict the month after the last) or evaluation.

    The most recent `n_train` labelled months, but no more than needed: when
    `adds_by_month` (additions per month index) shows that fewer recent months already
    hold `enough_additions` examples, older months are left out (a large bank has plenty
    of recent data; training on it is faster and closer to the present). At least 2.

    Why up to 14: a small population has few additions per month (5,000 clients: ~190),
    and stage B of the hybrid learns *which* product from them. On the 5,000-client demo
    population, 6 months (1,345 additions) gave MAP@7 0.94x popularity and 14 months
    (~2,700) 1.00x; on 20,000 clients both gave 1.08x. Large populations stop at
    `enough_additions` long before 14 months, so their training time does not change.
    """
    known = set(months)
    last = max(months)
    target = last if evaluation else last + 1  # month whose additions are predicted
    candidates = [c for c in sorted(known) if c + 1 in known and c + 1 < target]
    cutoffs = candidates[-n_train:]
    if adds_by_month:
        total, keep = 0, 0
        for c in reversed(cutoffs):
            keep += 1
            total += adds_by_month.get(c + 1, 0)
            if total >= enough_additions and keep >= 2:
                break
        cutoffs = cutoffs[-keep:]
    seasonal = target - 13  # cutoff whose next month is the target month a year earlier
    if seasonal in known and seasonal + 1 in known and seasonal not in cutoffs:
        cutoffs = [seasonal, *cutoffs]
    if not cutoffs:
        raise ValueError(
            f"not enough history to train: {len(months)} monthly snapshot(s); need at least 2 (3 to evaluate)"
        )
    return Windows(cutoffs, target)


def to_trainset(frame: pd.DataFrame, products: tuple[str, ...]) -> TrainSet:
    labels = label_columns(products)
    X = frame.drop(columns=labels)
    num = X.select_dtypes(include=["float64"]).columns
    X[num] = X[num].astype(np.float32)  # halves memory; CatBoost quantises anyway
    y = np.nan_to_num(frame[labels].to_numpy(dtype=float))
    return TrainSet(X, y, products)


@dataclass
class FitResult:
    models: ModelSet
    train: TrainSet
    seconds: dict[str, float] = field(default_factory=dict)


def fit_model_set(
    frames: FeatureFrames,
    windows: Windows,
    catalog: Catalog | None = None,
    params: HybridParams | None = None,
    console: Console | None = None,
) -> FitResult:
    """Features for the windows' cutoffs, clusters, the hybrid, cold start and baselines."""
    catalog = catalog or load_catalog()
    products = catalog.bank_codes
    say = (console or Console(stderr=True, quiet=True)).print
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frames = sample_clients(frames, get_settings().train_max_clients)  # no-op below the cap
    cutoffs = windows.as_dict()["train_cutoffs"]
    say(f"[bold]features[/] for cutoffs {cutoffs} ({len(frames.clients):,} clients)")
    # float32 at once (CatBoost quantises anyway), except the clustering inputs: the stacked
    # float64 frame of a 100k-client bank would take gigabytes.
    frame = training_frame(
        frames,
        [month_start(m) for m in windows.train_cutoffs],
        products=products,
        float32_except=BEHAVIOUR_COLUMNS,
    )
    seconds["features"] = time.perf_counter() - t

    t = time.perf_counter()
    clusters = fit_clusters(frame, seed=31, fit_sample=20_000)
    frame = add_clusters(frame, clusters)  # a concat: no defragmenting copy of the frame
    seconds["clusters"] = time.perf_counter() - t
    say(f"[bold]clusters[/]: k={clusters.k} (best silhouette over k=3..10)")

    train = to_trainset(frame, products)
    del frame
    t = time.perf_counter()
    say(f"[bold]hybrid[/] CatBoost on {len(train.X):,} client-months, {int((train.y > 0).sum()):,} additions")
    hybrid = HybridScorer(products, params or HybridParams()).fit(
        train, cat_columns=categorical_columns(with_cluster=True)
    )
    seconds["hybrid"] = time.perf_counter() - t

    t = time.perf_counter()
    say("[bold]baselines[/]: popularity, rules, collaborative filtering; cold start")
    baselines = {
        "popularity": PopularityRecommender(products).fit(train),
        "rules": RulesRecommender(products).fit(train),
        "cf": ItemItemCF(products).fit(train),
    }
    cold = ColdStart(products).fit(train)
    seconds["baselines"] = time.perf_counter() - t
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    models = ModelSet(
        version=version,
        products=products,
        hybrid=hybrid,
        clusters=clusters,
        cold_start=cold,
        baselines=baselines,  # type: ignore[arg-type]
        serve_cutoff=str(month_start(windows.target_month - 1).date()),
        folder=get_settings().models_dir / version,
    )
    return FitResult(models, train, seconds)


async def train_and_save(
    url: str | None = None,
    console: Console | None = None,
    params: HybridParams | None = None,
    uplift_params: dict[str, object] | None = None,
) -> dict[str, object]:
    """`recsys train`: fit the serving model set on the latest window and register it."""
    from core.db.session import database_url, raw_connection
    from core.features import load_frames_db
    from core.services.registry import KIND, record_run

    url = url or database_url()
    say = (console or Console(stderr=True, quiet=True)).print
    say("[bold]loading[/] clients, holdings, events and operations")
    frames = (await load_frames_db(url)).coerce()
    months = snapshot_months(frames)
    if not months:
        raise ValueError("no data to train on: run `recsys data generate` or `recsys data load-santander`")
    windows = plan_windows(months, adds_by_month=additions_by_month(frames))
    fit = fit_model_set(frames, windows, params=params, console=console)
    train_rows, train_additions = len(fit.train.X), int((fit.train.y > 0).sum())
    fit.train = TrainSet(fit.train.X.iloc[:0], fit.train.y[:0], fit.train.products)  # free it for uplift
    uplift_report = await _fit_uplift(url, frames, fit.models, say, uplift_params or {})
    folder = fit.models.save()
    summary = {
        "version": fit.models.version,
        "window": windows.as_dict(),
        "train_rows": train_rows,
        "train_additions": train_additions,
        "clusters_k": fit.models.clusters.k,
        "cluster_silhouettes": {str(k): round(v, 4) for k, v in fit.models.clusters.scores.items()},
        "fit_seconds": {k: round(v, 1) for k, v in fit.seconds.items()},
        "hybrid_top_features": fit.models.hybrid.feature_importance(10),
        "uplift": uplift_report,
    }
    async with raw_connection(url) as conn:
        summary["model_run_id"] = await record_run(
            conn,
            KIND,
            fit.models.version,
            train_from=month_start(windows.train_cutoffs[0]).date(),
            train_to=month_start(windows.train_cutoffs[-1]).date(),
            params={"hybrid": fit.models.hybrid.params.__dict__, "window": windows.as_dict()},
            metrics=summary,
            artifact_path=str(folder),
        )
    say(f"saved model set {fit.models.version} -> {folder}")
    return summary


async def _fit_uplift(  # type: ignore[no-untyped-def]
    url: str, frames: FeatureFrames, models: ModelSet, say, uplift_params: dict[str, object]
) -> dict[str, object]:
    """Per-product uplift models on the whole offer log (features at offer time)."""
    from core.services.uplift_data import attach_cutoffs, load_offer_log, sample_per_product, uplift_dataset
    from core.services.uplift_training import fit_uplift_models

    offers = await load_offer_log(url)
    if offers.empty:
        say("[bold]uplift[/]: no offer log yet, decisions will fall back to take-up x value")
        return {"available": False, "reason": "no offer log"}
    offers = attach_cutoffs(offers, frames.holdings["month"])
    logged = len(offers)
    offers = sample_per_product(offers, get_settings().uplift_max_rows)
    sampled = f" (sampled {len(offers):,}: at most {get_settings().uplift_max_rows:,} per product)"
    say(f"[bold]uplift[/] on {logged:,} logged offers" + (sampled if len(offers) < logged else ""))
    data = uplift_dataset(frames, offers, models.products, models.clusters)
    models.uplift, report = fit_uplift_models(data, **uplift_params)  # type: ignore[arg-type]
    return report
