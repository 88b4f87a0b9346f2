"""decide(): from model scores and a client's context to the offers worth a contact.

Steps, each for a reason:
1. Every rule of rules.toml is evaluated for every candidate bank product and every partner
   offer a sure thing or a life event points to; a product that breaks any rule is never
   offered (exploration included) and lands in `rejected` with the rules it broke.
2. Value = uplift x value per conversion (EUR): an offer is worth what it *changes*. With
   no uplift estimate p_take x value stands in, and the offer says so (reason code).
3. Sure things (likely taken anyway) are skipped; their slot may go to a linked partner
   offer, which earns a commission the bank would not get otherwise. Partner offers compete
   on their own expected value (commission x assumed take rate), never a borrowed one.
4. A client whose every uplift is negative (a sleeping dog) gets no contact at all.
5. Slate: the best offer plus up to max_offers - 1 alternatives, one per category unless no
   other category qualifies; offers in one slate never conflict and never jointly break
   the debt-burden limit.
6. Epsilon-greedy exploration of the top slot, with the propensity logged for off-policy
   evaluation of this and later policies.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.catalog import Catalog, ProductSpec, load_catalog
from core.decision import reasons as rc
from core.decision.config import CLIENT_RULES, DecisionRules, load_rules
from core.decision.eligibility import ContextFacts, conflicts_with, evaluate, within_debt_burden
from core.decision.types import Candidate, ClientContext, Decision, Offer

Rng = random.Random | np.random.Generator


@dataclass(frozen=True)
class _Item:
    """An offerable product with its value and the codes that justify it."""

    spec: ProductSpec
    value: float
    p_take: float
    uplift: float | None
    reason_codes: tuple[str, ...]
    reasons: tuple[tuple[str, float], ...]
    rules_passed: tuple[str, ...]
    reason_products: tuple[str, ...]  # whose model reasons explain this item (see Offer)


def _event_codes(spec: ProductSpec, ctx: ClientContext) -> list[str]:
    return [rc.life_event_code(e) for e in spec.life_events if e in ctx.life_events]


def _bank_item(
    spec: ProductSpec, cand: Candidate, ctx: ClientContext, rules: DecisionRules, passed: list[str]
) -> _Item:
    per_conversion = rules.value(spec)
    if cand.uplift is None:
        value, codes = cand.p_take * per_conversion, [rc.UPLIFT_UNKNOWN]
    else:
        value = cand.uplift * per_conversion
        codes = [rc.UPLIFT_HIGH if cand.uplift >= rules.uplift_high else rc.UPLIFT_POSITIVE]
    codes += _event_codes(spec, ctx)
    return _Item(
        spec, value, cand.p_take, cand.uplift, tuple(codes), cand.top_reasons, tuple(passed), (spec.code,)
    )


def _partner_item(
    spec: ProductSpec, replaced: list[Candidate], ctx: ClientContext, rules: DecisionRules, passed: list[str]
) -> _Item:
    events = _event_codes(spec, ctx)
    take = rules.life_event_take_rate if events else rules.partner_take_rate
    codes = ([rc.SURE_THING_REPLACED] if replaced else []) + events + [rc.PARTNER_OFFER]
    reasons = tuple(r for cand in replaced for r in cand.top_reasons)
    # Nobody uses a partner discount unseen: no take-up without the offer, uplift = take rate.
    return _Item(
        spec, take * rules.value(spec), 0.0, take, tuple(codes), reasons, tuple(passed),
        tuple(c.product_code for c in replaced),
    )


def _fits(
    item: _Item, chosen: list[_Item], ctx: ClientContext, catalog: Catalog, rules: DecisionRules
) -> bool:
    """Whether item can join the slate: no conflict, joint credit burden within the limit."""
    if conflicts_with(item.spec, [c.spec.code for c in chosen], catalog):
        return False
    debt = rules["debt_burden"]
    if item.spec.is_credit and debt.applies(item.spec):
        codes = [c.spec.code for c in chosen if c.spec.is_credit and debt.applies(c.spec)]
        return within_debt_burden(ctx, [*codes, item.spec.code], catalog, debt.num("max_ratio"))
    return True


def _slate(
    top: _Item, ranked: list[_Item], ctx: ClientContext, catalog: Catalog, rules: DecisionRules
) -> list[tuple[_Item, bool]]:
    """Top plus alternatives: (item, from a new category). New categories first, then any."""
    chosen: list[_Item] = [top]
    fresh = [True]
    for strict in (True, False):
        for item in ranked:
            if len(chosen) >= rules.max_offers:
                break
            if item in chosen or (strict and item.spec.category in {c.spec.category for c in chosen}):
                continue
            if _fits(item, chosen, ctx, catalog, rules):
                chosen.append(item)
                fresh.append(strict)
    return list(zip(chosen, fresh, strict=True))


def _draw(rng: Rng, n: int, epsilon: float) -> int | None:
    """Index of the explored top offer with probability epsilon, else None (greedy)."""
    if epsilon <= 0.0:
        return None
    if rng.random() >= epsilon:
        return None
    if isinstance(rng, random.Random):
        return rng.randrange(n)
    return int(rng.integers(n))


def _candidate_map(candidates: Sequence[Candidate], catalog: Catalog) -> dict[str, Candidate]:
    out: dict[str, Candidate] = {}
    for cand in candidates:
        code = cand.product_code
        if code not in catalog.codes or catalog[code].kind != "bank":
            raise ValueError(f"candidate {code!r}: not a bank product of the catalog")
        if code in out:
            raise ValueError(f"candidate {code!r}: given twice")
        out[code] = cand
    return out


def _to_offer(item: _Item, rank: int, codes: list[str], propensity: float, explored: bool) -> Offer:
    return Offer(
        product_code=item.spec.code,
        kind=item.spec.kind,
        category=item.spec.category,
        rank=rank,
        score=item.value,
        expected_value=item.value,
        p_take=item.p_take,
        uplift=item.uplift,
        reason_codes=[*codes, *item.reason_codes],
        reasons=list(item.reasons),
        rules_passed=list(item.rules_passed),
        propensity=propensity,
        exploration=explored,
        reason_products=item.reason_products,
    )


def decide(
    ctx: ClientContext,
    candidates: Sequence[Candidate],
    catalog: Catalog | None = None,
    rules: DecisionRules | None = None,
    rng: Rng | None = None,
) -> Decision:
    """The offers to show this client now (best first), or why none. Deterministic given rng."""
    catalog = catalog or load_catalog()
    rules = rules or load_rules(catalog=catalog)
    rng = rng if rng is not None else random.Random()
    cands = _candidate_map(candidates, catalog)
    rejected: dict[str, list[str]] = {}
    pool: list[_Item] = []
    sure_things: list[Candidate] = []
    facts = ContextFacts(ctx)  # the client's side of the rules, worked out once
    for code, cand in cands.items():
        spec = catalog[code]
        passed, failed = evaluate(spec, ctx, cand, catalog, rules, facts)
        if failed:
            rejected[code] = failed
            if failed == ["sure_thing"]:
                sure_things.append(cand)
            continue
        item = _bank_item(spec, cand, ctx, rules, passed)
        # Worth less than a contact costs the client's attention: not served (nor explored).
        if item.value > 0.0 and item.value >= rules.min_expected_value:
            pool.append(item)
    for spec in catalog.partner:
        replaced = [c for c in sure_things if c.product_code in spec.complements]
        if not replaced and not set(spec.life_events) & ctx.life_events:
            continue
        passed, failed = evaluate(spec, ctx, None, catalog, rules, facts)
        if failed:
            rejected[spec.code] = failed
        else:
            partner_item = _partner_item(spec, replaced, ctx, rules, passed)
            if partner_item.value >= rules.min_expected_value:
                pool.append(partner_item)

    def no_contact(reason: str) -> Decision:
        return Decision(ctx.client_id, [], rejected, reason)

    if not pool:
        for rule_id in CLIENT_RULES:
            if any(rule_id in failed for failed in rejected.values()):
                return no_contact(rc.NO_CONTACT_BY_RULE[rule_id])
    uplifts = [c.uplift for c in cands.values()]
    if uplifts and all(u is not None and u < 0.0 for u in uplifts):
        return no_contact(rc.SLEEPING_DOG)
    if not pool:
        return no_contact(rc.NO_ELIGIBLE_OFFER)

    ranked = sorted(pool, key=lambda it: (-it.value, it.spec.code))
    n, eps = len(ranked), rules.exploration_epsilon
    pick = _draw(rng, n, eps)
    top = ranked[0] if pick is None else ranked[pick]

    def p_top(item: _Item) -> float:
        return (1.0 - eps if item is ranked[0] else 0.0) + eps / n

    # Alternatives: the probability that the policy shows them at all (over every top draw).
    shown: dict[str, float] = {}
    for t in ranked:
        for item, _ in _slate(t, ranked, ctx, catalog, rules)[1:]:
            shown[item.spec.code] = shown.get(item.spec.code, 0.0) + p_top(t)
    offers = [
        _to_offer(
            top, 1, [rc.EXPLORATION if pick is not None else rc.BEST_OFFER], p_top(top), pick is not None
        )
    ]
    for rank, (item, fresh) in enumerate(_slate(top, ranked, ctx, catalog, rules)[1:], start=2):
        code = rc.DIVERSITY_ALTERNATIVE if fresh else rc.SAME_CATEGORY_ALTERNATIVE
        offers.append(_to_offer(item, rank, [code], min(1.0, shown[item.spec.code]), False))
    return Decision(ctx.client_id, offers, rejected, None)
