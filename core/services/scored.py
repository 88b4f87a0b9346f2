"""A scored client and its offers as stored and served: what scoring hands to the decision step.

Its own module so that the scoring use case (core.services.recommend) and the explaining
step (core.services.explanations) can both import it without importing each other:
recommend calls explanations, and explanations needs only these two names, not the scorer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.catalog import Catalog
from core.decision import Candidate, ClientContext, Decision, DecisionRules, explain_reason
from core.explain.facts import History
from core.models.shap_reasons import RowReasons


@dataclass
class ScoredClient:
    """Everything the decision layer and the explainer need about one client, scored now."""

    client_id: int
    ctx: ClientContext
    candidates: list[Candidate]
    life_events: list[str]
    hybrid_only: list[dict[str, Any]]
    recent_categories: tuple[str, ...]
    income: float | None
    # Holdings and operations at decision time, for the explanation's claims (core.explain.facts).
    history: History = History()
    # This client's row of its batch's model reasons, worked out after the decision for the
    # offered products only (core.services.explanations). None: the candidates carry them.
    reasons: RowReasons | None = None


def offer_items(
    decision: Decision, ctx: ClientContext, catalog: Catalog, rules: DecisionRules
) -> list[dict[str, Any]]:
    """The decision's offers as stored and served: names and reason texts in the client's language."""
    return [
        {
            **o.as_dict(),
            "name": catalog[o.product_code].name(ctx.language),
            "reason_texts": [explain_reason(code, ctx.language, rules) for code in o.reason_codes],
        }
        for o in decision.offers
    ]
