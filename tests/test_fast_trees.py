"""ObliviousForest / FastCatBoost: CatBoost's float trees replayed in numpy for a few rows.

Checked against CatBoost's own predictions on data with missing values, for both NaN modes,
classifiers and regressors; larger inputs and other models must stay CatBoost's.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier, CatBoostRegressor

from core.uplift.fast_trees import FastCatBoost, ObliviousForest, compile_small_batches


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    X[rng.random(X.shape) < 0.15] = np.nan  # missing values in every column
    X[:, 3] = np.round(X[:, 3])  # values on the borders themselves
    z = np.nan_to_num(X[:, 0]) + 0.8 * np.isnan(X[:, 1]) - 0.5 * np.nan_to_num(X[:, 3])
    return X, z


@pytest.mark.parametrize("nan_mode", ["Min", "Max"])
def test_classifier_and_regressor_match_catboost(nan_mode: str) -> None:
    X, z = _data(1500, seed=0)
    y = (z + np.random.default_rng(1).normal(size=len(z)) > 0).astype(int)
    params = dict(iterations=80, depth=5, verbose=0, nan_mode=nan_mode, thread_count=1, border_count=32)
    clf = CatBoostClassifier(**params).fit(X, y)
    reg = CatBoostRegressor(**params).fit(X, z)
    Xt, _ = _data(300, seed=2)
    fast_clf = FastCatBoost(clf, ObliviousForest.from_model(clf), max_rows=400)  # type: ignore[arg-type]
    fast_reg = FastCatBoost(reg, ObliviousForest.from_model(reg), max_rows=400)  # type: ignore[arg-type]
    np.testing.assert_allclose(fast_clf.predict_proba(Xt), clf.predict_proba(Xt), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast_reg.predict(Xt), reg.predict(Xt), rtol=0, atol=1e-12)
    one = Xt[:1]
    np.testing.assert_allclose(fast_clf.predict_proba(one), clf.predict_proba(one), rtol=0, atol=1e-12)
    assert fast_clf.predict(one).tolist() == clf.predict(one).tolist()  # class labels: CatBoost's


def test_large_inputs_and_other_models_stay_catboosts() -> None:
    X, z = _data(600, seed=3)
    reg = CatBoostRegressor(iterations=20, depth=3, verbose=0, thread_count=1).fit(X, z)
    fast = FastCatBoost(reg, ObliviousForest.from_model(reg), max_rows=8)  # type: ignore[arg-type]
    assert np.array_equal(fast.predict(X[:100]), reg.predict(X[:100]))  # over max_rows: CatBoost
    frame = pd.DataFrame({"a": ["x", "y"] * 50, "b": np.arange(100.0)})
    with_cats = CatBoostClassifier(iterations=5, depth=2, verbose=0, thread_count=1, cat_features=["a"])
    with_cats.fit(frame, np.arange(100) % 2)
    assert ObliviousForest.from_model(with_cats) is None  # categorical features: not replayed


def test_compile_replaces_each_model_once_and_survives_pickling() -> None:
    X, z = _data(400, seed=4)
    reg = CatBoostRegressor(iterations=10, depth=3, verbose=0, thread_count=1).fit(X, z)

    class Holder:
        def __init__(self) -> None:
            self.model_mu_c = reg
            self.models_mu_c = {"arm": reg}  # causalml keeps one model under two names
            self.folds = [reg, CatBoostRegressor(iterations=5)]  # the second is not fitted
            self.other = "kept"

    holder = Holder()
    shared = holder.models_mu_c
    assert compile_small_batches(holder, max_rows=32) == 1
    assert isinstance(holder.model_mu_c, FastCatBoost)
    assert holder.models_mu_c["arm"] is holder.model_mu_c and holder.folds[0] is holder.model_mu_c
    assert holder.models_mu_c is shared and not isinstance(holder.folds[1], FastCatBoost)
    copy = pickle.loads(pickle.dumps(holder.model_mu_c))
    np.testing.assert_allclose(copy.predict(X[:3]), reg.predict(X[:3]), rtol=0, atol=1e-12)
    assert copy.feature_names_ == reg.feature_names_  # the rest is the model's
