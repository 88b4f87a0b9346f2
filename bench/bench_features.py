"""Benchmark the point-in-time feature pipeline on synthetic frames.

Generates N clients x M months of holdings (18 bank products), product events, about K
operations per client per month and about 0.75 offers per client-month, then times
`build_features` at the last month (pure function, frames already canonical), the same
including dtype normalisation, one-client scoring, and the cluster fit. Prints rows/s and
the process's peak memory (ru_maxrss).

    python bench/bench_features.py --clients 100000 --ops-per-month 30 --months 17
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from core.catalog import load_catalog
from core.data.bundle import CLIENT_COLUMNS
from core.domain import OPERATION_CATEGORIES
from core.features import FeatureFrames, build_features, fit_clusters
from core.features.frames import CATEGORY_DTYPE


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synth(n: int, months: int, ops_per_month: int, seed: int = 0) -> FeatureFrames:
    rng = np.random.default_rng(seed)
    products = load_catalog().bank_codes
    month_days = pd.date_range("2015-01-28", periods=months, freq="MS") + pd.Timedelta(days=27)
    ids = np.arange(1, n + 1, dtype=np.int64)
    clients = pd.DataFrame({c: [None] * n for c in CLIENT_COLUMNS})
    clients = clients.assign(
        id=ids,
        snapshot_month=month_days[-1],
        first_contract_date=pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 3800, n), unit="D"),
        age=rng.integers(18, 90, n),
        income=rng.lognormal(11, 0.6, n),
        seniority_months=rng.integers(0, 200, n),
        is_new=False,
        primary_status=1,
        sex=rng.choice(["H", "V"], n),
        segment=rng.choice(["top", "individual", "student"], n),
        join_channel=rng.choice(["KFC", "KHE", "KAT", "KHQ"], n),
        province_code=rng.integers(1, 53, n),
        employee_status="N",
        country="ES",
        relation_type=rng.choice(["A", "I"], n),
        customer_type="1",
        is_active=rng.random(n) < 0.5,
        is_foreigner=rng.random(n) < 0.05,
        is_resident=True,
        is_deceased=False,
    )
    # holdings: a per-client propensity per product, sticky month to month
    base = rng.random((n, len(products))) < rng.uniform(0.01, 0.6, len(products))
    flips = rng.random((n, months, len(products))) < 0.02
    held = base[:, None, :] ^ (np.cumsum(flips, axis=1) % 2).astype(bool)
    ci, mi, pi = np.nonzero(held)
    codes = np.array(products, dtype=object)
    holdings = pd.DataFrame({"client_id": ids[ci], "month": month_days[mi], "product_code": codes[pi]})
    prev = np.concatenate([held[:, :1], held[:, :-1]], axis=1)
    parts = []
    for kind, mask in (("add", held & ~prev), ("drop", prev & ~held)):
        ci, mi, pi = np.nonzero(mask)
        parts.append(
            pd.DataFrame(
                {"client_id": ids[ci], "month": month_days[mi], "product_code": codes[pi], "kind": kind}
            )
        )
    events = pd.concat(parts, ignore_index=True)
    # operations: Poisson count per client-month, uniform time inside the month
    counts = rng.poisson(ops_per_month, (n, months))
    total = int(counts.sum())
    client = np.repeat(np.repeat(ids, months), counts.ravel())
    month_of = np.repeat(np.tile(np.arange(months), n), counts.ravel())
    starts = pd.date_range("2015-01-01", periods=months + 1, freq="MS", tz="UTC")
    start_us = starts.as_unit("us").asi8
    span = np.diff(start_us)
    t = start_us[month_of] + (rng.random(total) * span[month_of]).astype(np.int64)
    cat = rng.integers(0, len(OPERATION_CATEGORIES), total).astype(np.int8)
    amount = -rng.gamma(2.0, 25.0, total)
    salary = cat == 0
    amount[salary] = rng.normal(2000, 300, int(salary.sum()))
    operations = pd.DataFrame(
        {
            "client_id": client,
            "occurred_at": pd.DatetimeIndex(t.astype("datetime64[us]")).tz_localize("UTC"),
            "amount": amount.round(2),
            "category": pd.Categorical.from_codes(cat, dtype=CATEGORY_DTYPE),
        }
    )
    # offers: about 0.75 per client-month (3 campaigns, 25% of clients considered), shown 1-4
    # days after the snapshot, 90% treatment, 5% converting within 24 days
    k = int(0.75 * n * months)
    shown_us = (
        month_days[rng.integers(0, months, k)].tz_localize("UTC").as_unit("us").asi8
        + rng.integers(1, 5, k) * 86_400_000_000
    )
    converted = rng.random(k) < 0.05
    outcome_us = np.where(converted, shown_us + (rng.uniform(0.2, 24, k) * 86_400e6).astype(np.int64), 0)
    offers = pd.DataFrame(
        {
            "client_id": rng.integers(1, n + 1, k),
            "product_code": codes[rng.integers(0, len(products), k)],
            "shown_at": pd.DatetimeIndex(shown_us.astype("datetime64[us]")).tz_localize("UTC"),
            "arm": np.where(rng.random(k) < 0.9, "treatment", "control"),
            "converted": converted,
            "outcome_at": pd.DatetimeIndex(outcome_us.astype("datetime64[us]"))
            .tz_localize("UTC")
            .where(converted),
            "window_days": 30,
        }
    )
    return FeatureFrames(clients, holdings, events, operations, offers=offers)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=17)
    ap.add_argument("--ops-per-month", type=int, default=30)
    ap.add_argument("--skip-clusters", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    frames = synth(args.clients, args.months, args.ops_per_month)
    print(
        f"generated {args.clients:,} clients, {len(frames.holdings):,} holdings, "
        f"{len(frames.events):,} events, {len(frames.operations):,} operations, "
        f"{len(frames.offers):,} offers "
        f"in {time.perf_counter() - t0:.1f}s; peak RSS {peak_mb():,.0f} MB"
    )
    cutoff = (pd.Timestamp("2015-01-28") + pd.DateOffset(months=args.months - 2)).date()

    t0 = time.perf_counter()
    canonical = frames.coerce()
    t_coerce = time.perf_counter() - t0
    del frames
    t0 = time.perf_counter()
    feats = build_features(canonical, cutoff, coerce=False)
    t_build = time.perf_counter() - t0
    print(f"cutoff {cutoff}: {len(feats):,} rows x {feats.shape[1]} columns")
    print(f"  coerce (dtype normalisation): {t_coerce:.2f}s")
    print(f"  build_features (pure):        {t_build:.2f}s = {len(feats) / t_build:,.0f} rows/s")
    print(f"  peak RSS so far:              {peak_mb():,.0f} MB")

    one_id = int(feats["client_id"].iloc[len(feats) // 2])
    t0 = time.perf_counter()
    build_features(canonical, cutoff, [one_id], coerce=False)
    print(
        f"  one client on the full frames: {time.perf_counter() - t0:.2f}s "
        "(online scoring loads only that client's rows; see build_features_db)"
    )

    if not args.skip_clusters:
        t0 = time.perf_counter()
        model = fit_clusters(feats, seed=0)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.predict(feats)
        t_pred = time.perf_counter() - t0
        print(
            f"  fit_clusters: k={model.k} (silhouette {model.scores[model.k]:.3f}) in {t_fit:.1f}s;"
            f" predict {len(feats):,} rows in {t_pred:.2f}s"
        )
    print(f"peak RSS: {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
