"""Benchmark: the best scores any model could reach on the simulator (no database).

    python bench/bench_ceilings.py [--clients 50000] [--months 17] [--seed 31] [--budget 0.2] [--json]

Why: whether a target is reachable at all is a property of the simulator, not of our
models, so this script measures it from the simulator's own state (`simulate(observer=...)`):

- take-up ranking, per test month: MAP@7 of the perfect ranking (the adds themselves), the
  oracle (true probabilities, hidden trait, types and need included, with the offer's effect
  where an offer was shown), the Bayes ceiling from observables (the posterior expectation
  the simulator writes to the truth file: segment, age, season, life events, product
  history, contact history and answers to earlier offers), the same knowing the hidden
  responsiveness trait (an upper bound on what offer history could reveal), and
  popularity (add counts of the earlier months);
- uplift policies at the same contact budget (one offer to `budget` of the clients in each
  test month, summed over the test months): true incremental conversions of the oracle
  (true uplift), the expected uplift from observables (and knowing the trait), the
  take-up policies (true p_organic and its expectation from observables), and random.

Numbers only: nothing here passes or fails. With --json the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from rich.progress import track

from core.data.simulator import MonthState, simulate
from core.evaluation.metrics import map_at_k
from core.services.uplift_eval import choose, true_incremental

FIRST_TEST_MONTH = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=17)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--budget", type=float, default=0.2)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    states: list[MonthState] = []
    chunks = simulate(args.clients, args.months, args.seed, chunk_size=args.clients, observer=states.append)
    for _ in track(chunks, description="simulating", total=1):
        pass

    add_counts = np.zeros(states[0].adds.shape[1])
    months: dict[int, dict[str, float]] = {}
    for s in states:
        if s.t >= min(FIRST_TEST_MONTH, args.months - 1):
            months[s.t] = _ranking(s, add_counts)
        add_counts += s.adds.sum(0)
    keys = list(next(iter(months.values())))
    mean = {k: float(np.mean([m[k] for m in months.values()])) for k in keys}
    out = {
        "clients": args.clients,
        "test_months": sorted(months),
        "map@7": {k: round(v, 5) for k, v in mean.items()},
        "map@7_vs_popularity": {k: round(v / mean["popularity"], 3) for k, v in mean.items()},
        "map@7_vs_perfect": {k: round(v / mean["perfect"], 3) for k, v in mean.items()},
        "uplift_policy_test_months": _policies(
            [s for s in states if s.t in months], args.budget, np.random.default_rng(args.seed)
        ),
        "add_sources": _add_sources(states),
    }
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


def _ranking(s: MonthState, add_counts: np.ndarray) -> dict[str, float]:
    def ranked(scores: np.ndarray) -> float:
        return map_at_k(s.adds, np.where(s.blocked, -1.0, scores), 7)

    return {
        "perfect": ranked(s.adds.astype(float)),
        "oracle": ranked(np.where(s.treated, s.p_offer, s.p_organic)),
        "ceiling_knowing_trait": ranked(np.where(s.treated, s.trait_offer, s.trait_organic)),
        "observable_ceiling": ranked(np.where(s.treated, s.ceiling_offer, s.ceiling_organic)),
        "popularity": ranked(np.broadcast_to(add_counts, s.adds.shape)),
    }


def _add_sources(states: list[MonthState]) -> dict[str, float]:
    """Share of additions that are re-activations (expected, from the hazards) and the add rate."""
    react = sum(float((s.react * s.adds / np.maximum(s.p_organic, 1e-9)).clip(0, 1).sum()) for s in states)
    adds = sum(int(s.adds.sum()) for s in states)
    adders = np.mean([s.adds.any(1).mean() for s in states])
    return {
        "reactivation_share": round(react / max(adds, 1), 3),
        "clients_adding_per_month": round(float(adders), 4),
    }


def _policies(states: list[MonthState], budget: float, rng: np.random.Generator) -> dict[str, object]:
    inc: dict[str, float] = {}
    for s in states:
        true_uplift = (s.p_offer - s.p_organic).astype(float)
        scores = {
            "oracle": true_uplift,
            "uplift_ceiling_knowing_trait": (s.trait_offer - s.trait_organic).astype(float),
            "uplift_ceiling": (s.ceiling_offer - s.ceiling_organic).astype(float),
            "propensity_true": s.p_organic.astype(float),
            "propensity_ceiling": s.ceiling_organic.astype(float),
            "random": rng.random(true_uplift.shape),
        }
        for name, sc in scores.items():
            chosen = choose(np.where(s.blocked, -np.inf, sc), budget)
            inc[name] = inc.get(name, 0.0) + true_incremental(chosen, true_uplift)
    return {
        "budget_share": budget,
        "incremental_conversions": {k: round(v, 1) for k, v in inc.items()},
        "share_of_oracle": {k: round(v / inc["oracle"], 3) for k, v in inc.items()},
        "uplift_ceiling_vs_propensity_ceiling": round(inc["uplift_ceiling"] / inc["propensity_ceiling"], 3),
    }


if __name__ == "__main__":
    main()
