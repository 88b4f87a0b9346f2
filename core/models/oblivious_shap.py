"""CatBoost's approximate SHAP values, only for the (row, class) pairs an explanation reads.

Why by hand: `get_feature_importance(type="ShapValues", shap_calc_type="Approximate")` fills a
dense (rows x classes x features) array. For the hybrid's stage B (18 classes x ~680 features)
that is about 100 KB per client, and with picking each product's top features from it, it was
half of the serving path's CPU (~1.3-1.9 ms per client), while a client is offered two or
three products. The approximate method is Saabas': each split on a row's path is credited
with the change it makes to the mean leaf value (weighted by the leaves' training weights)
between the node above it and the node below. For oblivious trees that change depends only on
the tree, the row's leaf and the level, so it is tabulated once per model here and gathered
for the pairs asked for; the rows' leaves come from CatBoost (`calc_leaf_indexes`), so the
binarization, one-hot routing and CTR computation stay the library's.

Supported splits: float, one-hot, and CTRs of a single categorical feature (credited to that
feature, as CatBoost does). Anything else (feature combinations, text or embedding features)
makes `from_model` return None, and callers use CatBoost's own dense SHAP.
tests/test_oblivious_shap.py checks the values against CatBoost's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from catboost import CatBoost

from core.models.catboost_json import model_json


class ObliviousShap:
    """Per-level contributions of every (tree, leaf), and the feature each level splits on."""

    def __init__(self, delta: np.ndarray, split_feature: np.ndarray) -> None:
        n_trees, n_leaves, depth, n_classes = delta.shape
        # (classes, trees * leaves * depth): one flat gather per pair and (tree, level).
        self._delta = np.ascontiguousarray(delta.transpose(3, 0, 1, 2)).reshape(-1)
        self._depth, self._per_class = depth, n_trees * n_leaves * depth
        pairs = split_feature.reshape(-1)
        order = np.argsort(pairs, kind="stable")
        order = order[pairs[order] >= 0]  # levels a shallower tree does not have
        self.features, self._starts = np.unique(pairs[order], return_index=True)
        # The (tree, level) pairs grouped by feature; int32 indexes halve the gather's traffic.
        self._tree = (order // depth).astype(np.intp)
        self._base = (self._tree * n_leaves * depth + order % depth).astype(np.int32)

    @classmethod
    def from_model(cls, model: CatBoost) -> ObliviousShap | None:
        """Tabulate `model`'s trees; None when a split is of a kind not handled here."""
        return cls.from_json(model_json(model))

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> ObliviousShap | None:
        trees = spec.get("oblivious_trees") or []
        split_flat = _split_features(spec.get("features_info", {}))
        if not trees or split_flat is None:
            return None
        depth = max(1, max(len(t["splits"]) for t in trees))
        n_classes = len(trees[0]["leaf_values"]) // 2 ** len(trees[0]["splits"])
        delta = np.zeros((len(trees), 2**depth, depth, n_classes))
        split_feature = np.full((len(trees), depth), -1, dtype=np.int64)
        for t, tree in enumerate(trees):
            splits = tree["splits"]
            d = len(splits)
            flats = [split_flat(s) for s in splits]
            if any(f is None for f in flats):
                return None
            values = np.asarray(tree["leaf_values"], dtype=np.float64).reshape(2**d, n_classes)
            weights = np.asarray(tree["leaf_weights"], dtype=np.float64)
            # CatBoost's last split is the root: level k fixes the leaf index's top k bits.
            means = [_node_means(values, weights, d - k) for k in range(d + 1)]
            leaves = np.arange(2**d)
            for k in range(d):
                delta[t, : 2**d, k] = means[k + 1][leaves >> (d - k - 1)] - means[k][leaves >> (d - k)]
                split_feature[t, k] = flats[d - 1 - k]
        return cls(delta, split_feature)

    def pair_values(self, leaf_indexes: np.ndarray, rows: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """(pairs, len(self.features)) contributions of row rows[i] to class classes[i]; the
        leaves are (rows x trees) as `calc_leaf_indexes` returns them."""
        leaf = leaf_indexes[np.asarray(rows, dtype=np.intp)].astype(np.int32)
        index = leaf[:, self._tree]
        index *= self._depth
        index += self._base
        index += (np.asarray(classes, dtype=np.int32) * self._per_class)[:, None]
        values = np.take(self._delta, index)
        if not len(self._starts):
            return values[:, :0]
        return np.add.reduceat(values, self._starts, axis=1)


def _split_features(info: dict[str, Any]) -> Any:
    """A function from a split (as in CatBoost's JSON) to the flat index of the feature it is
    credited to, or None when this module does not handle `info`'s CTRs."""
    floats = {f["feature_index"]: f["flat_feature_index"] for f in info.get("float_features", [])}
    cats = {f["feature_index"]: f["flat_feature_index"] for f in info.get("categorical_features", [])}
    # Binary features are numbered float borders first, then one-hot values, then CTR borders
    # in the order of info["ctrs"]: a CTR split's split_index says which CTR it is.
    first_ctr = sum(len(f.get("borders") or []) for f in info.get("float_features", [])) + sum(
        len(f.get("values") or []) for f in info.get("categorical_features", [])
    )
    ctr_border: list[tuple[float, int | None]] = []
    for ctr in info.get("ctrs", []):
        elements = ctr.get("elements", [])
        single = len(elements) == 1 and elements[0].get("combination_element") == "cat_feature_value"
        flat = cats.get(elements[0]["cat_feature_index"]) if single else None
        ctr_border += [(float(b), flat) for b in ctr.get("borders", [])]

    def flat_of(split: dict[str, Any]) -> int | None:
        kind = split["split_type"]
        if kind == "FloatFeature":
            return floats.get(split["float_feature_index"])
        if kind == "OneHotFeature":
            return cats.get(split["cat_feature_index"])
        if kind == "OnlineCtr":
            at = split["split_index"] - first_ctr
            if not 0 <= at < len(ctr_border) or abs(ctr_border[at][0] - split["border"]) > 1e-6:
                return None  # the numbering is not what this module assumes: do not guess
            return ctr_border[at][1]
        return None

    return flat_of


def _node_means(values: np.ndarray, weights: np.ndarray, low_bits: int) -> np.ndarray:
    """Weighted mean leaf value of each node whose leaves share all but the `low_bits` lowest
    bits of their index (a node nobody reached in training has mean 0)."""
    size = 2**low_bits
    w = weights.reshape(-1, size)
    total = w.sum(axis=1)
    sums = (values.reshape(-1, size, values.shape[1]) * w[:, :, None]).sum(axis=1)
    return np.divide(sums, total[:, None], out=np.zeros_like(sums), where=total[:, None] > 0)
