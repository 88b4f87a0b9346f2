"""Benchmark: how much offer log a model needs to learn whom an offer moves, on our simulator.

    python bench/bench_uplift_reach.py [--clients 20000] [--months 17] [--seed 7] [--json]

Why: on 20,000 clients the uplift policy reaches a fraction of `policy.ceiling` (the Bayes
ceiling from observables), and no learner we tried (per product, pooled over products with
the product as a feature, T/X/DR/RR) came close. Before tuning anything this measures whether
the offer log can carry the signal at all: the ceiling's own expected uplift of every logged
offer (from the truth file's `p_ceiling_offer - p_ceiling_organic`) is the best score a
model could learn, so

- `ceiling_gap`: mean ceiling uplift of the top 20% of offer rows by that score minus the
  rest: the difference a learner has to detect to target like the ceiling;
- `rows_needed_per_arm`: rows per arm in each of two groups for that gap to stand at 2
  standard errors in a difference of conversion-rate differences (variance 4 p (1-p) / n);
- `ceiling_qini_random` +- `ceiling_qini_sd`: the Qini coefficient of the ceiling score
  itself on the randomized slice of the log, with its bootstrap standard deviation. When
  the standard deviation is larger than the coefficient, even a perfect model could not be
  told from random ranking on this log, let alone be learned from it.

Generation only (core.data.simulator, no database). Numbers only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd


def measure(clients: int, months: int, seed: int, boot: int = 200) -> dict[str, Any]:
    from rich.progress import Progress

    from core.data.simulator import simulate
    from core.uplift.metrics import qini_coefficient

    started = time.perf_counter()
    offers, truth = [], []
    chunk = 5_000
    with Progress(transient=True) as bar:
        task = bar.add_task("simulating", total=clients)
        for b in simulate(clients, months, seed, chunk_size=chunk):
            keep = ["client_id", "product_code", "shown_at", "assignment", "arm", "converted"]
            offers.append(b.offers[keep])
            if b.truth is not None:
                cols = ["client_id", "month", "product_code", "p_ceiling_organic", "p_ceiling_offer"]
                truth.append(b.truth[cols])
            bar.advance(task, len(b.clients))
    log = pd.concat(offers, ignore_index=True)
    tr = pd.concat(truth, ignore_index=True)
    # an offer shown after snapshot t-1 is answered in snapshot t: the truth row of month t
    shown = log["shown_at"].dt.tz_convert(None).to_numpy().astype("datetime64[M]")
    log["month_key"] = (shown + 1).astype("datetime64[M]")
    tr["month_key"] = pd.to_datetime(tr["month"]).to_numpy().astype("datetime64[M]")
    log["product_code"] = log["product_code"].astype(str)
    tr["product_code"] = tr["product_code"].astype(str)
    merged = log.merge(tr, on=["client_id", "product_code", "month_key"], how="left")
    u = (merged["p_ceiling_offer"] - merged["p_ceiling_organic"]).fillna(0.0).to_numpy()
    y = merged["converted"].to_numpy(dtype=int)
    treated = (merged["arm"] == "treatment").to_numpy()
    rnd = (merged["assignment"] == "random").to_numpy()
    p = float(y.mean())
    order = np.argsort(-u, kind="stable")
    top, rest = order[: len(u) // 5], order[len(u) // 5 :]
    gap = float(u[top].mean() - u[rest].mean())
    needed = 4 * p * (1 - p) * (2 / gap) ** 2 if gap > 0 else float("inf")
    rows = np.flatnonzero(rnd)
    q = float(qini_coefficient(y[rows], treated[rows], u[rows]))
    rng = np.random.default_rng(seed)
    draws = [
        float(qini_coefficient(y[b], treated[b], u[b]))
        for b in (rng.choice(rows, len(rows)) for _ in range(boot))
    ]
    return {
        "clients": clients,
        "months": months,
        "offer_rows": int(len(u)),
        "random_rows": int(rnd.sum()),
        "conversion_rate": round(p, 5),
        "random_conversion_treated": round(float(y[rnd & treated].mean()), 5),
        "random_conversion_control": round(float(y[rnd & ~treated].mean()), 5),
        "ceiling_uplift_mean": round(float(u.mean()), 6),
        "ceiling_uplift_sd": round(float(u.std()), 6),
        "ceiling_gap": round(gap, 6),
        "rows_needed_per_arm": round(needed),
        "randomized_rows_needed": round(needed * 2 / 0.2),
        "randomized_rows_have": int(rnd.sum()),
        "ceiling_qini_random": round(q, 6),
        "ceiling_qini_sd": round(float(np.std(draws)), 6),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=17)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    out = measure(args.clients, args.months, args.seed)
    if not args.json:
        for k, v in out.items():
            print(f"{k:>28}: {v}")
    else:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
