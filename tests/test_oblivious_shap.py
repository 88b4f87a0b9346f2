"""Fast SHAP from tabulated oblivious trees (core.models.oblivious_shap) against CatBoost's own
approximate SHAP values, and model reasons worked out after the decision (explanations).

Pure: small CatBoost models fitted here, no database.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier, Pool

from core.decision import Candidate, ClientContext, Decision, Offer
from core.models.oblivious_shap import ObliviousShap
from core.models.shap_reasons import ReasonSource, RowReasons
from core.services.explanations import _with_model_reasons


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n).astype(float),
            "income": rng.lognormal(10, 1, n),
            "gap": np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1, n)),
            "segment": rng.choice(["a", "b", "c", "d"], n),
            "channel": rng.choice(["x", "y", "z"], n),
        }
    )
    signal = (X["age"] / 30 + (X["segment"] == "b") * 1.5 + np.nan_to_num(X["gap"].to_numpy())).to_numpy()
    return X, signal


def _dense(model: CatBoostClassifier, pool: Pool) -> np.ndarray:
    values = np.asarray(model.get_feature_importance(pool, type="ShapValues", shap_calc_type="Approximate"))
    return values[:, None, :-1] if values.ndim == 2 else values[:, :, :-1]


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("multiclass, one-hot categoricals", {"loss_function": "MultiClass", "one_hot_max_size": 255}),
        (
            "binary, CTR categoricals",
            {"loss_function": "Logloss", "one_hot_max_size": 1, "max_ctr_complexity": 1},
        ),
    ],
)
def test_pair_values_equal_catboosts_approximate_shap(kind: str, extra: dict[str, object]) -> None:
    X, signal = _frame(600, 1)
    if extra["loss_function"] == "MultiClass":
        y = np.digitize(signal + np.random.default_rng(2).normal(0, 0.5, len(X)), [2.0, 3.0, 4.0])
    else:
        y = (signal + np.random.default_rng(2).normal(0, 0.5, len(X)) > 3.0).astype(int)
    cats = ["segment", "channel"]
    model = CatBoostClassifier(iterations=40, depth=4, verbose=False, random_seed=3, **extra)  # type: ignore[arg-type]
    model.fit(Pool(X, y, cat_features=cats))
    tables = ObliviousShap.from_model(model)
    assert tables is not None, kind

    test, _ = _frame(200, 4)
    pool = Pool(test, cat_features=cats)
    reference = _dense(model, pool)  # rows, classes, features
    leaves = model.calc_leaf_indexes(pool)
    rng = np.random.default_rng(5)
    rows = rng.integers(0, len(test), 300)
    classes = rng.integers(0, reference.shape[1], 300)
    got = tables.pair_values(leaves, rows, classes)
    np.testing.assert_allclose(got, reference[rows, classes][:, tables.features], rtol=0, atol=1e-9)
    # Features no split uses have no contribution, so the tables may leave them out.
    others = np.setdiff1d(np.arange(reference.shape[2]), tables.features)
    assert not reference[:, :, others].any()
    if "CTR" in kind:  # the categoricals reached the trees as CTRs and are credited to themselves
        assert {X.columns.get_loc(c) for c in cats} & set(tables.features.tolist())


def test_a_feature_combination_ctr_is_not_guessed() -> None:
    """A CTR of two categoricals together: no split-to-feature rule here, so no tables (the
    caller then uses CatBoost's dense SHAP)."""
    spec = {
        "features_info": {
            "categorical_features": [
                {"feature_index": 0, "flat_feature_index": 0},
                {"feature_index": 1, "flat_feature_index": 1},
            ],
            "ctrs": [
                {
                    "borders": [0.5],
                    "elements": [
                        {"cat_feature_index": 0, "combination_element": "cat_feature_value"},
                        {"cat_feature_index": 1, "combination_element": "cat_feature_value"},
                    ],
                }
            ],
        },
        "oblivious_trees": [
            {
                "splits": [
                    {"border": 0.5, "ctr_target_border_idx": 0, "split_index": 0, "split_type": "OnlineCtr"}
                ],
                "leaf_values": [0.1, -0.1],
                "leaf_weights": [3, 4],
            }
        ],
    }
    assert ObliviousShap.from_json(spec) is None
    spec["oblivious_trees"][0]["splits"][0]["border"] = 0.7  # type: ignore[index]
    spec["features_info"]["ctrs"][0]["elements"] = spec["features_info"]["ctrs"][0]["elements"][:1]  # type: ignore[index]
    assert ObliviousShap.from_json(spec) is None  # the border says the numbering is not understood


def _offer(code: str, kind: str, reason_products: tuple[str, ...]) -> Offer:
    return Offer(
        product_code=code, kind=kind, category="c", rank=1, score=1.0, expected_value=1.0, p_take=0.1,
        uplift=None, reason_codes=[], reasons=[], rules_passed=[], propensity=1.0,
        reason_products=reason_products,
    )


def test_reasons_after_the_decision_are_the_offered_products() -> None:
    """A bank offer gets its own product's top reasons; a partner offer those of the sure
    things it replaced; a client without a reason source keeps its candidates' reasons."""
    from datetime import UTC, datetime

    from core.services.scored import ScoredClient

    names = ["age", "income", "op_auto", "op_travel"]
    any_values = np.array([[0.1, 0.0, 0.0, 0.0], [0.0, 0.2, 0.0, 0.0]])
    which = np.array(
        [
            [[0.3, 0.0, 0.5, -0.1], [0.0, 0.4, 0.0, 0.2]],
            [[0.0, 0.0, 0.0, 0.6], [0.0, -0.9, 0.1, 0.0]],
        ]
    )
    source = ReasonSource((any_values, np.arange(4)), which, names, {"tjcr_fin": 0, "reca_fin": 1})
    ctx = ClientContext(
        client_id=1, age=40, is_resident=True, segment="top", income=60_000.0, marketing_consent=True,
        contact_opt_out=False, held=frozenset(), now=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip

    def scored(row: int | None) -> ScoredClient:
        return ScoredClient(
            client_id=row or 0, ctx=ctx, candidates=[Candidate("tjcr_fin", 0.2)], life_events=[],
            hybrid_only=[], recent_categories=(), income=None,
            reasons=RowReasons(source, row) if row is not None else None,
        )

    bank = Decision(1, [_offer("tjcr_fin", "bank", ("tjcr_fin",))], {}, None)
    partner = Decision(2, [_offer("auto_parts", "partner", ("reca_fin", "tjcr_fin"))], {}, None)
    carried = dataclasses.replace(_offer("tjcr_fin", "bank", ("tjcr_fin",)), reasons=[("x", 1.0)])
    kept = Decision(3, [carried], {}, None)
    out = _with_model_reasons([(scored(0), bank), (scored(1), partner), (scored(None), kept)])
    assert out[0].offers[0].reasons == [("op_auto", 0.5), ("age", 0.4)]
    # row 1, reca_fin: income 0.2 - 0.9 < 0, op_auto 0.1; then tjcr_fin: op_travel 0.6, income 0.2
    assert out[1].offers[0].reasons == [("op_auto", 0.1), ("op_travel", 0.6), ("income", 0.2)]
    assert out[2].offers[0].reasons == [("x", 1.0)]
    assert "reason_products" not in out[0].offers[0].as_dict()
