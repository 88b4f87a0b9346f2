"""Offers and recommendations: the types, and how stored or computed offer items become them.

Stored recommendations (JSON items) and freshly computed ones go through the same
recommendation_of, so both read the same way to clients.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime
from typing import Any

import strawberry

from api.context import Info
from api.db import jsonb
from api.types.enums import LANGUAGE_CODES, Language, OfferResponse, Strategy
from api.types.products import Product, catalog_product
from core.catalog import load_catalog
from core.decision import DecisionRules, explain_reason, load_rules


@strawberry.type
class Reason:
    feature: str
    contribution: float
    text: str | None = None


@strawberry.type(description="An offer's texts in one language.")
class OfferText:
    language: Language
    explanation: str
    reason_texts: list[str]


@strawberry.type
class Offer:
    product: Product
    rank: int
    probability: float = strawberry.field(description="Take-up probability without an offer (p_take).")
    uplift: float | None = strawberry.field(
        description="P(take | offer) - P(take | no offer); null: no model."
    )
    expected_value: float = strawberry.field(description="EUR the offer is expected to earn.")
    reason_codes: list[str]
    reasons: list[Reason] = strawberry.field(description="Top model features behind the score.")
    reason_texts: list[str] = strawberry.field(description="Reason codes in words, client's language.")
    explanation: str
    explanation_source: str = strawberry.field(description="template | openai | yandex | cache")
    texts: list[OfferText] = strawberry.field(
        description="explanation and reasonTexts in each language the app shows, for its language "
        "switch: the client's language as above, the other written by the template on the same "
        "checked facts. Empty for recommendations stored before texts were kept in both languages."
    )
    propensity: float | None = strawberry.field(description="Logged probability the policy shows this offer.")
    exploration: bool
    _client_id: strawberry.Private[int]
    _recommendation_id: strawberry.Private[int | None]

    @strawberry.field(description="The client's answer to this offer, if any.")
    async def response(self, info: Info) -> OfferResponse | None:
        if self._recommendation_id is None:
            return None
        answers = await info.context.loaders.responses.load((self._client_id, self._recommendation_id))
        served = info.context.served
        if served is not None and served.recommendation_id == self._recommendation_id:
            served.answers = answers  # the answers this answer shows: part of its cache key
        value = answers.get(self.product.code)
        return OfferResponse(value) if value else None


@functools.cache
def _rules() -> DecisionRules:
    """The rules file's rule ids in words (read once per process, as the catalog)."""
    return load_rules(catalog=load_catalog())


def _texts(item: dict[str, Any]) -> list[OfferText]:
    """The offer's texts in each language: the stored explanation and reason texts in the
    client's language (the one `translations` lacks), the template's translations with the
    reasons in words from their codes (core.services.explanations says why not stored)."""
    translations = item.get("translations") or {}
    own = [lang for lang in LANGUAGE_CODES if lang not in translations]
    if not translations or len(own) != 1:
        return []  # stored before translations were kept (or unreadable): the plain fields
    stored = [str(t) for t in item.get("reason_texts") or []]
    out = [OfferText(language=Language(own[0]), explanation=_explanation(item), reason_texts=stored)]
    for lang in LANGUAGE_CODES:
        if lang in translations:
            out.append(
                OfferText(
                    language=Language(lang),
                    explanation=str(translations[lang]),
                    reason_texts=_reason_texts(item.get("reason_codes") or [], lang, stored),
                )
            )
    return out


def _reason_texts(codes: list[str], language: str, stored: list[str]) -> list[str]:
    try:
        return [explain_reason(str(code), language, _rules()) for code in codes]
    except KeyError:  # a rule since removed from the rules file: the stored words
        return stored


def _explanation(item: dict[str, Any]) -> str:
    if item.get("explanation"):
        return str(item["explanation"])
    texts = [str(t).rstrip(". ") for t in item.get("reason_texts") or [] if t]
    return ". ".join(texts) + "." if texts else ""


def _offer(item: dict[str, Any], client_id: int, rec_id: int | None) -> Offer | None:
    code = item.get("product_code")
    if code not in load_catalog().codes:
        return None
    uplift = item.get("uplift")
    propensity = item.get("propensity")
    return Offer(
        product=catalog_product(code),
        rank=int(item.get("rank") or 0),
        probability=float(item.get("p_take") or 0.0),
        uplift=None if uplift is None or not math.isfinite(float(uplift)) else float(uplift),
        expected_value=float(item.get("expected_value") or 0.0),
        reason_codes=[str(c) for c in item.get("reason_codes") or []],
        reasons=[
            Reason(feature=str(r[0]), contribution=float(r[1]))
            for r in item.get("reasons") or []
            if len(r) >= 2
        ],
        reason_texts=[str(t) for t in item.get("reason_texts") or []],
        explanation=_explanation(item),
        explanation_source=str(item.get("explanation_source") or "template"),
        texts=_texts(item),
        propensity=None if propensity is None else float(propensity),
        exploration=bool(item.get("exploration", False)),
        _client_id=client_id,
        _recommendation_id=rec_id,
    )


@strawberry.type
class Recommendation:
    id: strawberry.ID | None
    client_id: strawberry.ID
    strategy: Strategy
    model_version: str | None
    created_at: datetime | None
    offers: list[Offer] = strawberry.field(description="Best offer first, then the alternatives.")
    no_contact_reason: str | None


_STORED_STRATEGY = {"uplift+rules": Strategy.UPLIFT_RULES, **{s.value: s for s in Strategy}}


def recommendation_of(
    client_id: int,
    items: list[dict[str, Any]],
    *,
    rec_id: int | None,
    strategy: Strategy,
    model_version: str | None,
    created_at: datetime | None,
    no_contact_reason: str | None = None,
) -> Recommendation:
    """Offer items (stored JSON or computed) as a Recommendation: unknown products dropped,
    best first; a stored empty decision reads NO_OFFER."""
    offers = [o for o in (_offer(i, client_id, rec_id) for i in items) if o is not None]
    offers.sort(key=lambda o: o.rank)
    if not offers and no_contact_reason is None and rec_id is not None:
        no_contact_reason = "NO_OFFER"
    return Recommendation(
        id=None if rec_id is None else strawberry.ID(str(rec_id)),
        client_id=strawberry.ID(str(client_id)),
        strategy=strategy,
        model_version=model_version,
        created_at=created_at,
        offers=offers,
        no_contact_reason=no_contact_reason,
    )


def stored_recommendation(row: Any) -> Recommendation:
    """A recommendation row (REC_COLUMNS) as served."""
    return recommendation_of(
        int(row["client_id"]),
        jsonb(row["items"]) or [],
        rec_id=int(row["id"]),
        strategy=_STORED_STRATEGY.get(row["strategy"], Strategy.UPLIFT_RULES),
        model_version=row["model_version"],
        created_at=row["created_at"],
    )


def computed_recommendation(client_id: int, result: dict[str, Any]) -> Recommendation:
    """A decision just made (core.services.recommend's result) as served."""
    return recommendation_of(
        client_id,
        result["offers"],
        rec_id=result.get("recommendation_id"),
        strategy=Strategy.UPLIFT_RULES,
        model_version=result.get("model_version"),
        created_at=datetime.now(UTC),
        no_contact_reason=result.get("no_contact_reason"),
    )


REC_COLUMNS = "id, client_id, created_at, strategy, model_version, items"
