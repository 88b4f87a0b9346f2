"""Benchmark: the best scores any model could reach on the simulator (no database).

    python bench/bench_ceilings.py [--clients 50000] [--months 17] [--seed 31] [--budget 0.2]

Why: the issues set targets relative to baselines ("hybrid MAP@7 >= 1.25x popularity",
"uplift policy >= 85% of the oracle and >= 1.3x the take-up policy"). Whether a target is
reachable at all is a property of the simulator, not of our models, so this script measures
it from the simulator's own state (`simulate(observer=...)`):

- take-up ranking, per test month: MAP@7 of the perfect ranking (the adds themselves), the
  oracle (true probabilities, hidden client type and need included), the Bayes ceiling from
  observables (expected probability over the hidden type with need = 1: segment, age,
  season, life events, holdings; what an ideal model of our features could know), the same
  knowing the latent need exactly (a generous upper bound), and popularity (add counts of
  the earlier months);
- uplift policies at the same contact budget (one offer to `budget` of the clients in the
  last month): true incremental conversions of the oracle (true uplift), the expected
  uplift from observables and from observables + need, the take-up policies (true p_organic
  and its expectation from observables), and random.

Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from rich.progress import track

from core.data.simulator import MonthState, simulate
from core.data.simulator.takeup import expected_probabilities
from core.evaluation.metrics import map_at_k
from core.services.uplift_eval import choose, true_incremental

FIRST_TEST_MONTH = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=17)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--budget", type=float, default=0.2)
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
        "uplift_policy_last_month": _policies(states[-1], args.budget, np.random.default_rng(args.seed)),
    }
    print(json.dumps(out, indent=2))


def _observable(s: MonthState, know_need: bool) -> tuple[np.ndarray, np.ndarray]:
    need = s.need if know_need else np.ones_like(s.need)
    return expected_probabilities(
        s.hazard, s.seg_mult, need, s.season_mult, s.boost, ~s.blocked, s.linked_event
    )


def _ranking(s: MonthState, add_counts: np.ndarray) -> dict[str, float]:
    def ranked(scores: np.ndarray) -> float:
        return map_at_k(s.adds, np.where(s.blocked, -1.0, scores), 7)

    p_obs, _ = _observable(s, know_need=False)
    p_need, _ = _observable(s, know_need=True)
    return {
        "perfect": ranked(s.adds.astype(float)),
        "oracle": ranked(s.p_organic),
        "observable_ceiling_with_need": ranked(p_need),
        "observable_ceiling": ranked(p_obs),
        "popularity": ranked(np.broadcast_to(add_counts, s.adds.shape)),
    }


def _policies(s: MonthState, budget: float, rng: np.random.Generator) -> dict[str, object]:
    true_uplift = (s.p_offer - s.p_organic).astype(float)
    obs_org, obs_off = _observable(s, know_need=False)
    need_org, need_off = _observable(s, know_need=True)
    scores = {
        "oracle": true_uplift,
        "uplift_ceiling_with_need": need_off - need_org,
        "uplift_ceiling": obs_off - obs_org,
        "propensity_true": s.p_organic.astype(float),
        "propensity_ceiling": obs_org,
        "random": rng.random(true_uplift.shape),
    }
    inc = {
        name: true_incremental(choose(np.where(s.blocked, -np.inf, sc), budget), true_uplift)
        for name, sc in scores.items()
    }
    return {
        "budget_share": budget,
        "incremental_conversions": {k: round(v, 1) for k, v in inc.items()},
        "share_of_oracle": {k: round(v / inc["oracle"], 3) for k, v in inc.items()},
        "uplift_ceiling_vs_propensity_ceiling": round(inc["uplift_ceiling"] / inc["propensity_ceiling"], 3),
    }


if __name__ == "__main__":
    main()
