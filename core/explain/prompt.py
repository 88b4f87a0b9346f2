"""Chat messages for an LLM explainer, built from an ExplanationRequest and nothing else.

Taking only the request (never a client record) is the privacy boundary: the request has
no field for an id, a name, an exact amount or a date, so none can reach a provider. Model
feature names and contributions are turned into the template's plain phrases first: an
LLM would otherwise quote "op_travel_cnt_3m" or a contribution such as 0.42 to the client.

The system message states the rules the guardrails later check (language, length, naming
the product, no promises of approval, no rates or numbers that were not given, no claim
about the client's products or life events beyond the given ones), so that a compliant
model rarely falls back to the template. The signals are the template's reasons, each a
claim true for the client (core.explain.claims), so the model is only told true things.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from core.explain.template import CATEGORY_WORDS, EVENT_PHRASES, reason_phrases
from core.explain.types import UNKNOWN, ExplanationRequest

TARGET_CHARS = 350  # asked of the model; the guardrail allows up to guardrails.MAX_CHARS
MAX_SENTENCES = 3


class ChatMessage(TypedDict):
    role: Literal["system", "user"]
    content: str


SYSTEM_RU = (
    "Ты помощник банка. Объясни клиенту простыми словами, почему банк предлагает ему продукт. "
    "Правила: отвечай только по-русски; обращайся к клиенту на «вы»; "
    f"1–{MAX_SENTENCES} предложения, не больше {TARGET_CHARS} символов; "
    "обязательно назови продукт так, как он указан; опирайся только на приведённые причины и факты, "
    "ничего не придумывай; не утверждай, что у клиента есть или был какой-то продукт или что с ним "
    "что-то произошло, если этого нет среди причин и фактов; "
    "не обещай одобрения и не используй слова «гарантия», «гарантированно», «одобрено»; "
    "не называй процентные ставки, суммы, проценты и другие числа; "
    "не здоровайся и не подписывайся; ответ — только текст объяснения."
)
SYSTEM_EN = (
    "You are a bank assistant. Explain to the client in plain words why the bank offers them a "
    "product. Rules: answer in English only; address the client as 'you'; "
    f"1-{MAX_SENTENCES} sentences, at most {TARGET_CHARS} characters; "
    "always name the product exactly as given; use only the reasons and facts given, invent "
    "nothing; never say the client has or had a product, or that something happened to them, "
    "unless the reasons or facts say so; "
    "do not promise approval and do not use the words 'guaranteed' or 'approved'; "
    "do not mention interest rates, amounts, percentages or any other numbers; "
    "no greeting, no signature; reply with the explanation text only."
)

_LABELS = {
    "ru": {
        "product": "Продукт",
        "bank": "продукт банка",
        "partner": "предложение партнёра банка",
        "reasons": "Почему выбран этот продукт",
        "signals": "Что указывает на интерес клиента",
        "facts": "Что известно о клиенте (приблизительно)",
        "age": "возрастная группа",
        "income": "уровень дохода",
        "categories": "траты за последние месяцы",
        "segment": "сегмент",
        "events": "недавние события",
        "task": "Напиши объяснение для клиента.",
    },
    "en": {
        "product": "Product",
        "bank": "a bank product",
        "partner": "an offer from the bank's partner",
        "reasons": "Why this product was chosen",
        "signals": "What points to the client's interest",
        "facts": "What is known about the client (approximate)",
        "age": "age group",
        "income": "income level",
        "categories": "spending in recent months",
        "segment": "segment",
        "events": "recent events",
        "task": "Write the explanation for the client.",
    },
}
_INCOME_WORDS = {
    "ru": {"low": "ниже среднего", "middle": "средний", "high": "выше среднего"},
    "en": {"low": "below average", "middle": "average", "high": "above average"},
}
_SEGMENT_WORDS = {
    "ru": {"top": "премиальный", "individual": "частный клиент", "student": "студент"},
    "en": {"top": "premium", "individual": "individual", "student": "student"},
}


def _bullets(items: list[str]) -> list[str]:
    return [f"- {item}" for item in items]


def user_message(req: ExplanationRequest) -> str:
    """The user turn: product, reasons in words, plain-language signals, bucketed facts."""
    lang = req.language
    labels = _LABELS[lang]
    idx = 1 if lang == "en" else 0
    facts = req.facts
    lines = [f"{labels['product']}: {req.product_name} ({labels[req.product_kind]})"]
    if req.reason_texts:
        lines += [f"{labels['reasons']}:", *_bullets(list(req.reason_texts))]
    signals = reason_phrases(req)
    if signals:
        lines += [f"{labels['signals']}:", *_bullets(signals)]
    known: list[str] = []
    if facts.age_band != UNKNOWN:
        known.append(f"{labels['age']}: {facts.age_band}")
    if facts.income_band != UNKNOWN:
        known.append(f"{labels['income']}: {_INCOME_WORDS[lang][facts.income_band]}")
    if facts.recent_categories:
        words = ", ".join(CATEGORY_WORDS[c][idx] for c in facts.recent_categories)
        known.append(f"{labels['categories']}: {words}")
    if facts.segment is not None:
        known.append(f"{labels['segment']}: {_SEGMENT_WORDS[lang][facts.segment]}")
    if facts.life_events:
        events = "; ".join(EVENT_PHRASES[e][idx] for e in facts.life_events)
        known.append(f"{labels['events']}: {events}")
    if known:
        lines += [f"{labels['facts']}:", *_bullets(known)]
    lines.append(labels["task"])
    return "\n".join(lines)


def build_messages(req: ExplanationRequest) -> list[ChatMessage]:
    """[system, user] messages for one explanation, in the request's language."""
    system = SYSTEM_EN if req.language == "en" else SYSTEM_RU
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user_message(req)},
    ]
