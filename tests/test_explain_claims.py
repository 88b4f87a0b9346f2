"""Every word true: the claims an explanation makes about a client hold for that client.

The population test runs a simulated population through the explainer's real inputs (the
feature rows the scorer builds, the life events it detects, the ScoredClient the service
turns into a request) with adversarial model reasons (every feature, random signs; every
life-event code), then reads each text back and checks every claim it makes against the
client's *raw* data (holdings, product events, operations of the bundle), computed here
independently of core.explain.facts. Pure logic otherwise: claims, recogniser, guardrail.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.catalog import load_catalog
from core.data.simulator import simulate
from core.decision import ClientContext
from core.decision.reasons import explain_reason, life_event_code
from core.domain import LIFE_EVENTS
from core.explain import ClientFacts, ExplanationRequest, TemplateExplainer, check, client_facts, render
from core.explain import facts as fx
from core.explain.claim_check import claims_in, false_claims
from core.explain.claims import EVENT_CLAIMS, all_claims, had_claim, holds_claim
from core.explain.facts import history_facts
from core.explain.feature_claims import feature_claims
from core.features import build_features, from_bundle
from core.features.life_events import detect_life_events
from core.services.explanations import explanation_request
from core.services.scored import ScoredClient

NOBODY = ClientFacts("35-44", "middle")


def request(
    facts: ClientFacts,
    features: tuple[tuple[str, float], ...],
    language: str = "ru",
    code: str = "cco_fin",
    codes: tuple[str, ...] = (),
) -> ExplanationRequest:
    names = load_catalog()[code]
    return ExplanationRequest(
        code, names.name_en if language == "en" else names.name_ru, "bank", language,  # type: ignore[arg-type]
        codes, (), features, facts,
    )  # fmt: skip


# --- the reported cases --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "en"])
def test_holding_feature_is_no_claim_unless_held(language: str) -> None:
    """The home-page bug: an e-account and credit card holder offered a current account
    'because you already have a current account' (the feature read 0 and still raised it)."""
    feats = (("hold_cco_fin_l0", 0.8), ("hold_ecue_fin_l0", 0.5), ("age", 0.1))
    holder = replace(NOBODY, held=("ecue_fin", "tjcr_fin"))
    text = render(request(holder, feats, language))
    assert "у вас уже есть Текущий счёт" not in text and "already use our Current account" not in text
    assert {c.id for c in claims_in(text, language)} >= {"holds:ecue_fin"}  # the true one is said
    assert false_claims(text, language, holder) == []
    # The same feature for a client who does hold one is a true reason.
    text = render(request(replace(NOBODY, held=("cco_fin",)), feats, language, code="tjcr_fin"))
    assert "holds:cco_fin" in {c.id for c in claims_in(text, language)}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_new_client_without_products_hears_no_product_claims(language: str) -> None:
    new = replace(NOBODY, flags=("new_client",))
    feats = (("n_held_l0", 0.9), ("hold_cco_fin_l0", 0.8), ("hold_nom_pens_l6", 0.7), ("is_new", 0.6))
    text = render(request(new, feats, language, code="nom_pens"))
    ids = {c.id for c in claims_in(text, language)}
    assert not any(i.startswith(("holds:", "had:")) or i == "several_products" for i in ids), text
    assert "new_client" in ids  # the one true reason among them


def test_lagged_holding_says_used_to_have_only_when_true() -> None:
    feats = (("hold_tjcr_fin_l6", 0.9),)
    past = replace(NOBODY, held_before=("tjcr_fin",))
    assert "had:tjcr_fin" in {c.id for c in claims_in(render(request(past, feats, "en")), "en")}
    still = replace(NOBODY, held=("tjcr_fin",))
    assert "holds:tjcr_fin" in {c.id for c in claims_in(render(request(still, feats, "en")), "en")}
    ids = {c.id for c in claims_in(render(request(NOBODY, feats, "en")), "en")}
    assert not any(i.endswith(":tjcr_fin") for i in ids)


def test_a_feature_that_lowers_the_score_is_no_reason() -> None:
    facts = replace(NOBODY, frequent_categories=("cash",), held=("cco_fin", "tjcr_fin"))
    feats = (("op_cash_cnt_3m", -0.9), ("n_held_l0", -0.5), ("hold_cco_fin_l0", -0.4))
    ids = {c.id for c in claims_in(render(request(facts, feats, "en", code="ecue_fin")), "en")}
    assert not ids & {"category:cash", "several_products", "holds:cco_fin"}
    feats = tuple((n, -v) for n, v in feats)  # the same, pushing up: now they are reasons
    ids = {c.id for c in claims_in(render(request(facts, feats, "en", code="ecue_fin")), "en")}
    assert ids & {"category:cash", "several_products", "holds:cco_fin"}


def test_life_event_codes_need_the_event() -> None:
    codes = tuple(life_event_code(e) for e in LIFE_EVENTS)
    for language in ("ru", "en"):
        text = render(request(NOBODY, (), language, codes=codes))
        assert not any(c.id.startswith("event:") for c in claims_in(text, language)), text
        car = replace(NOBODY, life_events=("car_purchase",))
        assert "event:car_purchase" in {
            c.id for c in claims_in(render(request(car, (), language, codes=codes)), language)
        }


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_claim_phrase_is_recognised(language: str) -> None:
    """The recogniser reads back every phrase the template can say (else the checks below
    would pass by not seeing the claims)."""
    for claim in all_claims():
        assert claim.id in {c.id for c in claims_in(claim.text(language), language)}, claim.id  # type: ignore[arg-type]


def test_feature_claims_cover_the_model_features() -> None:
    from core.features import feature_columns

    products = load_catalog().bank_codes
    for name in feature_columns(products, with_cluster=True):
        claims = feature_claims(name)
        assert claims is None or claims, name
    assert feature_claims("hold_cco_fin_l0") == (holds_claim("cco_fin"),)
    assert feature_claims("hold_cco_fin_l12") == (had_claim("cco_fin"), holds_claim("cco_fin"))


# --- the guardrail rejects false claims, and the explainer falls back --------------------------


@pytest.mark.parametrize(
    ("answer", "language", "false_id"),
    [
        ("Credit card suits you: you already have a Current account with us.", "en", "holds:cco_fin"),
        ("Кредитная карта вам подойдёт, ведь у вас уже есть Текущий счёт.", "ru", "holds:cco_fin"),
        ("Кредитная карта дополнит ваш текущий счёт.", "ru", "holds:cco_fin"),
        ("Кредитная карта подойдёт: вы уже пользуетесь Ипотекой.", "ru", "holds:hip_fin"),
        ("Credit card fits you because you used to have our Mortgage.", "en", "had:hip_fin"),
        ("Credit card is handy after your large car expenses lately.", "en", "event:car_purchase"),
        ("Кредитная карта пригодится: у вас были крупные траты на машину.", "ru", "event:car_purchase"),
        ("Кредитная карта пригодится: ваши расходы на детей заметно выросли.", "ru", "event:child"),
        ("Credit card helps now that your spending on children has grown.", "en", "event:child"),
        ("Credit card fits you: your salary went up recently.", "en", "event:salary_rise"),
        ("Кредитная карта пригодится после крупных расходов на квартиру.", "ru", "event:relocation"),
        ("Credit card suits you: you spent a lot on travel this month.", "en", "event:travel"),
        ("Credit card suits you: you use several of our products.", "en", "several_products"),
    ],
)
def test_guardrail_rejects_a_false_claim(answer: str, language: str, false_id: str) -> None:
    codes = {"holds:": "held", "had:": "held_before"}
    req = request(NOBODY, (), language, code="tjcr_fin")
    problem = check(answer, req)
    assert problem is not None and problem.startswith("false claim") and false_id in problem
    # The same answer for a client it is true of passes.
    kind, _, value = false_id.partition(":")
    field = codes.get(kind + ":")
    if field:
        facts = replace(NOBODY, **{field: (value,)})
    elif kind == "event":
        facts = replace(NOBODY, life_events=(value,))
    else:
        facts = replace(NOBODY, held=("cco_fin", "ecue_fin"))
    assert check(answer, replace(req, facts=facts)) is None


@pytest.mark.parametrize(
    ("answer", "language", "event"),
    [
        ("Credit card is handy now that you recently bought a new car.", "en", "car_purchase"),
        ("Кредитная карта пригодится: вы недавно купили машину.", "ru", "car_purchase"),
        ("Кредитная карта пригодится: в семье появился малыш.", "ru", "child"),
        ("Congratulations on your newborn! A Credit card helps.", "en", "child"),
        ("Кредитная карта пригодится после переезда.", "ru", "relocation"),
        ("Credit card makes settling into your new home easier.", "en", "relocation"),
    ],
)
def test_guardrail_rejects_what_operations_cannot_show(answer: str, language: str, event: str) -> None:
    """A car bought, a child born, a home moved to: the data shows the payments, not these,
    so a text that says them is rejected even for a client with the life event detected."""
    req = request(replace(NOBODY, life_events=(event,)), (), language, code="tjcr_fin")
    problem = check(answer, req)
    assert problem is not None and f"unobserved:{event}" in problem


def test_event_phrases_state_only_what_the_operations_show() -> None:
    """Every text the product says about a life event (the template's phrase, the reason
    text served with an offer) is recognised as the event's own claim and as nothing the
    operations cannot show."""

    for event in LIFE_EVENTS:
        for language in ("ru", "en"):
            for text in (
                EVENT_CLAIMS[event].text(language),
                explain_reason(life_event_code(event), language),
            ):
                ids = {c.id for c in claims_in(text, language)}  # type: ignore[arg-type]
                assert f"event:{event}" in ids, text
                assert not {i for i in ids if i.startswith("unobserved:")}, text


class _Lying:
    """An LLM stand-in that answers with a fixed text (the guardrail is pure logic)."""

    source = "openai"

    def __init__(self, text: str) -> None:
        self.text = text

    async def explain(self, req: ExplanationRequest) -> Any:
        from core.explain import Explanation

        return Explanation(self.text, "openai")


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_false_llm_text_falls_back_to_the_checked_template(language: str) -> None:
    from core.explain import GuardedExplainer

    lie = {
        "en": "Credit card suits you, as you already have a Current account with us.",
        "ru": "Кредитная карта вам подойдёт: у вас уже есть Текущий счёт.",
    }[language]
    holder = replace(NOBODY, held=("ecue_fin",), life_events=("travel",))
    req = request(holder, (("hold_cco_fin_l0", 0.9), ("hold_ecue_fin_l0", 0.3)), language, code="tjcr_fin")
    result = await GuardedExplainer(_Lying(lie), TemplateExplainer(), timeout_s=30).explain(req)
    assert result.source == "template"
    assert result.fallback_reason is not None and "holds:cco_fin" in result.fallback_reason
    assert result.text == render(req) and false_claims(result.text, language, holder) == []  # type: ignore[arg-type]
    honest = lie.replace("Current account", "e-account").replace("Текущий счёт", "Электронный счёт")
    result = await GuardedExplainer(_Lying(honest), TemplateExplainer(), timeout_s=30).explain(req)
    assert result.source == "openai" and result.text == honest


# --- a whole simulated population, claims checked against its raw data ----------------------


def _month(ts: pd.Series) -> np.ndarray:
    t = pd.to_datetime(ts, utc=True) if getattr(ts.dt, "tz", None) is not None else pd.to_datetime(ts)
    return (t.dt.year * 12 + t.dt.month - 1).to_numpy()


def _raw_truth(bundle: Any, cutoff: pd.Timestamp) -> dict[int, dict[str, Any]]:
    """Per client, straight from the bundle's tables: what the claims may rest on."""
    m = cutoff.year * 12 + cutoff.month - 1
    hold = bundle.holdings.assign(mi=_month(bundle.holdings["month"]))
    ev = bundle.product_events.assign(mi=_month(bundle.product_events["month"]))
    ops = bundle.operations.assign(mi=_month(bundle.operations["occurred_at"]))
    # Serving reads features live: operations written after the serving month (other tests of
    # the session add some "now") count as this month's activity (load_frames_db(live=True)).
    ops = ops.assign(eur=ops["amount_cents"] / 100.0, back=(m - ops["mi"]).clip(lower=0))
    out: dict[int, dict[str, Any]] = {}
    for cid, client in bundle.clients.set_index("id").iterrows():
        out[int(cid)] = {
            "held": set(), "past": set(), "counts": {}, "abs": {}, "inflow": {}, "events": set(),
            "adds": 0, "changes": 0, "seniority": float(client["seniority_months"]),
            "new": (m - _month(pd.Series([client["first_contract_date"]]))[0]) < 6,
        }  # fmt: skip
    for r in hold[(hold["mi"] <= m) & (hold["mi"] >= m - 12)].itertuples():
        out[r.client_id]["past" if r.mi < m else "held"].add(r.product_code)
    for r in ev[(ev["mi"] <= m) & (ev["mi"] > m - 3)].itertuples():
        out[r.client_id]["changes"] += 1
        out[r.client_id]["adds"] += r.kind == "add"
    recent = ops[(ops["back"] >= 0) & (ops["back"] < 6)]
    recent = recent.assign(abs=recent["eur"].abs(), inflow=recent["eur"].clip(lower=0))
    cells = recent.groupby(["client_id", "category", "back"], observed=True).agg(
        n=("eur", "size"), abs=("abs", "sum"), inflow=("inflow", "sum")
    )
    for (cid, cat, back), n, absum, inflow in cells.itertuples(name=None):
        t = out[int(cid)]
        t["counts"][(cat, back)] = int(n)
        t["abs"][(cat, back)] = float(absum)
        t["inflow"][(cat, back)] = float(inflow)
    for t in out.values():
        t["past"] -= t["held"]

        def total(key: str, cat: str, months: range, t: dict[str, Any] = t) -> float:
            return sum(t[key].get((cat, b), 0) for b in months)

        def trend(key: str, cat: str, total: Any = total) -> float:
            return math.log1p(total(key, cat, range(1))) - math.log1p(total(key, cat, range(1, 4)) / 3)

        t["frequent"] = {
            c for c in {k[0] for k in t["counts"]} if total("counts", c, range(3)) >= fx.FREQUENT_OPS_3M
        }
        t["events"] = {
            e
            for e, hit in {
                "car_purchase": total("abs", "auto", range(3)) >= 5_000,
                "relocation": total("abs", "home", range(3)) >= 1_500,
                "travel": total("abs", "travel", range(1)) >= 500,
                "child": trend("abs", "kids") > 0.5 and total("counts", "kids", range(3)) >= 3,
                "salary_rise": trend("inflow", "salary") >= math.log(1.1),
            }.items()
            if hit
        }
        t["salary_months"] = sum(total("inflow", "salary", range(b, b + 1)) > 0 for b in range(6))
        t["ops_1m"] = sum(n for (_, b), n in t["counts"].items() if b == 0)
    return out


def _true(claim_id: str, t: dict[str, Any]) -> bool:
    """Whether a claim holds by the raw data (the test's own reading of each claim)."""
    kind, _, arg = claim_id.partition(":")
    checks = {
        "holds": lambda: arg in t["held"],
        "had": lambda: arg in t["past"],
        "event": lambda: arg in t["events"],
        "category": lambda: arg in t["frequent"],
        "unobserved": lambda: False,  # a car bought, a child born: never in the data
        "several_products": lambda: len(t["held"]) >= 2,
        "complements": lambda: len(t["held"]) >= 1,
        "salary_regular": lambda: t["salary_months"] >= fx.SALARY_REGULAR_MONTHS,
        "active": lambda: t["ops_1m"] >= fx.ACTIVE_OPS_1M,
        "new_products": lambda: t["adds"] > 0,
        "products_changed": lambda: t["changes"] > 0,
        "new_client": lambda: t["new"],
        "long_tenure": lambda: t["seniority"] >= fx.LONG_TENURE_MONTHS,
    }
    return checks[kind]() if kind in checks else True  # age/income/segment/season: about others


Population = tuple[Any, pd.DataFrame, pd.Timestamp, dict[int, dict[str, Any]]]


@pytest.fixture(scope="module")
def population() -> Population:
    """300 simulated clients over 8 months: the bundle, features at the last month, raw truth."""
    bundle = next(simulate(300, 8, seed=23, chunk_size=300))
    cutoff = pd.Timestamp(bundle.holdings["month"].max())
    X = build_features(from_bundle(bundle), cutoff, products=load_catalog().bank_codes)
    return bundle, X, cutoff, _raw_truth(bundle, cutoff)


async def test_every_claim_of_a_population_is_true(population: Population) -> None:
    bundle, X, _, truth = population
    catalog = load_catalog()
    events = detect_life_events(X)
    histories = history_facts(X, catalog.bank_codes)
    clients = bundle.clients.set_index("id")
    features = [c for c in X.columns if c not in ("client_id", "cutoff")]
    codes = ("BEST_OFFER", *(life_event_code(e) for e in LIFE_EVENTS))  # every event, had or not
    rng = random.Random(5)
    explainer = TemplateExplainer()
    seen: dict[str, int] = {}
    texts = 0
    for i, cid in enumerate(int(c) for c in X["client_id"]):
        row, t = clients.loc[cid], truth[cid]
        scored = ScoredClient(
            client_id=cid,
            ctx=ClientContext(
                cid, int(row["age"]), True, row["segment"], float(row["income"]), True, False,
                frozenset(t["held"]), datetime.now(UTC), life_events=frozenset(events[i]),
            ),
            candidates=[], life_events=sorted(events[i]), hybrid_only=[], recent_categories=(),
            income=float(row["income"]), history=histories[i],
        )  # fmt: skip
        for language in ("ru", "en"):
            scored.ctx = replace(scored.ctx, language=language)
            for product in rng.sample(catalog.products, 3):
                offer = {
                    "product_code": product.code,
                    "name": product.name_en if language == "en" else product.name_ru,
                    "kind": product.kind,
                    "reason_codes": list(codes),
                    "reason_texts": [],
                    # Adversarial model reasons: every feature, half of them pushing up.
                    "reasons": [(f, rng.gauss(0, 1)) for f in features],
                }
                req = explanation_request(scored, offer)
                text = (await explainer.explain(req)).text
                texts += 1
                assert check(text, req) is None, text
                for claim in claims_in(text, language):  # type: ignore[arg-type]
                    assert _true(claim.id, t), (cid, claim.id, text)
                    seen[claim.id.split(":")[0]] = seen.get(claim.id.split(":")[0], 0) + 1
    assert texts == len(X) * 2 * 3
    # Not vacuous: the population gave every kind of client claim a chance to be said (true).
    for kind in ("holds", "had", "event", "category", "several_products"):
        assert seen.get(kind, 0) > 0, (kind, seen)


def test_the_population_check_catches_the_old_false_claims(population: Population) -> None:
    """Read naively (every holdings feature a holding), the same population would have been
    told false things: the raw-data check sees them, so the test above could fail."""
    _, X, _, truth = population
    catalog = load_catalog()
    texts = {
        code: f"Мы выбрали его, потому что у вас уже есть {catalog[code].name_ru}."
        for code in catalog.bank_codes
    }
    for code, text in texts.items():
        assert {c.id for c in claims_in(text, "ru")} == {f"holds:{code}"}
    false, rng = 0, random.Random(3)
    for cid in (int(c) for c in X["client_id"]):
        facts = client_facts(40, 1.0, held=truth[cid]["held"])
        for code in sorted(truth[cid]["held"]) + rng.sample(sorted(texts), 3):
            text = texts[code]
            said_false = not _true(f"holds:{code}", truth[cid])
            false += said_false
            assert bool(false_claims(text, "ru", facts)) == said_false
    assert false > len(X)  # most clients hold few of the products


# --- the serving path: a trained model set on a database, the real scorer and decision layer --


async def _db_bundle(conn: Any, ids: list[int]) -> Any:
    """The clients' rows from the database in the simulator's bundle shape (for _raw_truth)."""
    from types import SimpleNamespace

    async def frame(sql: str) -> pd.DataFrame:
        return pd.DataFrame([dict(r) for r in await conn.fetch(sql, ids)])

    clients = await frame("SELECT id, seniority_months, first_contract_date FROM client WHERE id = ANY($1)")
    clients["first_contract_date"] = pd.to_datetime(clients["first_contract_date"])
    holdings = await frame("SELECT client_id, month, product_code FROM holding WHERE client_id = ANY($1)")
    events = await frame(
        "SELECT client_id, month, product_code, kind FROM product_event WHERE client_id = ANY($1)"
    )
    ops = await frame(
        "SELECT client_id, occurred_at, (amount * 100)::bigint AS amount_cents, category::text AS category "
        "FROM operation WHERE client_id = ANY($1)"
    )
    for f in (holdings, events):
        f["month"] = pd.to_datetime(f["month"])
    return SimpleNamespace(clients=clients, holdings=holdings, product_events=events, operations=ops)


async def test_served_explanations_are_true_for_database_clients(trained_db: str) -> None:
    """Through score_clients and decide_and_explain (the worker's, the batch job's and the API's
    path): every claim in every served explanation holds by the client's rows in the database,
    a newly registered client without products included."""
    import asyncpg

    from core.decision import load_rules
    from core.services.commands import register_client, serving_month, validate_questionnaire
    from core.services.explanations import decide_and_explain
    from core.services.recommend import score_clients
    from core.services.registry import load_latest

    catalog = load_catalog()
    conn = await asyncpg.connect(trained_db)
    try:
        models = await load_latest(conn)
        assert models is not None
        month = await serving_month(conn, models.serve_cutoff)
        new_id = await register_client(
            conn, validate_questionnaire(age=30, sex="H", segment="individual"), month
        )
        ids = [int(r["id"]) for r in await conn.fetch("SELECT id FROM client ORDER BY id LIMIT 150")]
        now = datetime.now(UTC)
        scored = await score_clients(conn, models, [*ids, new_id], now, catalog)
        truth = _raw_truth(await _db_bundle(conn, [*ids, new_id]), pd.Timestamp(month))
    finally:
        await conn.close()
    assert new_id in scored and not scored[new_id].ctx.held
    rules = load_rules(catalog=catalog)
    said: dict[str, int] = {}
    offers_seen = 0
    for cid, client in sorted(scored.items()):
        for language in ("ru", "en"):
            client.ctx = replace(client.ctx, language=language, marketing_consent=True, contact_opt_out=False)
            _, offers = await decide_and_explain(
                client, catalog, rules, random.Random(cid), TemplateExplainer()
            )
            for offer in offers:
                offers_seen += 1
                # The text in the client's language and the one the app's language switch
                # shows in the other: every claim of both holds.
                texts = {language: offer["explanation"], **offer["translations"]}
                assert set(texts) == {"ru", "en"}
                for lang, text in texts.items():
                    for claim in claims_in(text, lang):
                        assert _true(claim.id, truth[cid]), (cid, claim.id, text)
                        said[claim.id.split(":")[0]] = said.get(claim.id.split(":")[0], 0) + 1
                if cid == new_id:
                    ids_said = {c.id for c in claims_in(offer["explanation"], language)}  # type: ignore[arg-type]
                    assert not any(i.startswith(("holds:", "had:")) for i in ids_said)
                    assert "several_products" not in ids_said
    assert offers_seen >= len(scored)  # the decision layer offered something to most clients
    assert said, "no client claim was made at all: the check saw nothing"


def test_a_new_clause_is_not_read_as_a_held_product() -> None:
    """'you use your account actively and you pay taxes through the bank' (two template
    reasons) claims no tax service held, while a list of held products joined by 'and' is
    still read whole."""
    from core.explain.claim_check import claims_in

    text = "We chose it because you use your account actively and you pay taxes through the bank."
    assert {c.id for c in claims_in(text, "en")} == {"active", "category:taxes"}
    listed = {c.id for c in claims_in("You already have a current account and a credit card.", "en")}
    assert listed == {"holds:cco_fin", "holds:tjcr_fin"}
    ru = "Вы активно пользуетесь счётом и вы платите налоги через банк."
    assert not any(c.id.startswith("holds:") for c in claims_in(ru, "ru"))


def test_history_columns_read_at_once_as_one_by_one() -> None:
    """history_facts reads its ~150 columns in one conversion (core.explain.facts._columns):
    every dtype a feature frame may hold must read as the column-by-column _num reads it."""
    from core.explain.facts import _columns, _num

    X = pd.DataFrame(
        {
            "i": [1, 0, 3],
            "f": [0.5, np.nan, 2.0],
            "b": [True, False, True],
            "ni": pd.array([1, None, 2], dtype="Int64"),
            "s": ["1", "x", None],
        }
    )
    names = ["i", "f", "b", "ni", "s", "absent", "i"]
    got = _columns(X, names)
    assert list(got) == list(dict.fromkeys(names))
    for name in names:
        np.testing.assert_array_equal(got[name], _num(X, name))
