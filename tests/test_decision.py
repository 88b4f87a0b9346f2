"""Decision layer: each rule passes and blocks, sure things, sleeping dogs, diversity,
exploration, and a property test against an independent checker (written from the rules
file and the catalog, sharing no code with the engine)."""

from __future__ import annotations

import dataclasses
import random
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.catalog import Catalog, load_catalog
from core.decision import (
    RULE_IDS,
    Candidate,
    ClientContext,
    Contact,
    Decision,
    decide,
    explain_reason,
    load_rules,
    parse_rules,
)
from core.decision.config import RULES_FILE
from core.decision.reasons import REASON_TEXTS
from core.domain import LIFE_EVENTS, SEGMENTS

CAT = load_catalog()
RULES = load_rules()
RAW = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def ctx(**kw: Any) -> ClientContext:
    base: dict[str, Any] = dict(
        client_id=1, age=40, is_resident=True, segment="top", income=60_000.0,
        marketing_consent=True, contact_opt_out=False, held=frozenset(), now=NOW,
    )  # fmt: skip
    return ClientContext(**{**base, **kw})


def one(code: str, c: ClientContext, p_take: float = 0.05, uplift: float | None = 0.05) -> Decision:
    return decide(c, [Candidate(code, p_take, uplift)], CAT, RULES, random.Random(0))


def contacts(code: str, days_ago: list[float], response: Any = None) -> tuple[Contact, ...]:
    return tuple(Contact(code, NOW - timedelta(days=d), response) for d in days_ago)


# rule id, product, context that passes, context that is blocked
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("marketing_consent", "cco_fin", {}, {"marketing_consent": False}),
    ("contact_opt_out", "cco_fin", {}, {"contact_opt_out": True}),
    ("contact_cap", "cco_fin", {"recent_contacts": contacts("x", [1, 2, 3, 40])},
     {"recent_contacts": contacts("recibo", [1, 2, 3, 29])}),
    ("age_limits", "ctju_fin", {"age": 10}, {"age": 30}),
    ("age_limits", "hip_fin", {"age": 21}, {"age": 20}),
    ("residency", "hip_fin", {}, {"is_resident": False}),
    ("segment", "valo_fin", {"segment": "individual"}, {"segment": "student"}),
    ("credit_adults", "tjcr_fin", {"age": 18}, {"age": 17}),
    ("debt_burden", "pres_fin", {"income": 40_000.0}, {"income": 5_000.0}),
    ("debt_burden", "pres_fin", {"income": 30_000.0, "held": {"hip_fin"}},
     {"income": 25_000.0, "held": {"hip_fin"}}),
    ("debt_burden", "tjcr_fin", {}, {"income": None}),
    ("cooling_off_decline", "dela_fin", {"recent_contacts": contacts("dela_fin", [61], "decline")},
     {"recent_contacts": contacts("dela_fin", [59], "decline")}),
    ("cooling_off_dismiss", "dela_fin", {"recent_contacts": contacts("dela_fin", [15], "dismiss")},
     {"recent_contacts": contacts("dela_fin", [13], "dismiss")}),
    ("already_held", "recibo", {"held": {"cco_fin"}}, {"held": {"recibo"}}),
    ("conflicts", "ctpp_fin", {"held": {"cco_fin"}}, {"held": {"ctop_fin"}}),
    ("requires", "nomina", {"held": {"nom_pens"}}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("rule_id", "code", "ok", "blocked"), CASES)
def test_each_rule_passes_and_blocks(
    rule_id: str, code: str, ok: dict[str, Any], blocked: dict[str, Any]
) -> None:
    good = one(code, ctx(**ok))
    assert [o.product_code for o in good.offers] == [code], good
    assert rule_id in good.offers[0].rules_passed
    bad = one(code, ctx(**blocked))
    assert code not in [o.product_code for o in bad.offers]
    assert rule_id in bad.rejected[code]


def test_client_level_rules_give_no_contact_reason() -> None:
    assert one("cco_fin", ctx(marketing_consent=False)).no_contact_reason == "NO_MARKETING_CONSENT"
    assert one("cco_fin", ctx(contact_opt_out=True)).no_contact_reason == "CONTACT_OPT_OUT"
    capped = ctx(recent_contacts=contacts("recibo", [1, 2, 3, 4]), life_events={"travel"})
    assert one("cco_fin", capped).no_contact_reason == "CONTACT_CAP_REACHED"
    # Four offers of one notification are one contact.
    same_time = tuple(Contact(c, NOW - timedelta(days=1)) for c in ("recibo", "dela_fin", "valo_fin", "x"))
    assert one("cco_fin", ctx(recent_contacts=same_time)).offers


def test_partner_offers_for_adults_only() -> None:
    adult = decide(ctx(life_events={"car_purchase"}), [], CAT, RULES, random.Random(0))
    assert [o.product_code for o in adult.offers] == ["partner_auto"]
    assert "LIFE_EVENT_CAR_PURCHASE" in adult.offers[0].reason_codes
    minor = decide(ctx(age=16, life_events={"car_purchase"}), [], CAT, RULES, random.Random(0))
    assert not minor.offers and "partner_adults" in minor.rejected["partner_auto"]


@pytest.mark.parametrize(("p_take", "uplift"), [(0.6, 0.1), (0.1, 0.001)])
def test_sure_thing_is_replaced_by_partner(p_take: float, uplift: float) -> None:
    d = decide(ctx(), [Candidate("pres_fin", p_take, uplift, top_reasons=(("op_auto", 0.4),))], CAT, RULES)
    assert d.rejected["pres_fin"] == ["sure_thing"]
    assert [o.product_code for o in d.offers] == ["partner_auto"]
    assert "SURE_THING_REPLACED" in d.offers[0].reason_codes
    assert d.offers[0].reasons == [("op_auto", 0.4)]
    assert d.offers[0].reason_products == ("pres_fin",)  # whose reasons explain it (not stored)
    # The stored/served form is the dataclass's fields, as dataclasses.asdict gives them, less
    # reason_products.
    stored = dataclasses.asdict(d.offers[0])
    del stored["reason_products"]
    assert d.offers[0].as_dict() == stored
    assert one("pres_fin", ctx(), 0.1, 0.1).offers[0].product_code == "pres_fin"


def test_sleeping_dogs() -> None:
    cands = [Candidate("cco_fin", 0.05, -0.02), Candidate("dela_fin", 0.05, -0.01)]
    d = decide(ctx(life_events={"travel"}), cands, CAT, RULES, random.Random(0))
    assert not d.offers and d.no_contact_reason == "SLEEPING_DOG"
    assert d.rejected["cco_fin"] == ["sleeping_dog"]
    mixed = decide(ctx(), [*cands, Candidate("recibo", 0.05, 0.02)], CAT, RULES, random.Random(0))
    assert [o.product_code for o in mixed.offers] == ["recibo"]


def test_uplift_unknown_falls_back_to_p_take() -> None:
    o = one("dela_fin", ctx(), 0.1, None).offers[0]
    assert o.expected_value == pytest.approx(0.1 * RULES.value(CAT["dela_fin"]))
    assert "UPLIFT_UNKNOWN_P_TAKE_USED" in o.reason_codes


def test_diversity_across_categories() -> None:
    scores = [("cco_fin", 0.2), ("ecue_fin", 0.2), ("ctop_fin", 0.2), ("dela_fin", 0.01), ("valo_fin", 0.01)]
    cands = [Candidate(c, 0.05, u) for c, u in scores]
    rules = dataclasses.replace(RULES, exploration_epsilon=0.0)
    d = decide(ctx(), cands, CAT, rules)
    assert [o.category for o in d.offers] == ["accounts", "investments", "deposits"]
    assert [o.rank for o in d.offers] == [1, 2, 3]
    assert d.offers[1].reason_codes[0] == "DIVERSITY_ALTERNATIVE"
    # Only accounts qualify: same-category alternatives, never two conflicting ones.
    accounts = [Candidate(c, 0.05, 0.1) for c in ("ctop_fin", "ctpp_fin", "ctma_fin", "cco_fin")]
    d = decide(ctx(), accounts, CAT, rules)
    assert [o.product_code for o in d.offers] == ["ctma_fin", "cco_fin"]  # ctpp, ctop conflict with ctma
    assert d.offers[1].reason_codes[0] == "SAME_CATEGORY_ALTERNATIVE"


def test_exploration_propensity_math() -> None:
    cands = [Candidate(c, 0.05, u) for c, u in [("cco_fin", 0.2), ("dela_fin", 0.1), ("recibo", 0.05)]]
    eps, n = 0.5, 3
    rules = dataclasses.replace(RULES, exploration_epsilon=eps)
    best = decide(ctx(), cands, CAT, dataclasses.replace(RULES, exploration_epsilon=0.0)).offers[0]
    assert best.product_code == "dela_fin" and best.propensity == 1.0 and not best.exploration
    tops: Counter[str] = Counter()
    for seed in range(3000):
        rng: Any = random.Random(seed) if seed % 2 else np.random.default_rng(seed)
        top = decide(ctx(), cands, CAT, rules, rng).offers[0]
        tops[top.product_code] += 1
        want = 1 - eps + eps / n if top.product_code == "dela_fin" else eps / n
        assert top.propensity == pytest.approx(want)
        assert top.exploration == ("EXPLORATION" in top.reason_codes)
    assert tops["dela_fin"] / 3000 == pytest.approx(1 - eps + eps / n, abs=0.03)
    # Exploration only ever picks eligible products.
    always = dataclasses.replace(RULES, exploration_epsilon=1.0)
    for seed in range(50):
        d = decide(ctx(held={"dela_fin"}), cands, CAT, always, random.Random(seed))
        assert d.offers[0].product_code in {"cco_fin", "recibo"}
        assert d.offers[0].propensity == pytest.approx(0.5)


def test_rules_file_validation() -> None:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert set(RULE_IDS) == {r.id for r in RULES.rules}
    bad = {
        "rule.id": text.replace('id = "residency"', 'id = "residence"'),
        "unknown products": text.replace(
            '["hip_fin", "pres_fin", "tjcr_fin"', '["hip_fin", "nope_fin", "tjcr_fin"'
        ),
        "debt_burden'.max_ratio": text.replace("max_ratio = 0.4", "max_ratio = -1"),
        "contact_cap'.window_days": text.replace("window_days = 30", "window_days = 2.5"),
        "values.nope_fin": text.replace("default = 50.0", "default = 50.0\nnope_fin = 1"),
        "missing rules": "[[rule]]".join(b for b in text.split("[[rule]]") if 'id = "requires"' not in b),
    }
    for field, broken in bad.items():
        with pytest.raises(ValueError, match=field):
            parse_rules(broken, CAT)


def test_explain_reason_covers_codes_and_rules() -> None:
    for code in [*REASON_TEXTS, *RULE_IDS]:
        assert explain_reason(code, "ru") and explain_reason(code, "en")
    assert "car" in explain_reason("LIFE_EVENT_CAR_PURCHASE", "en")
    assert all(f"LIFE_EVENT_{e.upper()}" in REASON_TEXTS for e in LIFE_EVENTS)


# ---- property test: an independent checker, written from rules.toml and the catalog ----

R = {r["id"]: r for r in RAW["rule"]}


def _concerns(rule_id: str, code: str) -> bool:
    spec, sel = CAT[code], R[rule_id]["products"]
    if isinstance(sel, list):
        return code in sel
    return {"all": True, "bank": spec.kind == "bank", "partner": spec.kind == "partner",
            "credit": spec.is_credit}[sel]  # fmt: skip


def _payments(codes: set[str]) -> float:
    return sum(float(CAT[c].monthly_payment or 0) for c in codes if c in CAT.codes and CAT[c].is_credit)


def _clash(a: str, b: str) -> bool:
    return b in CAT[a].conflicts or a in CAT[b].conflicts


def _debt_ok(c: ClientContext, offered: set[str]) -> bool:
    if c.income is None or c.income <= 0:
        return False
    return _payments(set(c.held) | offered) * 12 <= R["debt_burden"]["max_ratio"] * c.income


def checker(c: ClientContext, code: str, cand: Candidate | None) -> set[str]:
    """Every rule this product breaks for this client, computed from scratch."""
    spec, bad = CAT[code], set()
    window = {x.shown_at for x in c.recent_contacts if (c.now - x.shown_at).total_seconds() < 30 * 86400}
    recent = {(x.product_code, x.response) for x in c.recent_contacts
              if (c.now - x.shown_at).total_seconds() < {"decline": 60, "dismiss": 14}.get(
                  x.response or "", 0) * 86400}  # fmt: skip
    tests = {
        "marketing_consent": c.marketing_consent,
        "contact_opt_out": not c.contact_opt_out,
        "contact_cap": len(window) < 4,
        "age_limits": spec.min_age <= c.age <= (spec.max_age if spec.max_age is not None else 999),
        "residency": c.is_resident,
        "segment": c.segment in ("top", "individual"),
        "credit_adults": c.age >= 18,
        "debt_burden": _debt_ok(c, {code}),
        "cooling_off_decline": (code, "decline") not in recent,
        "cooling_off_dismiss": (code, "dismiss") not in recent,
        "already_held": code not in c.held,
        "conflicts": not any(_clash(code, h) for h in c.held if h in CAT.codes),
        "requires": set(spec.requires) <= set(c.held),
        "partner_adults": c.age >= 18,
        "sleeping_dog": cand is None or cand.uplift is None or cand.uplift >= 0,
        "sure_thing": cand is None or not (cand.p_take > 0.3 or (
            cand.uplift is not None and 0 <= cand.uplift < 0.005 and cand.p_take > cand.uplift)),
    }  # fmt: skip
    for rule_id, ok in tests.items():
        if _concerns(rule_id, code) and not ok:
            bad.add(rule_id)
    return bad


def offerable(c: ClientContext, cands: dict[str, Candidate]) -> set[str]:
    """Products the checker thinks may be offered (rules pass, positive value, partner triggered)."""
    out = {k for k, v in cands.items() if not checker(c, k, v) and
           ((v.uplift is None and v.p_take > 0) or (v.uplift is not None and v.uplift > 0))}  # fmt: skip
    sure = {k for k, v in cands.items() if checker(c, k, v) == {"sure_thing"}}
    for p in CAT.partner:
        triggered = set(p.complements) & sure or set(p.life_events) & set(c.life_events)
        if triggered and not checker(c, p.code, None):
            out.add(p.code)
    return out


BANK = list(CAT.bank_codes)
contact_st = st.builds(
    lambda code, days, resp: Contact(code, NOW - timedelta(days=days), resp),
    st.sampled_from(CAT.codes), st.floats(-1, 90), st.sampled_from([None, "accept", "decline", "dismiss"]),
)  # fmt: skip
cand_st = st.builds(
    Candidate, st.sampled_from(BANK), st.floats(0, 1),
    st.one_of(st.none(), st.floats(-0.2, 0.3), st.sampled_from([0.0, 0.004, -0.001])),
)  # fmt: skip
ctx_st = st.builds(
    ctx, age=st.integers(0, 90), is_resident=st.booleans(),
    segment=st.sampled_from([*SEGMENTS, None]),
    income=st.one_of(st.none(), st.floats(0, 200_000), st.sampled_from([5e-324, 15_000.0, 30_000.0])),
    marketing_consent=st.sampled_from([True, True, True, False]),
    contact_opt_out=st.sampled_from([False, False, False, True]),
    held=st.frozensets(st.sampled_from(BANK), max_size=6),
    recent_contacts=st.lists(contact_st, max_size=6).map(tuple),
    life_events=st.frozensets(st.sampled_from(LIFE_EVENTS)),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=ctx_st,
    cand_list=st.lists(cand_st, max_size=12, unique_by=lambda x: x.product_code),
    eps=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
    k=st.integers(1, 4),
    seed=st.integers(0, 2**32),
)
def test_no_served_offer_breaks_a_rule(
    c: ClientContext, cand_list: list[Candidate], eps: float, k: int, seed: int
) -> None:
    # min_expected_value has its own test; here every positive value is offerable.
    rules = dataclasses.replace(RULES, exploration_epsilon=eps, max_offers=k, min_expected_value=0.0)
    d = decide(c, cand_list, CAT, rules, random.Random(seed))
    cands = {x.product_code: x for x in cand_list}
    for code, cand in cands.items():  # the engine rejects exactly what the checker finds
        assert set(d.rejected.get(code, [])) == checker(c, code, cand), code
    pool = offerable(c, cands)
    served = [o.product_code for o in d.offers]
    assert len(served) <= k and [o.rank for o in d.offers] == list(range(1, len(served) + 1))
    if cands and all(x.uplift is not None and x.uplift < 0 for x in cands.values()):
        assert not served and d.no_contact_reason in (
            "SLEEPING_DOG",
            "NO_MARKETING_CONSENT",
            "CONTACT_OPT_OUT",
            "CONTACT_CAP_REACHED",
        )
    assert (d.no_contact_reason is None) == bool(served) == bool(pool and d.no_contact_reason is None)
    for o in d.offers:
        assert o.product_code in pool, o
        assert not checker(c, o.product_code, cands.get(o.product_code))
        assert 0 < o.propensity <= 1
    assert not any(_clash(a, b) for a in served for b in served if a != b)
    credit = {s for s in served if CAT[s].is_credit}
    assert not credit or _debt_ok(c, credit)
    cats = Counter(o.category for o in d.offers)
    if any(n > 1 for n in cats.values()):  # only when no fresh category could be added
        for code in pool - set(served):
            if CAT[code].category not in cats:
                fits = not any(_clash(code, s) for s in served) and (
                    not CAT[code].is_credit or _debt_ok(c, credit | {code})
                )
                assert not fits, (code, served)
    if pool and d.offers and eps == 0.0:
        assert d.offers[0].propensity == 1.0


def test_offers_worth_less_than_the_minimum_are_not_served() -> None:
    rules = dataclasses.replace(RULES, exploration_epsilon=0.0, min_expected_value=1.0)
    c = ctx(age=40, income=60_000.0)
    worth = RULES.value(CAT["dela_fin"])
    cands = [
        Candidate("dela_fin", p_take=0.01, uplift=2.0 / worth),  # expected value 2 EUR
        Candidate("valo_fin", p_take=0.01, uplift=0.1 / RULES.value(CAT["valo_fin"])),  # 0.1 EUR
    ]
    served = [o.product_code for o in decide(c, cands, CAT, rules, random.Random(0)).offers]
    assert served == ["dela_fin"]


def test_memoised_conflicts_and_debt_burden_answer_as_the_plain_functions() -> None:
    """ContextFacts collects a client's held conflicts and instalments once; per product it must
    answer as conflicts_with and within_debt_burden over the held products do."""
    from core.decision.eligibility import ContextFacts, conflicts_with, within_debt_burden

    # The catalog declares each conflict on both sides; a conflict declared on one side only
    # must count all the same.
    one_sided = Catalog(
        tuple(
            dataclasses.replace(p, conflicts=tuple(c for c in p.conflicts if p.code < c))
            for p in CAT.products
        )
    )
    rng = random.Random(3)
    codes = [p.code for p in CAT.bank]
    for catalog in (CAT, one_sided):
        for _ in range(200):
            held = frozenset(rng.sample(codes, rng.randint(0, 6)))
            income = rng.choice([None, 0.0, 9_000.0, 30_000.0, 120_000.0])
            c = ctx(held=held, income=income)
            facts = ContextFacts(c)
            for spec in catalog.products:
                want = conflicts_with(spec, held, catalog)
                assert facts.conflicts(spec, catalog) == want, (spec.code, held)
                for ratio in (0.1, 0.4):
                    want = within_debt_burden(c, [spec.code], catalog, ratio)
                    assert facts.within_debt_burden(spec, catalog, ratio) == want, (spec.code, held, income)


def test_shared_context_facts_answer_as_fresh_evaluation() -> None:
    """decide() shares one ContextFacts across a client's products (contact counts, recent
    responses and client-only rules memoised): every product's (passed, failed) must be the
    one a fresh evaluation gives, whichever product asked first."""
    from core.decision.eligibility import ContextFacts, evaluate

    history = (
        contacts("cco_fin", [1, 3], "decline")
        + contacts("tjcr_fin", [2, 40], "dismiss")
        + contacts("recibo", [0.5, 5, 9])
    )
    for kw in ({}, {"recent_contacts": history}, {"recent_contacts": history[:2], "age": 17}):
        c = ctx(**kw)
        facts = ContextFacts(c)
        for spec in [*CAT.bank, *CAT.partner]:
            cand = Candidate(spec.code, 0.05, 0.05) if spec.kind == "bank" else None
            assert evaluate(spec, c, cand, CAT, RULES, facts) == evaluate(spec, c, cand, CAT, RULES)
        with pytest.raises(ValueError, match="another context"):
            evaluate(CAT.bank[0], ctx(), None, CAT, RULES, facts)
