"""Baselines on tiny hand-made feature frames (pure logic, no services)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.catalog import load_catalog
from core.models.base import TrainSet, eligibility_mask, masked
from core.models.cf import ItemItemCF
from core.models.popularity import PopularityRecommender
from core.models.rules import RulesRecommender

P = ("cco_fin", "nom_pens", "nomina", "reca_fin", "ctju_fin")


def frame(holds: list[list[int]], **cols: list[float | str]) -> pd.DataFrame:
    X = pd.DataFrame({f"hold_{p}_l0": [h[j] for h in holds] for j, p in enumerate(P)})
    for k, v in cols.items():
        X[k] = v
    return X


def test_popularity_rates_count_only_non_holders() -> None:
    X = frame([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
    y = np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0]])
    model = PopularityRecommender(P).fit(TrainSet(X, y, P))
    # cco_fin: 1 non-holder, it added -> 1.0; nom_pens: 3 non-holders, 2 added -> 2/3.
    assert model.rates.tolist() == pytest.approx([1.0, 2 / 3, 1 / 4, 0.0, 0.0])


def test_rules_fire_on_their_conditions() -> None:
    X = frame([[1, 0, 0, 0, 0]] * 2, salary_months_6m=[6, 0], is_june=[0, 1], income=[50_000, 50_000])
    y = np.array([[0, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    model = RulesRecommender(P).fit(TrainSet(X, y, P))
    s = model.predict_proba(X)
    assert s[0, 1] > s[1, 1]  # salary -> payroll pensions
    assert s[1, 3] > s[0, 3]  # June -> taxes


def test_cf_scores_co_held_products_higher() -> None:
    # nom_pens and nomina are always held together; cco_fin alone.
    X = frame([[0, 1, 1, 0, 0]] * 5 + [[1, 0, 0, 0, 0]] * 5 + [[1, 1, 0, 0, 0]])
    y = np.zeros((len(X), len(P)))
    y[:3, 0] = 1
    y[5:8, 1] = 1
    y[10, 2] = 1  # holds cco_fin + nom_pens, adds nomina
    y[8, 3] = 1  # an unrelated product with the same base rate
    model = ItemItemCF(P, shrinkage=0.0).fit(TrainSet(X, y, P))
    probe = frame([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]])
    s = model.predict_proba(probe)
    assert s[0, 2] > s[0, 3]  # holds nom_pens -> nomina over an unrelated product
    assert s[1].tolist() == pytest.approx(model.base.rates.tolist())  # empty -> popularity


def test_eligibility_masks_held_and_age() -> None:
    X = frame([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], age=[30, 15])
    ok = eligibility_mask(X, P, load_catalog())
    assert not ok[0, 0] and ok[1, 0]  # held
    assert not ok[0, 4] and ok[1, 4]  # junior account only for minors
    assert not ok[1, 1]  # payroll pensions: adults only
    assert np.isneginf(masked(np.ones_like(ok, dtype=float), ok)[0, 0])
