"""Explain served offers: build a PII-free request per offer and ask the explainer.

The request carries only the product, the reason codes in words, the model's top features
and bucketed facts (core.explain.types.client_facts); the explainer falls back to the
template text on any LLM failure, so every offer leaves here with a text.

Every offer also carries its explanation in the app's other language (`translations`,
language -> text): the template's on the same checked facts, beside the explainer's text in
the client's language. Why: the app's language switch is the client's to use, and an English
page that explains its offers in Russian (the profile's language) reads as broken; the
template costs microseconds, an LLM call per language would double the quota for a rarely
used switch. Only the text is stored: the reasons' words come from the reason codes when
served, and a stored row that outgrows PostgreSQL's 2 kB inline limit is compressed, which
every read then pays for (duplicating both languages' texts took the API's served requests
per second down by a third).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from core.catalog import Catalog, load_catalog
from core.decision import Decision, DecisionRules, decide
from core.explain import ExplanationRequest, client_facts
from core.explain.event_phrases import EVENT_TOPICS
from core.explain.service import Explainer
from core.explain.template import render
from core.explain.types import LANGUAGES
from core.models.shap_reasons import ReasonSource
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
        topics=_topics(offer),
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


def _topics(offer: dict[str, Any]) -> tuple[str, ...]:
    """A partner offer's topics (its life events', ExplanationRequest.topics); none for a
    bank product, whose own model reasons explain it."""
    if offer["kind"] != "partner":
        return ()
    spec = load_catalog()[offer["product_code"]]
    return tuple(sorted({EVENT_TOPICS[e] for e in spec.life_events if e in EVENT_TOPICS}))


async def explain_offers(
    explainer: Explainer,
    scored: ScoredClient,
    offers: list[dict[str, Any]],
    catalog: Catalog,
) -> None:
    """Add `explanation`, `explanation_source` and `translations` (see the module docstring)
    to each offer dict (in place)."""
    for offer in offers:
        req = explanation_request(scored, offer)
        result = await explainer.explain(req)
        offer["explanation"] = result.text
        offer["explanation_source"] = result.source
        offer["translations"] = in_other_languages(req, catalog)


def in_other_languages(req: ExplanationRequest, catalog: Catalog) -> dict[str, str]:
    """language -> the template's text for every language but the request's: the same
    request, facts and reason codes, with the product's name in that language, so it says
    nothing the checked text in the client's language could not."""
    product = catalog[req.product_code]
    return {
        language: render(
            dataclasses.replace(
                req,
                language=language,
                product_name=product.name(language),
                reason_texts=(),  # the template does not use them (an LLM prompt does)
            )
        )
        for language in LANGUAGES
        if language != req.language
    }


def decide_offers(
    scored: ScoredClient, catalog: Catalog, rules: DecisionRules, rng: random.Random
) -> Decision:
    """The decision layer's offers for one scored client, without model reasons yet (those
    come with explain_decisions, for a whole batch at once)."""
    return decide(scored.ctx, scored.candidates, catalog, rules, rng)


async def explain_decisions(
    decided: Sequence[tuple[ScoredClient, Decision]],
    catalog: Catalog,
    rules: DecisionRules,
    explainer: Explainer,
) -> list[tuple[Decision, list[dict[str, Any]]]]:
    """Each decision with its offers' model reasons (worked out in one pass per scored batch,
    for the offered products only), and its offers as stored and served, explained."""
    decisions = _with_model_reasons(decided)
    out = []
    for (scored, _), decision in zip(decided, decisions, strict=True):
        offers = offer_items(decision, scored.ctx, catalog, rules)
        await explain_offers(explainer, scored, offers, catalog)
        out.append((decision, offers))
    return out


async def decide_and_explain(
    scored: ScoredClient,
    catalog: Catalog,
    rules: DecisionRules,
    rng: random.Random,
    explainer: Explainer,
) -> tuple[Decision, list[dict[str, Any]]]:
    """decide_offers and explain_decisions for one client (the single-client paths)."""
    decision = decide_offers(scored, catalog, rules, rng)
    return (await explain_decisions([(scored, decision)], catalog, rules, explainer))[0]


def _with_model_reasons(decided: Sequence[tuple[ScoredClient, Decision]]) -> list[Decision]:
    """Each offer's model reasons: its own product's, or for a partner offer those of the
    sure things it replaced (Offer.reason_products). Scored clients without a reason source
    keep the reasons their candidates carried."""
    asks: dict[int, tuple[ReasonSource, list[int], list[tuple[int, list[str]]]]] = {}
    for i, (scored, decision) in enumerate(decided):
        wanted = sorted({code for o in decision.offers for code in o.reason_products})
        if scored.reasons is None or not wanted:
            continue
        source = scored.reasons.source
        entry = asks.setdefault(id(source), (source, [], []))
        entry[1].append(i)
        entry[2].append((scored.reasons.row, wanted))
    out = [decision for _, decision in decided]
    for source, at, requests in asks.values():
        for i, table in zip(at, source.top_many(requests), strict=True):
            offers = [
                dataclasses.replace(o, reasons=[r for code in o.reason_products for r in table.get(code, ())])
                for o in out[i].offers
            ]
            out[i] = dataclasses.replace(out[i], offers=offers)
    return out
