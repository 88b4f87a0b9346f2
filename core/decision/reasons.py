"""Stable reason codes and their RU/EN texts.

Codes (not sentences) travel with each offer so the explanation layer, analytics and the
offer log can group by them; the texts live here once. Rule ids are reason codes too:
their texts come from rules.toml, where the rule itself is declared.
"""

from __future__ import annotations

from core.decision.config import DecisionRules, load_rules
from core.domain import LIFE_EVENTS

UPLIFT_HIGH = "UPLIFT_HIGH"
UPLIFT_POSITIVE = "UPLIFT_POSITIVE"
UPLIFT_UNKNOWN = "UPLIFT_UNKNOWN_P_TAKE_USED"
BEST_OFFER = "BEST_OFFER"
EXPLORATION = "EXPLORATION"
DIVERSITY_ALTERNATIVE = "DIVERSITY_ALTERNATIVE"
SAME_CATEGORY_ALTERNATIVE = "SAME_CATEGORY_ALTERNATIVE"
SURE_THING_REPLACED = "SURE_THING_REPLACED"
PARTNER_OFFER = "PARTNER_OFFER"
NO_MARKETING_CONSENT = "NO_MARKETING_CONSENT"
CONTACT_OPT_OUT = "CONTACT_OPT_OUT"
CONTACT_CAP_REACHED = "CONTACT_CAP_REACHED"
SLEEPING_DOG = "SLEEPING_DOG"
NO_ELIGIBLE_OFFER = "NO_ELIGIBLE_OFFER"

# Client-level rule id -> the no-contact reason code it produces.
NO_CONTACT_BY_RULE: dict[str, str] = {
    "marketing_consent": NO_MARKETING_CONSENT,
    "contact_opt_out": CONTACT_OPT_OUT,
    "contact_cap": CONTACT_CAP_REACHED,
}

# What the operations show (core.features.life_events), not what may have caused it: these
# texts reach the client (offers' reason_texts) and the LLM's prompt.
_EVENT_TEXT = {
    "car_purchase": (
        "Крупные расходы на автомобиль за три месяца",
        "Large car expenses in the last three months",
    ),
    "child": ("Расходы на детей растут", "Spending on children is growing"),
    "relocation": ("Крупные расходы на дом за три месяца", "Large home expenses in the last three months"),
    "salary_rise": ("Зарплатные поступления выросли", "Salary payments went up"),
    "travel": ("Крупные расходы на поездки в этом месяце", "Large travel spending this month"),
}


def life_event_code(event: str) -> str:
    """LIFE_EVENT_CAR_PURCHASE and so on, one per core.domain.LIFE_EVENTS name."""
    return f"LIFE_EVENT_{event.upper()}"


REASON_TEXTS: dict[str, tuple[str, str]] = {
    UPLIFT_HIGH: (
        "Предложение заметно повышает шанс, что клиент воспользуется продуктом",
        "The offer markedly raises the chance the client takes the product",
    ),
    UPLIFT_POSITIVE: (
        "Предложение повышает шанс, что клиент воспользуется продуктом",
        "The offer raises the chance the client takes the product",
    ),
    UPLIFT_UNKNOWN: (
        "Эффект предложения не оценён; ценность оценена по вероятности интереса к продукту",
        "The offer's effect is not estimated; value is based on the take-up probability",
    ),
    BEST_OFFER: ("Наибольшая ожидаемая польза для клиента и банка", "The highest expected value"),
    EXPLORATION: (
        "Случайный выбор среди допустимых предложений, чтобы узнавать интересы клиентов",
        "A random pick among eligible offers, to keep learning what clients want",
    ),
    DIVERSITY_ALTERNATIVE: ("Альтернатива из другой категории", "An alternative from another category"),
    SAME_CATEGORY_ALTERNATIVE: (
        "Альтернатива из той же категории: других подходящих категорий нет",
        "An alternative from the same category: no other category qualifies",
    ),
    SURE_THING_REPLACED: (
        "Связанный банковский продукт клиент, вероятно, оформит сам; вместо него — партнёрское предложение",
        "The client will likely take the linked bank product anyway; a partner offer takes its place",
    ),
    PARTNER_OFFER: ("Предложение партнёра банка", "An offer from the bank's partner"),
    NO_MARKETING_CONSENT: ("Нет согласия на маркетинговые коммуникации", "No consent to marketing"),
    CONTACT_OPT_OUT: ("Клиент отказался от контактов", "The client opted out of contacts"),
    CONTACT_CAP_REACHED: (
        "Лимит контактов за период исчерпан",
        "The contact limit for the period is reached",
    ),
    SLEEPING_DOG: (
        "Любое предложение снизило бы интерес клиента; лучше не беспокоить",
        "Any offer would lower the client's interest; better not to contact",
    ),
    NO_ELIGIBLE_OFFER: ("Нет предложений, допустимых правилами", "No offer passes the rules"),
    **{life_event_code(e): _EVENT_TEXT[e] for e in LIFE_EVENTS},
}


def explain_reason(code: str, language: str = "ru", rules: DecisionRules | None = None) -> str:
    """Plain text for a reason code or a rule id, in 'ru' or 'en'; unknown code -> KeyError."""
    if language not in ("ru", "en"):
        raise ValueError(f"language must be ru or en, got {language!r}")
    if code in REASON_TEXTS:
        ru, en = REASON_TEXTS[code]
        return en if language == "en" else ru
    rules = rules or load_rules()
    return rules[code].reason(language)
