"""Rule-based expert system: the floor every learned model must beat.

Readable if-else rules a bank's product manager would write from experience, applied to the
same features the models see. Each rule multiplies the odds of a product's base rate (its
popularity) by a factor, so the score stays a probability; nothing beyond those base rates
is fitted to data. RULES lists each rule with a plain description, so an analyst can read
what the floor does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.models.base import TrainSet
from core.models.popularity import PopularityRecommender


def _col(X: pd.DataFrame, name: str, default: float = 0.0) -> np.ndarray:
    if name not in X.columns:
        return np.full(len(X), default)
    return pd.to_numeric(X[name], errors="coerce").fillna(default).to_numpy(dtype=float)


def _eq(X: pd.DataFrame, name: str, value: str) -> np.ndarray:
    if name not in X.columns:
        return np.zeros(len(X), dtype=bool)
    return (X[name].astype(str) == value).to_numpy()


@dataclass(frozen=True)
class Rule:
    products: tuple[str, ...]
    factor: float
    when: Callable[[pd.DataFrame], np.ndarray]
    text: str


RULES: tuple[Rule, ...] = (
    Rule(
        ("nom_pens", "nomina", "cno_fin"),
        4.0,
        lambda X: _col(X, "salary_months_6m") >= 3,
        "regular salary inflows -> payroll products",
    ),
    Rule(("nomina",), 3.0, lambda X: _col(X, "hold_nom_pens_l0") > 0, "holds payroll pensions -> payroll"),
    Rule(("reca_fin",), 5.0, lambda X: _col(X, "is_june") > 0, "June -> tax service"),
    Rule(
        ("valo_fin", "fond_fin", "dela_fin", "plan_fin"),
        3.0,
        lambda X: (_col(X, "income") > 120_000) | _eq(X, "segment", "top"),
        "high income or top segment -> investments and deposits",
    ),
    Rule(("ecue_fin", "cco_fin"), 2.0, lambda X: _eq(X, "segment", "student"), "students -> simple accounts"),
    Rule(
        ("pres_fin",), 3.0, lambda X: _col(X, "op_auto_cnt_3m") >= 3, "recent car spending -> personal loan"
    ),
    Rule(
        ("tjcr_fin",),
        3.0,
        lambda X: _col(X, "op_travel_cnt_3m") >= 2,
        "recent travel spending -> credit card",
    ),
    Rule(
        ("ctju_fin", "plan_fin"),
        3.0,
        lambda X: _col(X, "op_kids_cnt_3m") >= 3,
        "recent spending on children -> junior account, pension plan",
    ),
    Rule(
        ("recibo", "hip_fin"),
        2.0,
        lambda X: _col(X, "op_home_cnt_3m") >= 3,
        "recent home spending -> direct debits, mortgage",
    ),
    Rule(("recibo",), 2.0, lambda X: _col(X, "op_utilities_cnt_3m") >= 2, "pays utilities -> direct debits"),
    Rule(
        ("tjcr_fin", "pres_fin", "hip_fin"),
        0.3,
        lambda X: _col(X, "income", 0.0) < 20_000,
        "low income -> fewer credit offers",
    ),
)


class RulesRecommender:
    name = "rules"

    def __init__(self, products: tuple[str, ...]) -> None:
        self.products = products
        self.base = PopularityRecommender(products)

    def fit(self, train: TrainSet) -> RulesRecommender:
        self.base.fit(train)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        scores = self.base.predict_proba(X).copy()
        index = {p: j for j, p in enumerate(self.products)}
        for rule in RULES:
            fired = rule.when(X)
            for code in rule.products:
                if code in index:
                    j = index[code]
                    p = scores[fired, j]
                    # Scale the odds, not the probability: stays in [0, 1], keeps the order.
                    scores[fired, j] = p * rule.factor / (1.0 - p + p * rule.factor)
        return scores
