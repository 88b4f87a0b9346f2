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

Every reason is a claim about the client (core.explain.claims) and is said only when it is
true for the request's facts: a feature becomes words only through a claim whose predicate
holds, so "you already have X" needs X among the products held now.
"""

from __future__ import annotations

from core.decision import reasons as rc
from core.domain import LIFE_EVENTS
from core.explain.claims import (
    CATEGORY_PHRASES,
    EVENT_CLAIMS,
    EVENT_PHRASES,
    EVENT_TOPICS,
    GENERIC,
    GENERIC_PHRASE,
    Claim,
    Phrase,
    first_true,
)
from core.explain.feature_claims import SILENT_FEATURES, feature_claims
from core.explain.types import ClientFacts, Explanation, ExplanationRequest, Language

MAX_CHARS = 400
MAX_REASONS = 2

# Plain words for the categories, for prompts ("spending in recent months: travel, restaurants").
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


def feature_phrase(feature: str, facts: ClientFacts | None = None) -> Phrase | None:
    """The (ru, en) phrase a model feature may be put into words as; None for features never
    put into words, or (with `facts`) when no phrase of the feature is true for the client.

    Without facts: the preferred phrase (core.explain.claims.feature_claims), for display
    of what a feature means; a text for a client always goes through the facts.
    """
    claims = feature_claims(feature)
    if not claims:
        return None
    claim = claims[0] if facts is None else first_true(claims, facts)
    return None if claim is None else claim.phrase


def _linked_events(codes: tuple[str, ...]) -> list[str]:
    by_code = {rc.life_event_code(e): e for e in LIFE_EVENTS}
    return [by_code[c] for c in codes if c in by_code]


def reason_claims(req: ExplanationRequest) -> list[Claim]:
    """The true claims that explain this offer, strongest first, one per topic.

    Order: life events the decision layer tied to this product (LIFE_EVENT_* codes), then
    features that pushed the score up (largest contribution first; negative ones argue
    against the offer and are left out), each as the first of its claims that is true for
    the client (core.explain.claims), then the client's other life events. A claim whose
    predicate fails for req.facts is never used, whatever the feature or code asked for.
    A travel event and travel spending are one topic ("you travel a lot" is said once).
    A partner offer keeps only the claims of its own topics (req.topics). The generic claim
    is kept only when nothing concrete is left.
    """
    facts = req.facts
    chosen: list[Claim] = []

    def add(claim: Claim | None) -> None:
        if claim is not None and claim.true_for(facts) and all(c.topic != claim.topic for c in chosen):
            chosen.append(claim)

    for event in _linked_events(req.reason_codes):
        add(EVENT_CLAIMS[event])
    positive = sorted((f for f in req.top_features if f[1] > 0), key=lambda f: (-f[1], f[0]))
    for name, _ in positive:
        claims = feature_claims(name)
        if claims:
            add(first_true(claims, facts))
    for event in facts.life_events:
        add(EVENT_CLAIMS[event])
    if req.topics:  # a partner offer: only what it is about (ExplanationRequest.topics)
        chosen = [c for c in chosen if c.topic in req.topics]
    concrete = [c for c in chosen if c is not GENERIC]
    return concrete or chosen


def reason_phrases(req: ExplanationRequest) -> list[str]:
    """The texts of reason_claims in the request's language (also the LLM prompt's signals,
    so an LLM is only ever told true things about the client)."""
    return [c.text(req.language) for c in reason_claims(req)]


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
    "EVENT_TOPICS",
    "GENERIC_PHRASE",
    "MAX_CHARS",
    "SILENT_FEATURES",
    "TemplateExplainer",
    "feature_phrase",
    "reason_claims",
    "reason_phrases",
    "render",
]
