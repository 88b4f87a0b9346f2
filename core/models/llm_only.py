"""LLM-only recommender: a chat model ranks products from a bucketed client profile.

It is a baseline to show what a language model alone does without the take-up models. The
prompt carries no personal data: age band, income band, segment, products held, the top
spending categories and the client's behaviour cluster summary. The answer must be a JSON
list of product codes; the list's order becomes the score. Without a configured LLM the
strategy is reported as not available, with the reason.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from core.catalog import Catalog
from core.llm.client import ChatClient, LLMUnavailable
from core.models.base import held_now


def _band(value: float, edges: list[float], labels: list[str]) -> str:
    if np.isnan(value):
        return "unknown"
    for edge, label in zip(edges, labels, strict=False):
        if value < edge:
            return label
    return labels[-1]


def client_profile(row: pd.Series, products: tuple[str, ...]) -> dict[str, object]:
    age = float(pd.to_numeric(row.get("age"), errors="coerce"))
    income = float(np.expm1(pd.to_numeric(row.get("log_income"), errors="coerce")))
    spend = {
        c[len("op_") : -len("_share_6m")]: float(row[c])
        for c in row.index
        if c.startswith("op_") and c.endswith("_share_6m")
    }
    top = [k for k, v in sorted(spend.items(), key=lambda kv: -kv[1]) if v > 0][:3]
    return {
        "age_band": _band(age, [18, 25, 35, 50, 65], ["<18", "18-24", "25-34", "35-49", "50-64", "65+"]),
        "income_band": _band(income, [30_000, 60_000, 120_000], ["low", "middle", "upper-middle", "high"]),
        "segment": str(row.get("segment", "unknown")),
        "holds": [p for p in products if float(row.get(f"hold_{p}_l0", 0) or 0) > 0],
        "top_spending": top,
        "cluster": str(row.get("cluster", "unknown")),
    }


class LLMRecommender:
    name = "llm"

    def __init__(self, products: tuple[str, ...], catalog: Catalog, client: ChatClient) -> None:
        self.products = products
        self.catalog = catalog
        self.client = client

    def fit(self, train: object) -> LLMRecommender:
        return self

    def _ask(self, profile: dict[str, object]) -> list[str]:
        menu = "\n".join(f"- {p}: {self.catalog[p].name_en}" for p in self.products)
        prompt = (
            "You are a bank's product recommender. Rank up to 7 products from the menu this client "
            "is most likely to take up next month (never one they already hold). Answer with a JSON "
            f"list of product codes only.\nMenu:\n{menu}\nClient: {json.dumps(profile)}"
        )
        text = self.client.complete([{"role": "user", "content": prompt}], max_tokens=120)
        match = re.search(r"\[.*?\]", text, re.S)
        if not match:
            return []
        try:
            codes = json.loads(match.group(0))
        except json.JSONDecodeError:
            return []
        return [c for c in codes if isinstance(c, str) and c in self.products]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        scores = np.zeros((len(X), len(self.products)))
        held = held_now(X, self.products)
        index = {p: j for j, p in enumerate(self.products)}
        for i, (_, row) in enumerate(X.iterrows()):
            try:
                ranked = self._ask(client_profile(row, self.products))
            except LLMUnavailable:
                ranked = []
            for rank, code in enumerate(ranked):
                scores[i, index[code]] = 1.0 / (rank + 2)
        return np.where(held, 0.0, scores)
