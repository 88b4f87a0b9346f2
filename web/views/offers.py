"""Offers as the pages show them: cards (best first, with reasons and alternatives), what
changed between two recommendations, and answered offers kept on top."""

from __future__ import annotations

import dataclasses
from typing import Any

from web.i18n import label, text
from web.views.formatting import in_language, pct, product_name


@dataclasses.dataclass
class OfferCard:
    code: str = ""
    name: str = ""
    category: str = ""
    rank: int = 0
    is_best: bool = False
    badge: str = ""
    probability: str = ""
    uplift: str = ""
    explanation: str = ""
    source: str = ""
    reasons: list[str] = dataclasses.field(default_factory=list)
    alternatives: str = ""
    responded: bool = False
    response_text: str = ""


@dataclasses.dataclass
class OfferChange:
    code: str = ""
    name: str = ""
    status: str = ""  # new | removed | up | down | same
    status_text: str = ""
    before: str = ""
    after: str = ""


def _reason_lines(offer: dict[str, Any], lang: str = "ru", limit: int = 3) -> list[str]:
    lines: list[str] = [str(t) for t in in_language(offer, "reasonTexts", lang) or [] if t]
    reasons = sorted(
        (r for r in offer.get("reasons") or [] if r.get("text")),
        key=lambda r: -abs(float(r.get("contribution") or 0.0)),
    )
    for r in reasons:
        if str(r["text"]) not in lines:
            lines.append(str(r["text"]))
    return lines[:limit]


def offer_cards(
    recommendation: dict[str, Any] | None, lang: str, responses: dict[str, str] | None = None
) -> list[OfferCard]:
    """One card per offer, best first; each names the other offers as its alternatives."""
    if not recommendation:
        return []
    offers = sorted(recommendation.get("offers") or [], key=lambda o: o.get("rank", 0))
    responses = responses or {}
    names = [product_name(o.get("product"), lang) for o in offers]
    cards = []
    for i, o in enumerate(offers):
        p = o.get("product") or {}
        code = str(p.get("code", ""))
        others = [n for j, n in enumerate(names) if j != i][:3]
        response = responses.get(code) or str(o.get("response") or "")
        partner = p.get("kind") == "partner"
        cards.append(
            OfferCard(
                code=code,
                name=names[i],
                category=label(lang, "product_category", p.get("category")),
                rank=int(o.get("rank", i + 1)),
                is_best=i == 0,
                badge=text(lang, "best_offer") if i == 0 else text(lang, "alternative"),
                # A partner discount's two numbers are not estimates for this client: the
                # decision layer sets its take-up without the offer to 0 and its effect to the
                # configured partner take rate (rules.toml). "Probability: 0.0%, effect +15.0%"
                # would read as a model's view of the client, so partner cards show neither.
                probability="" if partner else pct(o.get("probability")),
                uplift="" if partner or o.get("uplift") is None else pct(o.get("uplift"), signed=True),
                explanation=str(in_language(o, "explanation", lang) or ""),
                source=str(o.get("explanationSource") or ""),
                reasons=_reason_lines(o, lang),
                alternatives=", ".join(others),
                responded=bool(response),
                response_text=text(lang, f"responded_{response}") if response else "",
            )
        )
    return cards


def offer_codes(recommendation: dict[str, Any] | None) -> list[str]:
    if not recommendation:
        return []
    offers = sorted(recommendation.get("offers") or [], key=lambda o: o.get("rank", 0))
    return [str((o.get("product") or {}).get("code", "")) for o in offers]


def same_offers(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    return offer_codes(a) == offer_codes(b) and (a or {}).get("noContactReason") == (b or {}).get(
        "noContactReason"
    )


def diff_offers(before: dict[str, Any] | None, after: dict[str, Any] | None, lang: str) -> list[OfferChange]:
    """What changed between two recommendations: new, removed, moved up/down, unchanged."""
    rank_before = {c: i + 1 for i, c in enumerate(offer_codes(before))}
    rank_after = {c: i + 1 for i, c in enumerate(offer_codes(after))}
    products: dict[str, dict[str, Any]] = {}
    for rec in (before, after):
        for o in (rec or {}).get("offers") or []:
            p = o.get("product") or {}
            products[str(p.get("code", ""))] = p
    changes = []
    for code in list(rank_after) + [c for c in rank_before if c not in rank_after]:
        b, a = rank_before.get(code), rank_after.get(code)
        if b is None:
            status = "new"
        elif a is None:
            status = "removed"
        elif a < b:
            status = "up"
        elif a > b:
            status = "down"
        else:
            status = "same"
        changes.append(
            OfferChange(
                code=code,
                name=product_name(products.get(code), lang),
                status=status,
                status_text=text(lang, f"change_{status}"),
                before=f"#{b}" if b else "—",
                after=f"#{a}" if a else "—",
            )
        )
    return changes


def keep_responded(
    current: dict[str, Any] | None, updated: dict[str, Any], responded: set[str]
) -> dict[str, Any]:
    """The updated recommendation, with the offers already answered kept on top (marked on
    their cards), then the updated offers not answered yet; ranks renumbered."""

    def code(o: dict[str, Any]) -> str:
        return str((o.get("product") or {}).get("code", ""))

    old = sorted((current or {}).get("offers") or [], key=lambda o: o.get("rank", 0))
    kept = [o for o in old if code(o) in responded]
    fresh = [
        o
        for o in sorted(updated.get("offers") or [], key=lambda o: o.get("rank", 0))
        if code(o) not in responded
    ]
    offers = [{**o, "rank": i + 1} for i, o in enumerate(kept + fresh)]
    return {**updated, "offers": offers}
