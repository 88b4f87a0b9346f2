"""Claims: everything an explanation may say about the client, each with when it is true.

Why: an explanation that states something false about the client ("you already have a
current account" to a client without one) is worse than none, for a bank most of all. The
old template turned a model feature into a sentence whatever the feature's value, so a
holdings feature that *lowered* nothing but read 0 still became "you already have X". Here
a phrase is a `Claim` with a predicate over `ClientFacts` (the client's holdings,
operations and detected life events at decision time), and a phrase is used only when its
predicate holds. Pure: no I/O beyond reading the product catalog for names.

- The template asks core.explain.feature_claims for the candidate claims of a model
  feature (a feature may fit several stories; the first true one is used, none when none
  is true). Only features that pushed the score *up* are ever asked (the caller's job: a
  feature that lowers the score is no reason for the offer).
- The guardrail (core.explain.claim_check) recognises the claims in any text, template or
  LLM, and rejects a text with a false one.

Claim ids: "event:<life event>", "category:<operation category>", "holds:<product>",
"had:<product>", "unobserved:<life event>" (what operations cannot show: never true), and
fixed ids for the rest (see the constants below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from core.domain import LIFE_EVENTS, OPERATION_CATEGORIES
from core.explain.event_phrases import (
    EVENT_PATTERNS,
    EVENT_PHRASES,
    EVENT_TOPICS,
    TRAVELS_OFTEN,
    UNOBSERVED_PATTERNS,
    Patterns,
)
from core.explain.types import ClientFacts, Language, Phrase

Predicate = Callable[[ClientFacts], bool]

SEVERAL_PRODUCTS_MIN = 2  # "you use several of our products": at least this many held now


@dataclass(frozen=True)
class Claim:
    """One statement about the client, and the test over their facts that makes it true.

    topic: claims of one topic tell one story and are said once (a travel event and travel
    spending). patterns: regular expressions (ru, en) that also recognise the claim in
    free text beyond the exact phrase (an LLM paraphrases); see core.explain.claim_check.
    """

    id: str
    phrase: Phrase
    holds: Predicate = field(compare=False)
    topic: str = ""
    patterns: Patterns = ((), ())

    def text(self, language: Language) -> str:
        return self.phrase[1] if language == "en" else self.phrase[0]

    def true_for(self, facts: ClientFacts) -> bool:
        return bool(self.holds(facts))


def _always(_: ClientFacts) -> bool:
    return True


def _flag(name: str) -> Predicate:
    return lambda f: name in f.flags


# --- life events and spending categories ----------------------------------------------------

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


def _event_predicate(event: str) -> Predicate:
    return lambda f: event in f.life_events


def _category_predicate(category: str) -> Predicate:
    return lambda f: category in f.frequent_categories


def _never(_: ClientFacts) -> bool:
    return False


EVENT_CLAIMS: dict[str, Claim] = {
    e: Claim(f"event:{e}", EVENT_PHRASES[e], _event_predicate(e), EVENT_TOPICS[e], EVENT_PATTERNS[e])
    for e in LIFE_EVENTS
}
CATEGORY_CLAIMS: dict[str, Claim] = {
    c: Claim(
        f"category:{c}",
        CATEGORY_PHRASES[c],
        _category_predicate(c),
        c,
        TRAVELS_OFTEN if c == "travel" else ((), ()),
    )
    for c in OPERATION_CATEGORIES
}
UNOBSERVED_CLAIMS: dict[str, Claim] = {
    e: Claim(f"unobserved:{e}", phrase, _never, "unobserved", patterns)
    for e, (phrase, patterns) in UNOBSERVED_PATTERNS.items()
}

# --- everything else ------------------------------------------------------------------------

GENERIC_PHRASE: Phrase = (
    "это соответствует тому, как вы пользуетесь банком",
    "it fits the way you use the bank",
)
# The generic phrase claims nothing checkable; it is the fallback when nothing true is left.
GENERIC = Claim("generic", GENERIC_PHRASE, _always, "generic")
SEVERAL_PRODUCTS = Claim(
    "several_products",
    ("вы пользуетесь несколькими нашими продуктами", "you use several of our products"),
    lambda f: len(f.held) >= SEVERAL_PRODUCTS_MIN,
    "holdings",
    (
        (r"несколькими\s+(?:нашими\s+)?продуктами", r"несколько\s+(?:наших\s+)?продуктов"),
        (r"\bseveral\s+(?:of\s+)?(?:our\s+)?products", r"\bmany\s+of\s+our\s+products"),
    ),
)
COMPLEMENTS = Claim(
    "complements",
    ("это дополняет продукты, которые у вас уже есть", "it complements the products you have"),
    lambda f: len(f.held) >= 1,
    "holdings",
)
ACTIVE = Claim(
    "active", ("вы активно пользуетесь счётом", "you use your account actively"), _flag("active"), "active"
)
SALARY_REGULAR = Claim(
    "salary_regular",
    ("вы регулярно получаете зарплату", "you receive a regular salary"),
    _flag("salary_regular"),
    "salary",
    ((r"регулярн\w+\s+(?:\w+\s+)?зарплат",), (r"\bregular\s+(?:salary|pay)",)),
)
NEW_PRODUCTS = Claim(
    "new_products",
    ("вы недавно оформляли новые продукты", "you recently opened new products"),
    _flag("new_products"),
    "changes",
)
PRODUCTS_CHANGED = Claim(
    "products_changed",
    ("набор ваших продуктов недавно изменился", "your set of products changed recently"),
    _flag("products_changed"),
    "changes",
)
LONG_TENURE = Claim(
    "long_tenure", ("вы давно с нами", "you have been with us for a while"), _flag("long_tenure"), "tenure"
)
NEW_CLIENT = Claim(
    "new_client", ("вы недавно стали нашим клиентом", "you joined us recently"), _flag("new_client"), "tenure"
)
# Statements about clients like this one (the model's view), resting on a known bucket.
AGE = Claim(
    "age",
    ("это часто выбирают клиенты вашего возраста", "clients of your age often choose it"),
    lambda f: f.age_band != "unknown",
    "age",
)
INCOME = Claim(
    "income",
    ("это соответствует вашему уровню дохода", "it matches your income level"),
    lambda f: f.income_band != "unknown",
    "income",
)
SIMILAR_CLIENTS = Claim(
    "similar_clients",
    ("это часто выбирают клиенты с похожими привычками", "clients with similar habits often choose it"),
    _always,
    "cluster",
)
SEGMENT = Claim(
    "segment",
    ("это подходит клиентам вашего сегмента", "it suits clients like you"),
    lambda f: f.segment is not None,
    "segment",
)
SEASON = Claim(
    "season",
    ("сейчас для этого подходящее время года", "it is the right time of year for it"),
    _always,
    "season",
)

FIXED_CLAIMS: tuple[Claim, ...] = (
    GENERIC, SEVERAL_PRODUCTS, COMPLEMENTS, ACTIVE, SALARY_REGULAR, NEW_PRODUCTS, PRODUCTS_CHANGED,
    LONG_TENURE, NEW_CLIENT, AGE, INCOME, SIMILAR_CLIENTS, SEGMENT, SEASON,
)  # fmt: skip

# --- products held now and before ------------------------------------------------------------


@lru_cache(maxsize=1)
def product_names() -> dict[str, Phrase]:
    """Bank product names by code (ru, en); empty when the catalog cannot be read (never fails)."""
    try:
        from core.catalog import load_catalog

        return {p.code: (p.name_ru, p.name_en) for p in load_catalog().bank}
    except Exception:  # explanations must work even without a readable catalog
        return {}


def _quoted(name: str) -> str:
    return name if "«" in name else f"«{name}»"


@lru_cache(maxsize=256)
def holds_claim(product: str) -> Claim | None:
    """ "You already use our X": true only while X is among the products held now."""
    name = product_names().get(product)
    if name is None:
        return None
    phrase = (f"у вас уже есть {name[0]}", f"you already use our {name[1]}")
    return Claim(f"holds:{product}", phrase, lambda f: product in f.held, f"product:{product}")


@lru_cache(maxsize=256)
def had_claim(product: str) -> Claim | None:
    """ "You used to have our X": X was held within the last year and is not held now."""
    name = product_names().get(product)
    if name is None:
        return None
    phrase = (f"у вас раньше был продукт {_quoted(name[0])}", f"you used to have our {name[1]}")
    return Claim(f"had:{product}", phrase, lambda f: product in f.held_before, f"product:{product}")


def first_true(claims: tuple[Claim, ...], facts: ClientFacts) -> Claim | None:
    """The first claim that is true for these facts, if any."""
    return next((c for c in claims if c.true_for(facts)), None)


def all_claims() -> tuple[Claim, ...]:
    """Every claim there is (products from the catalog): what a text is checked against."""
    products = sorted(product_names())
    made = [holds_claim(p) for p in products] + [had_claim(p) for p in products]
    return (
        *EVENT_CLAIMS.values(),
        *CATEGORY_CLAIMS.values(),
        *UNOBSERVED_CLAIMS.values(),
        *FIXED_CLAIMS,
        *(c for c in made if c is not None),
    )


__all__ = [
    "CATEGORY_CLAIMS",
    "CATEGORY_PHRASES",
    "EVENT_CLAIMS",
    "EVENT_PHRASES",
    "EVENT_TOPICS",
    "GENERIC",
    "GENERIC_PHRASE",
    "UNOBSERVED_CLAIMS",
    "Claim",
    "Phrase",
    "all_claims",
    "first_true",
    "had_claim",
    "holds_claim",
    "product_names",
]
