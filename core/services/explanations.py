"""Explain served offers: build a PII-free request per offer and ask the explainer.

The request carries only the product, the reason codes in words, the model's top features
and bucketed facts (core.explain.types.client_facts); the explainer falls back to the
template text on any LLM failure, so every offer leaves here with a text.
"""

from __future__ import annotations

import random
from typing import Any

from core.catalog import Catalog
from core.decision import Decision, DecisionRules, decide
from core.explain import ExplanationRequest, client_facts
from core.explain.service import Explainer
from core.services.scored import ScoredClient, offer_items


def explanation_request(scored: ScoredClient, offer: dict[str, Any]) -> ExplanationRequest:
    """The request for one offer. Its facts are the client at decision time (history from
    the scored feature row): every claim the text makes is checked against them
    (core.explain.claims). Held now = held in the scored month *and* in the decision
    context: ctx.held is the client's latest holdings month, which for a client who has
    since dropped everything is an earlier month (those products then read as held before)."""
    ctx = scored.ctx
    history = scored.history
    return ExplanationRequest(
        product_code=offer["product_code"],
        product_name=offer["name"],
        product_kind=offer["kind"],
        language=ctx.language,
        reason_codes=tuple(offer["reason_codes"]),
        reason_texts=tuple(offer["reason_texts"]),
        top_features=tuple((str(f), float(c)) for f, c in offer.get("reasons", [])),
        facts=client_facts(
            ctx.age,
            ctx.income,
            scored.recent_categories,
            ctx.segment,
            scored.life_events,
            held=ctx.held & set(history.held_now),
            held_before=history.held_before,
            frequent_categories=history.frequent_categories,
            flags=history.flags,
        ),
    )


async def explain_offers(explainer: Explainer, scored: ScoredClient, offers: list[dict[str, Any]]) -> None:
    """Add `explanation` and `explanation_source` to each offer dict (in place)."""
    for offer in offers:
        result = await explainer.explain(explanation_request(scored, offer))
        offer["explanation"] = result.text
        offer["explanation_source"] = result.source


async def decide_and_explain(
    scored: ScoredClient,
    catalog: Catalog,
    rules: DecisionRules,
    rng: random.Random,
    explainer: Explainer,
) -> tuple[Decision, list[dict[str, Any]]]:
    """The decision layer's offers for one scored client, as stored and served, explained.

    The one step the worker, the batch job and the single-client path share."""
    decision = decide(scored.ctx, scored.candidates, catalog, rules, rng)
    offers = offer_items(decision, scored.ctx, catalog, rules)
    await explain_offers(explainer, scored, offers)
    return decision, offers
