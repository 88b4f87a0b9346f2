"""The built-in explainer: deterministic RU/EN text from reason codes, features and facts.

It is the default (no LLM ships with the project, see DESIGN.md) and the fallback of every
LLM explainer, so it must never fail, never need the network and always produce text that
passes the guardrails: it names the product, has no numbers and no promises, and stays
within MAX_CHARS. The same inputs always give the same text, which keeps notifications
reproducible and testable.

Text shape (1-3 sentences): who offers what; why (up to two concrete reasons: the life
events the decision layer linked to the product, then the model's strongest positive
features, then other life events); optionally one sentence on the role of the offer
(alternative, exploration, partner offer replacing a product the client takes anyway...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from core.decision import reasons as rc
from core.domain import LIFE_EVENTS
from core.explain.types import Explanation, ExplanationRequest, Language

MAX_CHARS = 400
MAX_REASONS = 2

# Client-facing phrases (second person), each usable after "because" / "потому что".
# (ru, en) pairs.
Phrase = tuple[str, str]

EVENT_PHRASES: dict[str, Phrase] = {
    "car_purchase": ("вы недавно купили автомобиль", "you recently bought a car"),
    "child": ("в вашей семье недавно появился ребёнок", "you recently had a child"),
    "relocation": ("вы недавно переехали", "you recently moved home"),
    "salary_rise": ("ваш доход недавно вырос", "your income went up recently"),
    "travel": ("вы много путешествуете", "you travel a lot"),
}

CATEGORY_PHRASES: dict[str, Phrase] = {
    "salary": ("вы получаете зарплату на счёт в нашем банке", "your salary comes to your account with us"),
    "pension": ("вы получаете пенсию на счёт в нашем банке", "your pension comes to your account with us"),
    "transfer": ("вы часто делаете переводы", "you often make transfers"),
    "cash": ("вы часто снимаете наличные", "you often withdraw cash"),
    "groceries": ("вы регулярно покупаете продукты", "you regularly buy groceries"),
    "restaurants": ("вы часто бываете в кафе и ресторанах", "you often eat out"),
    "utilities": ("вы оплачиваете коммунальные услуги", "you pay utility bills"),
    "telecom": ("вы оплачиваете связь и интернет", "you pay for phone and internet"),
    "travel": ("вы часто путешествуете", "you often travel"),
    "auto": ("у вас есть расходы на автомобиль", "you have car expenses"),
    "kids": ("у вас есть расходы на детей", "you spend on children"),
    "health": ("у вас есть расходы на здоровье", "you spend on health"),
    "home": ("у вас есть расходы на дом", "you spend on your home"),
    "education": ("вы платите за обучение", "you pay for education"),
    "entertainment": ("вы тратите на развлечения", "you spend on entertainment"),
    "shopping": ("вы часто делаете покупки", "you shop often"),
    "taxes": ("вы платите налоги через банк", "you pay taxes through the bank"),
    "insurance": ("вы платите за страховку", "you pay for insurance"),
    "investments": ("вы интересуетесь инвестициями", "you invest"),
    "loan_payment": ("вы погашаете кредит", "you repay a loan"),
}

# Plain words for the categories, for prompts ("frequent spending: travel, restaurants").
CATEGORY_WORDS: dict[str, Phrase] = {
    "salary": ("зарплата", "salary"),
    "pension": ("пенсия", "pension"),
    "transfer": ("переводы", "transfers"),
    "cash": ("наличные", "cash"),
    "groceries": ("продукты", "groceries"),
    "restaurants": ("кафе и рестораны", "restaurants"),
    "utilities": ("коммунальные услуги", "utilities"),
    "telecom": ("связь", "phone and internet"),
    "travel": ("путешествия", "travel"),
    "auto": ("автомобиль", "car"),
    "kids": ("дети", "children"),
    "health": ("здоровье", "health"),
    "home": ("дом", "home"),
    "education": ("обучение", "education"),
    "entertainment": ("развлечения", "entertainment"),
    "shopping": ("покупки", "shopping"),
    "taxes": ("налоги", "taxes"),
    "insurance": ("страхование", "insurance"),
    "investments": ("инвестиции", "investments"),
    "loan_payment": ("платежи по кредиту", "loan payments"),
}

GENERIC_PHRASE: Phrase = (
    "это соответствует тому, как вы пользуетесь банком",
    "it fits the way you use the bank",
)
_ACTIVE: Phrase = ("вы активно пользуетесь счётом", "you use your account actively")
_SALARY: Phrase = ("вы регулярно получаете зарплату", "you receive a regular salary")
_HOLDS_MANY: Phrase = ("вы пользуетесь несколькими нашими продуктами", "you use several of our products")
_HOLDS: Phrase = ("это дополняет продукты, которые у вас уже есть", "it complements the products you have")
_NEW_PRODUCTS: Phrase = ("вы недавно оформляли новые продукты", "you recently opened new products")
_CHANGED: Phrase = ("набор ваших продуктов недавно изменился", "your set of products changed recently")
_TENURE: Phrase = ("вы давно с нами", "you have been with us for a while")
_NEW_CLIENT: Phrase = ("вы недавно стали нашим клиентом", "you joined us recently")
_AGE: Phrase = ("это часто выбирают клиенты вашего возраста", "clients of your age often choose it")
_INCOME: Phrase = ("это соответствует вашему уровню дохода", "it matches your income level")
_CLUSTER: Phrase = (
    "это часто выбирают клиенты с похожими привычками",
    "clients with similar habits often choose it",
)
_SEGMENT: Phrase = ("это подходит клиентам вашего сегмента", "it suits clients like you")
_SEASON: Phrase = ("сейчас для этого подходящее время года", "it is the right time of year for it")

# Features never turned into words: explaining an offer by them would be discriminatory or
# would only state the obvious.
SILENT_FEATURES: frozenset[str] = frozenset(
    {"sex", "is_deceased", "country", "province_code", "is_foreigner"}
)

_OP = re.compile(r"^op_(?P<cat>[a-z_]+?)_(?:cnt_\d+m|abs_\d+m|share_\d+m|trend|recency_days)$")
_HOLD = re.compile(r"^hold_(?P<product>.+)_l(?P<lag>\d+)$")

# The sentence on the role of the offer: the first code present in this order wins.
ROLE_SENTENCES: tuple[tuple[str, Phrase], ...] = (
    (
        rc.SURE_THING_REPLACED,
        (
            "Оно дополняет продукт, который вы, скорее всего, и так выберете.",
            "It complements a product you are likely to choose anyway.",
        ),
    ),
    (
        rc.EXPLORATION,
        (
            "Мы показываем его, чтобы лучше понять, что вам интересно.",
            "We show it to learn better what interests you.",
        ),
    ),
    (
        rc.DIVERSITY_ALTERNATIVE,
        (
            "Это вариант из другой категории, чем наше основное предложение.",
            "It is an option from a different category than our main offer.",
        ),
    ),
    (
        rc.SAME_CATEGORY_ALTERNATIVE,
        ("Это ещё один вариант в той же категории.", "It is another option in the same category."),
    ),
    (
        rc.UPLIFT_HIGH,
        ("Сейчас оно может быть вам особенно полезно.", "It may be especially useful to you right now."),
    ),
    (
        rc.BEST_OFFER,
        (
            "Из доступных вам предложений это, по нашей оценке, самое полезное.",
            "Of the offers available to you, we think this one is the most useful.",
        ),
    ),
)


def _pick(phrase: Phrase, language: Language) -> str:
    return phrase[1] if language == "en" else phrase[0]


@lru_cache(maxsize=1)
def _product_names() -> dict[str, Phrase]:
    """Catalog product names by code; empty when the catalog cannot be read (never fails)."""
    try:
        from core.catalog import load_catalog

        return {p.code: (p.name_ru, p.name_en) for p in load_catalog().products}
    except Exception:  # the template must work even without a readable catalog
        return {}


def _holding_phrase(product: str, lag: int) -> Phrase:
    """Named only for the current month: a past holding (lag > 0) may be closed by now."""
    if lag > 0:
        return GENERIC_PHRASE
    name = _product_names().get(product)
    if name is None:
        return _HOLDS
    return (f"у вас уже есть {name[0]}", f"you already use our {name[1]}")


_PREFIX_RULES: tuple[tuple[Callable[[str], bool], Phrase], ...] = (
    (lambda f: f.startswith("ops_"), _ACTIVE),
    (lambda f: f.startswith("n_held_"), _HOLDS_MANY),
    (lambda f: f.startswith("n_add_"), _NEW_PRODUCTS),
    (lambda f: f.startswith(("n_drop_", "months_since_change_")), _CHANGED),
    (lambda f: f in ("history_months", "seniority_months", "is_primary"), _TENURE),
    (lambda f: f == "is_new", _NEW_CLIENT),
    (lambda f: f == "age", _AGE),
    (lambda f: f in ("log_income", "income", "income_missing"), _INCOME),
    (lambda f: f == "cluster", _CLUSTER),
    (lambda f: f in ("segment", "customer_type", "relation_type", "employee_status"), _SEGMENT),
    (lambda f: f in ("target_month", "is_june"), _SEASON),
    (lambda f: f == "is_active", _ACTIVE),
)


# Life events and spending categories that tell the same story: one of them is enough.
EVENT_TOPICS: dict[str, str] = {
    "car_purchase": "auto",
    "child": "kids",
    "relocation": "home",
    "salary_rise": "salary",
    "travel": "travel",
}


def _feature_reason(feature: str) -> tuple[str, Phrase] | None:
    """(topic, phrase) for a feature; the topic lets reason_phrases drop repeats of a story."""
    if feature in SILENT_FEATURES:
        return None
    op = _OP.match(feature)
    if op is not None and op["cat"] in CATEGORY_PHRASES:
        return op["cat"], CATEGORY_PHRASES[op["cat"]]
    hold = _HOLD.match(feature)
    if hold is not None:
        phrase = _holding_phrase(hold["product"], int(hold["lag"]))
        return phrase[1], phrase
    if feature.startswith("salary_"):
        return "salary", _SALARY
    for test, phrase in _PREFIX_RULES:
        if test(feature):
            return phrase[1], phrase
    return GENERIC_PHRASE[1], GENERIC_PHRASE


def feature_phrase(feature: str) -> Phrase | None:
    """The (ru, en) phrase for a model feature name; None for features never put in words.

    Matched by prefix and pattern, so new windows or lags (op_travel_cnt_12m, hold_x_l24)
    need no change here; an unknown feature gets the generic phrase.
    """
    found = _feature_reason(feature)
    return None if found is None else found[1]


def _linked_events(codes: tuple[str, ...]) -> list[str]:
    by_code = {rc.life_event_code(e): e for e in LIFE_EVENTS}
    return [by_code[c] for c in codes if c in by_code]


def reason_phrases(req: ExplanationRequest) -> list[str]:
    """The client-facing reasons, strongest first, one per topic, in the request's language.

    Order: life events the decision layer tied to this product (LIFE_EVENT_* codes), then
    features that pushed the score up (largest contribution first; negative ones argue
    against the offer and are left out), then the client's other life events. A travel
    event and travel spending are one topic ("you travel a lot" is said once). The generic
    phrase is kept only when nothing concrete is left.
    """
    topics: list[str] = []
    phrases: list[Phrase] = []

    def add(topic: str, phrase: Phrase) -> None:
        if topic not in topics:
            topics.append(topic)
            phrases.append(phrase)

    for event in _linked_events(req.reason_codes):
        add(EVENT_TOPICS[event], EVENT_PHRASES[event])
    positive = sorted((f for f in req.top_features if f[1] > 0), key=lambda f: (-f[1], f[0]))
    for name, _ in positive:
        found = _feature_reason(name)
        if found is not None:
            add(*found)
    for event in req.facts.life_events:
        add(EVENT_TOPICS[event], EVENT_PHRASES[event])
    concrete = [p for p in phrases if p != GENERIC_PHRASE]
    return [_pick(p, req.language) for p in (concrete or phrases)]


def _role_sentence(req: ExplanationRequest) -> str | None:
    for code, phrase in ROLE_SENTENCES:
        if code in req.reason_codes:
            return _pick(phrase, req.language)
    return None


def _join(parts: list[str], language: Language) -> str:
    glue = " и " if language == "ru" else " and "
    return glue.join(parts)


def _head(req: ExplanationRequest, name: str) -> str:
    """The first sentence; the name stays in the nominative, so RU needs no declension."""
    if req.language == "ru":
        who = "Предложение нашего партнёра" if req.product_kind == "partner" else "Наше предложение"
        return f"{who} для вас — {name}."
    who = "Our partner's offer" if req.product_kind == "partner" else "Our offer"
    return f"{who} for you: {name}."


def _compose(req: ExplanationRequest, reasons: list[str], role: str | None) -> str:
    ru = req.language == "ru"
    head = _head(req, req.product_name.strip())
    because = reasons or [_pick(GENERIC_PHRASE, req.language)]
    why = (
        f"Мы выбрали его, потому что {_join(because, 'ru')}."
        if ru
        else f"We chose it because {_join(because, 'en')}."
    )
    return " ".join(s for s in (head, why, role) if s)


def render(req: ExplanationRequest, max_chars: int = MAX_CHARS) -> str:
    """The template text for a request: 1-3 sentences, under max_chars, names the product.

    Tries the richest text first and drops the role sentence, then reasons, until it fits;
    a product name too long for any sentence is cut (it is still the product's name).
    """
    reasons = reason_phrases(req)[:MAX_REASONS]
    role = _role_sentence(req)
    variants = [(reasons, role), (reasons, None)]
    variants += [(reasons[:n], None) for n in range(len(reasons) - 1, -1, -1)]
    for rs, rl in variants:
        text = _compose(req, rs, rl)
        if len(text) < max_chars:
            return text
    name = req.product_name.strip()
    head = _head(req, name)
    if len(head) < max_chars:
        return head
    return _head(req, name[: max(1, len(name) - (len(head) - max_chars) - 2)] + "…")


class TemplateExplainer:
    """Explainer without a model: see the module docstring. Stateless and thread-safe."""

    source = "template"

    def render(self, req: ExplanationRequest) -> str:
        return render(req)

    async def explain(self, req: ExplanationRequest) -> Explanation:
        return Explanation(text=render(req), source="template", fallback_reason=None)


__all__ = [
    "CATEGORY_PHRASES",
    "CATEGORY_WORDS",
    "EVENT_PHRASES",
    "GENERIC_PHRASE",
    "MAX_CHARS",
    "TemplateExplainer",
    "feature_phrase",
    "reason_phrases",
    "render",
]
