"""Ranking metrics for next-month product take-up (pure numpy; scikit-learn where it fits).

Inputs are dense matrices over (clients x products): `scores` (higher = recommend first;
-inf or NaN = not recommendable, e.g. already held) and `actual` (1 = the client added the
product in the test month). Conventions, stated because papers differ:

- MAP@k follows the Santander competition: AP@k = sum_{i<=k} P(i) rel(i) / min(|actual|, k),
  averaged over ALL clients, with 0 for a client who added nothing (so the best achievable
  value on the real data is about 0.035). `map_at_k_adders` averages over clients with at
  least one addition only.
- NDCG@k (scikit-learn's `ndcg_score`), precision@k and recall@k are averaged over clients
  with at least one addition: they describe ranking quality where there is something to find.
- Catalog coverage: share of products that appear in at least one top-k list.
- Intra-list diversity: share of pairs in a top-k list from different categories, averaged.
- Novelty: mean self-information -log2(p) of recommended products, p = their popularity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import ndcg_score


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best products per row, best first; -1 where fewer are recommendable."""
    s = np.where(np.isfinite(scores), scores, -np.inf)
    k = min(k, s.shape[1])
    # Stable tie-break by product index keeps results deterministic.
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    valid = np.take_along_axis(s, order, axis=1) > -np.inf
    return np.where(valid, order, -1)


def _hits(actual: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """hits[i, j] = 1 when the j-th recommended product of row i was actually added."""
    safe = np.where(ranked >= 0, ranked, 0)
    return (np.take_along_axis(actual, safe, axis=1) > 0) & (ranked >= 0)


def average_precision_at_k(actual: np.ndarray, scores: np.ndarray, k: int = 7) -> np.ndarray:
    """AP@k per client (0 for a client with no additions)."""
    ranked = top_k(scores, k)
    hits = _hits(actual, ranked).astype(float)
    cum_hits = np.cumsum(hits, axis=1)
    positions = np.arange(1, hits.shape[1] + 1)
    precision_at_i = cum_hits / positions
    n_actual = (actual > 0).sum(axis=1)
    denom = np.minimum(n_actual, k)
    ap = (precision_at_i * hits).sum(axis=1)
    return np.divide(ap, denom, out=np.zeros_like(ap), where=denom > 0)


def map_at_k(actual: np.ndarray, scores: np.ndarray, k: int = 7) -> float:
    """Santander-style MAP@k over all clients."""
    if len(actual) == 0:
        return 0.0
    return float(average_precision_at_k(actual, scores, k).mean())


def map_at_k_adders(actual: np.ndarray, scores: np.ndarray, k: int = 7) -> float:
    mask = (actual > 0).any(axis=1)
    if not mask.any():
        return 0.0
    return float(average_precision_at_k(actual[mask], scores[mask], k).mean())


def ndcg_at_k(actual: np.ndarray, scores: np.ndarray, k: int = 7) -> float:
    mask = (actual > 0).any(axis=1)
    if not mask.any():
        return 0.0
    s = scores[mask]
    # Not-recommendable products rank last (sklearn needs finite scores).
    finite_min = np.nanmin(np.where(np.isfinite(s), s, np.nan)) if np.isfinite(s).any() else 0.0
    s = np.where(np.isfinite(s), s, finite_min - 1.0)
    return float(ndcg_score((actual[mask] > 0).astype(float), s, k=k))


def precision_recall_at_k(actual: np.ndarray, scores: np.ndarray, k: int = 7) -> tuple[float, float]:
    mask = (actual > 0).any(axis=1)
    if not mask.any():
        return 0.0, 0.0
    hits = _hits(actual[mask], top_k(scores[mask], k)).sum(axis=1)
    n_actual = (actual[mask] > 0).sum(axis=1)
    return float((hits / k).mean()), float((hits / n_actual).mean())


def catalog_coverage(scores: np.ndarray, k: int = 7) -> float:
    ranked = top_k(scores, k)
    shown = np.unique(ranked[ranked >= 0])
    return float(len(shown) / scores.shape[1]) if scores.shape[1] else 0.0


def intra_list_diversity(scores: np.ndarray, categories: Sequence[str], k: int = 7) -> float:
    """Mean share of recommended pairs whose categories differ (1 = all different)."""
    ranked = top_k(scores, k)
    cats = np.asarray(categories)
    values = []
    for row in ranked:
        items = row[row >= 0]
        if len(items) < 2:
            continue
        c = cats[items]
        same = (c[:, None] == c[None, :]).sum() - len(c)
        pairs = len(c) * (len(c) - 1)
        values.append(1.0 - same / pairs)
    return float(np.mean(values)) if values else 0.0


def novelty(scores: np.ndarray, popularity: np.ndarray, k: int = 7) -> float:
    """Mean -log2(popularity) of recommended products (popularity in (0, 1])."""
    ranked = top_k(scores, k)
    items = ranked[ranked >= 0]
    if len(items) == 0:
        return 0.0
    p = np.clip(np.asarray(popularity, dtype=float)[items], 1e-6, 1.0)
    return float((-np.log2(p)).mean())


def per_product_recall(actual: np.ndarray, scores: np.ndarray, k: int = 7) -> np.ndarray:
    """For each product: share of its additions that were in the client's top-k."""
    ranked = top_k(scores, k)
    in_top = np.zeros_like(actual, dtype=bool)
    rows = np.repeat(np.arange(len(ranked)), ranked.shape[1])
    cols = ranked.ravel()
    ok = cols >= 0
    in_top[rows[ok], cols[ok]] = True
    added = actual > 0
    n = added.sum(axis=0)
    return np.divide((added & in_top).sum(axis=0), n, out=np.full(actual.shape[1], np.nan), where=n > 0)
