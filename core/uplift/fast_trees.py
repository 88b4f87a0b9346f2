"""CatBoost's float-only oblivious trees evaluated in numpy, for a few rows at a time.

Why: the uplift models' base learners are CatBoost models on a plain float matrix, and a
worker batch of a few clients calls about eight of them. CatBoost builds a Pool for every
call, ~1.6-2 ms for one row of ~550 columns, most of the uplift stage of a small batch (a
notification waits for it). An oblivious tree is a table lookup: each level compares one
column with one border, the bits make the leaf index, and the prediction is the sum of the
leaves. Evaluated here in a few numpy operations, one row costs tens of microseconds.

Only what can be replayed exactly is compiled: float splits (no categorical features, CTRs
or text), one output dimension, Logloss / RMSE-like raw values. Anything else makes
`ObliviousForest.from_model` return None and the model is used as it is. Rows are compared
as float32, as CatBoost does. `FastCatBoost` answers up to `max_rows` rows with the forest
and hands larger inputs to CatBoost, whose multithreaded C++ wins there.
tests/test_fast_trees.py checks the predictions against CatBoost's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from catboost import CatBoost, CatBoostClassifier

from core.models.catboost_json import model_json


class ObliviousForest:
    """The trees of one model as arrays: column, border and leaf values per (tree, level)."""

    def __init__(
        self,
        column: np.ndarray,
        border: np.ndarray,
        nan_high: np.ndarray,
        leaves: np.ndarray,
        scale: float,
        bias: float,
        n_columns: int,
    ) -> None:
        self.column, self.border, self.leaves = column, border, leaves  # (T, D), (T, D), (T, 2^D)
        self.nan_high = nan_high  # per column: NaN sorts above every border ("Max")
        self.scale, self.bias, self.n_columns = scale, bias, n_columns
        depth = column.shape[1]
        self._weights = (1 << np.arange(depth)).astype(np.int64)
        self._offsets = np.arange(len(leaves), dtype=np.int64) * leaves.shape[1]

    @classmethod
    def from_model(cls, model: CatBoost) -> ObliviousForest | None:
        """The model's trees, or None when it has a split or output this does not replay."""
        return cls.from_json(model_json(model))

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> ObliviousForest | None:
        info = spec.get("features_info", {})
        floats = info.get("float_features") or []
        if any(info.get(k) for k in ("categorical_features", "text_features", "embedding_features")):
            return None
        trees = spec.get("oblivious_trees") or []
        if not trees:
            return None
        flat = {f["feature_index"]: f["flat_feature_index"] for f in floats}
        n_columns = max(flat.values(), default=-1) + 1
        # nan_mode Min ("AsFalse") and no NaN at fit ("AsIs"): NaN fails `value > border`;
        # nan_mode Max ("AsTrue"): it passes every split on that column.
        nan_high = np.zeros(n_columns, dtype=bool)
        for f in floats:
            nan_high[f["flat_feature_index"]] = f.get("nan_value_treatment") == "AsTrue"
        depth = max(len(t["splits"]) for t in trees)
        column = np.zeros((len(trees), depth), dtype=np.int64)
        # A padded level compares column 0 with +inf: always bit 0, and its leaves repeat.
        border = np.full((len(trees), depth), np.inf, dtype=np.float32)
        leaves = np.zeros((len(trees), 2**depth))
        for t, tree in enumerate(trees):
            splits = tree["splits"]
            values = np.asarray(tree["leaf_values"], dtype=np.float64)
            if len(values) != 2 ** len(splits):  # more than one output dimension
                return None
            for k, split in enumerate(splits):
                if split.get("split_type") != "FloatFeature":
                    return None
                column[t, k] = flat[split["float_feature_index"]]
                border[t, k] = np.float32(split["border"])
            leaves[t, : len(values)] = values
        scale, bias = spec.get("scale_and_bias", [1.0, [0.0]])
        if isinstance(bias, list):  # one bias per output dimension
            if len(bias) != 1:
                return None
            bias = bias[0]
        return cls(column, border, nan_high, leaves, float(scale), float(bias), n_columns)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Sum of leaf values, scaled and shifted (CatBoost's RawFormulaVal), per row."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] < self.n_columns:
            raise ValueError(f"expected rows of at least {self.n_columns} columns, got {X.shape}")
        values = X[:, self.column]  # (n, T, D)
        nan = np.isnan(values)
        bits = values > self.border
        if nan.any():
            bits = np.where(nan, self.nan_high[self.column], bits)
        index = bits @ self._weights + self._offsets  # (n, T): flat leaf positions
        return self.leaves.reshape(-1)[index].sum(axis=1) * self.scale + self.bias


class FastCatBoost:
    """A fitted CatBoost model that answers small inputs from its ObliviousForest.

    It has the two methods the uplift learners call (`predict`, `predict_proba`), so it
    stands in for the model inside causalml's meta-learners; everything else is the model's.
    """

    def __init__(self, model: CatBoost, forest: ObliviousForest, max_rows: int) -> None:
        self.model, self.forest, self.max_rows = model, forest, max_rows
        self.is_classifier = isinstance(model, CatBoostClassifier)

    def _small(self, X: Any) -> bool:
        return isinstance(X, np.ndarray) and X.ndim == 2 and len(X) <= self.max_rows

    def predict_proba(self, X: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        if not (self.is_classifier and self._small(X) and not args and not kwargs):
            return np.asarray(self.model.predict_proba(X, *args, **kwargs))
        p = 1.0 / (1.0 + np.exp(-self.forest.raw(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        if self.is_classifier or not self._small(X) or args or kwargs:
            return np.asarray(self.model.predict(X, *args, **kwargs))
        return self.forest.raw(X)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("model", "forest", "max_rows", "is_classifier"):
            raise AttributeError(name)  # during unpickling, before __dict__ is filled
        return getattr(self.model, name)


def compile_small_batches(obj: Any, max_rows: int, memo: dict[int, Any] | None = None) -> int:
    """Replace, in place, every CatBoost model reachable from `obj`'s attributes (through
    dicts and lists) by a FastCatBoost; returns how many were replaced. A model reached
    twice (causalml keeps the X-learner's control model under two names) gets one wrapper."""
    memo = {} if memo is None else memo
    count = 0

    def swap(value: Any) -> Any:
        nonlocal count
        if isinstance(value, CatBoost) and value.is_fitted() and _supported_loss(value):
            if id(value) not in memo:
                forest = ObliviousForest.from_model(value)
                memo[id(value)] = value if forest is None else FastCatBoost(value, forest, max_rows)
                count += forest is not None
            return memo[id(value)]
        if isinstance(value, dict):  # in place: the containers keep their identity
            for key, item in value.items():
                value[key] = swap(item)
        elif isinstance(value, list):
            value[:] = [swap(item) for item in value]
        return value

    for name, value in list(vars(obj).items()):
        new = swap(value)
        if new is not value:
            setattr(obj, name, new)
    return count


def _supported_loss(model: CatBoost) -> bool:
    """Logloss classifiers (probability = sigmoid of the raw value) and RMSE regressors."""
    loss = str(model.get_params().get("loss_function") or "")
    if isinstance(model, CatBoostClassifier):
        return loss in ("", "Logloss")
    return loss in ("", "RMSE")
