"""Compare take-up strategies on one held-out month (pure: arrays in, a dict out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.evaluation import metrics as m
from core.models.base import masked

K = 7


def evaluate_scores(
    scores: np.ndarray,
    actual: np.ndarray,
    eligible: np.ndarray,
    categories: Sequence[str],
    popularity: np.ndarray,
    products: Sequence[str],
    k: int = K,
) -> dict[str, Any]:
    """Every ranking metric of one strategy; ineligible products are never recommended."""
    s = masked(np.nan_to_num(scores, nan=0.0), eligible)
    precision, recall = m.precision_recall_at_k(actual, s, k)
    per_product = m.per_product_recall(actual, s, k)
    return {
        f"map@{k}": round(m.map_at_k(actual, s, k), 6),
        f"map@{k}_adders": round(m.map_at_k_adders(actual, s, k), 6),
        f"ndcg@{k}": round(m.ndcg_at_k(actual, s, k), 6),
        f"precision@{k}": round(precision, 6),
        f"recall@{k}": round(recall, 6),
        "precision@1": round(m.precision_recall_at_k(actual, s, 1)[0], 6),
        "coverage": round(m.catalog_coverage(s, k), 4),
        "diversity": round(m.intra_list_diversity(s, categories, k), 4),
        "novelty": round(m.novelty(s, popularity, k), 4),
        "per_product_recall": {
            p: (None if np.isnan(v) else round(float(v), 4))
            for p, v in zip(products, per_product, strict=True)
        },
    }


def compare(
    strategy_scores: Mapping[str, np.ndarray],
    actual: np.ndarray,
    eligible: np.ndarray,
    categories: Sequence[str],
    popularity: np.ndarray,
    products: Sequence[str],
    k: int = K,
) -> dict[str, dict[str, Any]]:
    """Metrics per strategy, plus each one's MAP@k ratio to the oracle and to the Bayes
    ceiling from observables when there are ones (simulated data), with paired intervals
    against popularity and the ceiling."""
    out = {
        name: evaluate_scores(scores, actual, eligible, categories, popularity, products, k)
        for name, scores in strategy_scores.items()
    }
    # per-client average precision of every strategy, once: the paired intervals reuse it
    ap = {
        name: m.average_precision_at_k(actual, masked(np.nan_to_num(scores), eligible), k)
        for name, scores in strategy_scores.items()
    }
    if "popularity" in ap:
        for name in ap:
            if name != "popularity":
                out[name][f"map@{k}_vs_popularity"] = paired_ratio_ci(ap[name], ap["popularity"])
    if "hybrid" in ap:
        # the hybrid against each baseline, paired on the same clients (is it really better?)
        for name in ("rules", "cf"):
            if name in ap:
                out["hybrid"][f"map@{k}_vs_{name}"] = paired_ratio_ci(ap["hybrid"], ap[name])
    for ref in ("oracle", "ceiling"):
        if ref in out and out[ref][f"map@{k}"] > 0:
            best = out[ref][f"map@{k}"]
            for metrics in out.values():
                metrics[f"ratio_to_{ref}"] = round(metrics[f"map@{k}"] / best, 4)
    if "ceiling" in ap:
        # a model's share of what was reachable, with the same paired interval
        for name in ap:
            if name not in ("ceiling", "perfect", "oracle"):
                out[name][f"map@{k}_vs_ceiling"] = paired_ratio_ci(ap[name], ap["ceiling"])
    return out


def paired_ratio_ci(
    ap: np.ndarray, base: np.ndarray, n_boot: int = 500, level: float = 0.9, seed: int = 0
) -> dict[str, float | None]:
    """MAP ratio of a strategy to a baseline with a paired bootstrap interval over clients.

    Why: a test month has only a few hundred clients who add anything, so MAP differences
    of a few percent are often noise; the interval says whether a ranking is really better.
    """
    if base.mean() <= 0:
        return {"ratio": None, "low": None, "high": None}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(ap), size=(n_boot, len(ap)))
    ratios = ap[idx].mean(axis=1) / np.maximum(base[idx].mean(axis=1), 1e-12)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return {
        "ratio": round(float(ap.mean() / base.mean()), 4),
        "low": round(float(lo), 4),
        "high": round(float(hi), 4),
    }
