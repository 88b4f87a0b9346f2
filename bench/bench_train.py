"""Benchmark: features + training for a large simulated population, and batch scoring.

    python bench/bench_train.py [--clients 100000] [--months 17] [--reuse-home DIR] [--json]

Generates the population into a fresh embedded PostgreSQL (or reuses a state folder that
already holds one, e.g. the one bench_data.py printed), then times: loading the frames,
features for the training cutoffs, clustering, the hybrid CatBoost fit and the baselines,
the per-product uplift models as `recsys train` fits them (offer-time features and the
fits; `uplift_share_of_training` is their share of the whole), and batch scoring of every
client at the latest cutoff (clients per second). Prints the peak memory (RSS) of this
process. Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit_uplift(url: str, frames: object, models: object) -> dict:  # type: ignore[type-arg]
    """The uplift part of `recsys train` (core.services.training._fit_uplift), timed."""
    from core.services.uplift_data import attach_cutoffs, load_offer_log, sample_per_product, uplift_dataset
    from core.services.uplift_training import fit_uplift_models
    from core.settings import get_settings

    t = time.perf_counter()
    offers = asyncio.run(load_offer_log(url))
    offers = attach_cutoffs(offers, frames.holdings["month"])  # type: ignore[attr-defined]
    logged = len(offers)
    offers = sample_per_product(offers, get_settings().uplift_max_rows)
    data = uplift_dataset(frames, offers, models.products, models.clusters)  # type: ignore[arg-type, attr-defined]
    dataset_s = time.perf_counter() - t
    t = time.perf_counter()
    fitted, report = fit_uplift_models(data)
    fit_s = time.perf_counter() - t
    return {
        "offers": logged,
        "offers_fitted": len(offers),
        "products": len(fitted),
        "dataset_seconds": round(dataset_s, 1),
        "fit_seconds": round(fit_s, 1),
        "seconds": round(dataset_s + fit_s, 1),
        "per_product": {
            code: {
                k: info.get(k) for k in ("rows", "conversions", "learner", "seconds", "skipped") if k in info
            }
            for code, info in report.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=17)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--reuse-home", type=Path, default=None, help="state folder with data already")
    parser.add_argument("--skip-uplift", action="store_true", help="leave out the per-product uplift models")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line, last")
    args = parser.parse_args()

    home = args.reuse_home or Path(tempfile.mkdtemp(prefix="rst-", dir="/tmp"))
    home.chmod(0o755)
    os.environ["RECSYS_HOME"] = str(home)
    print(f"state folder: {home} (pass --reuse-home to skip generation; rm -rf when done)", file=sys.stderr)

    from core.catalog import load_catalog
    from core.data.generate import generate_to_db
    from core.db import migrate
    from core.db.session import database_url
    from core.features import build_features, load_frames_db, month_start
    from core.services.training import additions_by_month, fit_model_set, plan_windows, snapshot_months

    url = database_url()
    migrate.upgrade(url)
    out: dict[str, object] = {"clients": args.clients, "months": args.months, "home": str(home)}
    if args.reuse_home is None:
        from core.data.store import upsert_catalog
        from core.db.session import raw_connection

        async def _cat() -> None:
            async with raw_connection(url) as conn:
                await upsert_catalog(conn, load_catalog())

        asyncio.run(_cat())
        t = time.perf_counter()
        asyncio.run(generate_to_db(args.clients, args.months, args.seed, url=url))
        out["generate_seconds"] = round(time.perf_counter() - t, 1)

    t0 = time.perf_counter()
    frames = asyncio.run(load_frames_db(url)).coerce()
    out["load_frames_seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_mb_after_load"] = round(peak_rss_mb())
    out["operations"] = frames.operation_count()
    t = time.perf_counter()
    windows = plan_windows(snapshot_months(frames), adds_by_month=additions_by_month(frames))
    fit = fit_model_set(frames, windows)
    out["fit_seconds"] = {k: round(v, 1) for k, v in fit.seconds.items()}
    out["train_rows"] = len(fit.train.X)
    out["features_plus_training_seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_mb_after_training"] = round(peak_rss_mb())
    del fit.train  # as `recsys train`: the training frame is not kept for the uplift part
    if not args.skip_uplift:
        out["uplift"] = fit_uplift(url, frames, fit.models)
        hybrid_part = float(out["features_plus_training_seconds"])  # type: ignore[arg-type]
        total = hybrid_part + out["uplift"]["seconds"]
        out["train_seconds_with_uplift"] = round(total, 1)
        out["uplift_share_of_training"] = round(out["uplift"]["seconds"] / total, 3)
        out["peak_rss_mb_after_uplift"] = round(peak_rss_mb())

    cutoff = month_start(windows.target_month - 1)
    t = time.perf_counter()
    X = build_features(
        frames, cutoff, products=fit.models.products, clusters=fit.models.clusters, coerce=False
    )
    feat_s = time.perf_counter() - t
    t = time.perf_counter()
    scores = fit.models.score(X)
    score_s = time.perf_counter() - t
    out["batch_scoring"] = {
        "clients": len(X),
        "features_seconds": round(feat_s, 2),
        "model_seconds": round(score_s, 2),
        "clients_per_second_model_only": round(len(X) / score_s),
        "clients_per_second_with_features": round(len(X) / (feat_s + score_s)),
        "shape": list(scores.shape),
    }
    out["peak_rss_mb"] = round(peak_rss_mb())
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
