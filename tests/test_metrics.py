"""Each metric against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.evaluation import metrics as m

# 3 clients x 4 products. Client 0 added products 1 and 3; client 1 added product 0;
# client 2 added nothing.
ACTUAL = np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]])
SCORES = np.array(
    [
        [0.9, 0.8, 0.1, 0.7],  # ranking 0,1,3,2 -> hits at positions 2 and 3
        [0.1, 0.9, -np.inf, 0.2],  # ranking 1,3,0 (2 not recommendable) -> hit at position 3
        [0.5, 0.4, 0.3, 0.2],
    ]
)


def test_top_k_skips_unrecommendable() -> None:
    assert m.top_k(SCORES, 4)[1].tolist() == [1, 3, 0, -1]


def test_map_at_k_by_hand() -> None:
    # client 0: (1/2 + 2/3) / min(2, 3) = 0.58333; client 1: (1/3) / 1; client 2: 0.
    ap0 = (1 / 2 + 2 / 3) / 2
    ap1 = 1 / 3
    assert m.average_precision_at_k(ACTUAL, SCORES, 3) == pytest.approx([ap0, ap1, 0.0])
    assert m.map_at_k(ACTUAL, SCORES, 3) == pytest.approx((ap0 + ap1) / 3)
    assert m.map_at_k_adders(ACTUAL, SCORES, 3) == pytest.approx((ap0 + ap1) / 2)
    # k=1: no hit in first position for anyone.
    assert m.map_at_k(ACTUAL, SCORES, 1) == 0.0


def test_ndcg_by_hand() -> None:
    # client 0 @3: DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3).
    n0 = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    # client 1 @3: hit at position 3 -> (1/log2(4)) / 1.
    n1 = 1 / math.log2(4)
    assert m.ndcg_at_k(ACTUAL, SCORES, 3) == pytest.approx((n0 + n1) / 2)


def test_precision_recall_by_hand() -> None:
    p, r = m.precision_recall_at_k(ACTUAL, SCORES, 2)
    # top-2: client 0 -> {0,1}: 1 hit; client 1 -> {1,3}: 0 hits.
    assert p == pytest.approx((1 / 2 + 0) / 2)
    assert r == pytest.approx((1 / 2 + 0) / 2)


def test_coverage_diversity_novelty_by_hand() -> None:
    # top-1 lists: 0, 1, 0 -> 2 of 4 products.
    assert m.catalog_coverage(SCORES, 1) == pytest.approx(0.5)
    cats = ["a", "a", "b", "b"]
    # top-2: client0 {0,1} same; client1 {1,3} differ; client2 {0,1} same -> 1/3.
    assert m.intra_list_diversity(SCORES, cats, 2) == pytest.approx(1 / 3)
    pop = np.array([0.5, 0.25, 0.125, 1.0])
    # top-1 items 0,1,0 -> (1 + 2 + 1)/3
    assert m.novelty(SCORES, pop, 1) == pytest.approx(4 / 3)


def test_per_product_recall() -> None:
    rec = m.per_product_recall(ACTUAL, SCORES, 2)
    # product 0 added by client 1 whose top-2 is {1,3}: 0; product 1 by client 0 (top-2 {0,1}): 1.
    assert rec[0] == 0.0 and rec[1] == 1.0 and rec[3] == 0.0 and np.isnan(rec[2])


def test_perfect_ranking_scores_one() -> None:
    actual = np.eye(4, dtype=int)
    assert m.map_at_k(actual, actual.astype(float), 7) == pytest.approx(1.0)
    assert m.ndcg_at_k(actual, actual.astype(float), 7) == pytest.approx(1.0)


def test_paired_ratio_interval_contains_the_ratio_and_excludes_one_for_a_clear_winner() -> None:
    from core.evaluation.ranking import paired_ratio_ci

    rng = np.random.default_rng(1)
    base = rng.random(2000) * (rng.random(2000) < 0.1)
    better = base * 1.5
    ci = paired_ratio_ci(better, base)
    assert ci["ratio"] == pytest.approx(1.5)
    assert ci["low"] is not None and ci["low"] > 1.0 and ci["low"] <= 1.5 <= ci["high"]
    same = paired_ratio_ci(base, base)
    assert same["low"] == pytest.approx(1.0) and same["high"] == pytest.approx(1.0)
