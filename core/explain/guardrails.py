"""Checks an LLM answer must pass before a client sees it.

An LLM can answer in the wrong language, ramble, forget the product, promise approval or a
rate the bank never offered (a regulatory problem: an explanation is not an offer's terms),
echo personal data, or state something false about the client ("you already have a current
account" to a client without one, a car purchase that never happened: core.explain.claims).
Each check is cheap and conservative: a rejected answer only means the client gets the
template text instead, so false alarms cost little and misses a lot.

`check` returns None when the answer is fine, else a short reason (logged, never the
answer itself).
"""

from __future__ import annotations

import re

from core.explain.claim_check import false_claims
from core.explain.claim_check import normalise as _normalise
from core.explain.claim_check import stem as _stem
from core.explain.types import ExplanationRequest

MAX_CHARS = 500
MIN_RU_CYRILLIC_SHARE = 0.5  # of the letters; a Latin product name may sit in Russian text
MAX_EN_CYRILLIC_SHARE = 0.1

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_WORD = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"\d+")

# Promises an explanation must never make (approval, guarantees, certainty).
PROMISE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"guarantee",
        r"гаранти",
        r"\b(?:pre-?)?approved\b",
        r"одобрен",
        r"100\s?%",
        r"risk[- ]free",
        r"без\s+риска",
    )
)
# Rates and percentages: allowed only when the request itself contains the same text.
RATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\d+(?:[.,]\d+)?\s?%",
        r"\d+(?:[.,]\d+)?\s*(?:percent|per cent|процент)",
        r"interest rate",
        r"\bapr\b",
        r"ставк[аеиоуы]",
    )
)
# Personal data an answer must not contain (the model never got any, so it would be invented
# or leaked from elsewhere): e-mails, phone and card numbers, IBANs, dates.
PII_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("e-mail", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}\b")),
    ("card or phone number", re.compile(r"\+?\d[\d \-()]{8,}\d")),
    ("date", re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")),
)


def _material(req: ExplanationRequest) -> str:
    """All request text an answer may legitimately quote from."""
    facts = req.facts
    parts = [
        req.product_name,
        req.product_code,
        *req.reason_texts,
        facts.age_band,
        facts.income_band,
        *facts.recent_categories,
    ]
    return "\n".join(parts).casefold()


def mentions_product(answer: str, req: ExplanationRequest) -> bool:
    """Whether the answer names the product: its code, its exact name (case-insensitive),
    or every word of the name in some inflected form (Russian declines nouns)."""
    text = _normalise(answer)
    name = _normalise(req.product_name.strip())
    if name in text or req.product_code.casefold() in text:
        return True
    words = [w for w in _WORD.findall(name) if len(w) >= 3]
    if not words:
        return False
    answer_words = _WORD.findall(text)
    return all(any(a.startswith(_stem(w)) for a in answer_words) for w in words)


def language_problem(answer: str, language: str) -> str | None:
    """None when the letters are mostly of the request's script, else the reason."""
    cyr = len(_CYRILLIC.findall(answer))
    lat = len(_LATIN.findall(answer))
    if cyr + lat == 0:
        return "no words"
    share = cyr / (cyr + lat)
    if language == "ru" and share < MIN_RU_CYRILLIC_SHARE:
        return "wrong language (expected ru)"
    if language == "en" and share > MAX_EN_CYRILLIC_SHARE:
        return "wrong language (expected en)"
    return None


def check(answer: str, request: ExplanationRequest) -> str | None:
    """None when the answer may be shown for this request, else why not (no answer text)."""
    text = answer.strip()
    if not text:
        return "empty answer"
    if len(text) > MAX_CHARS:
        return f"too long ({len(text)} > {MAX_CHARS} chars)"
    for kind, pattern in PII_PATTERNS:
        if pattern.search(text):
            return f"possible personal data ({kind})"
    for pattern in PROMISE_PATTERNS:
        if pattern.search(text):
            return "forbidden promise"
    material = _material(request)
    for pattern in RATE_PATTERNS:
        for match in pattern.finditer(text):
            if match.group(0).casefold() not in material:
                return "rate or percentage not in the request"
    allowed_numbers = set(_NUMBER.findall(material))
    if any(n not in allowed_numbers for n in _NUMBER.findall(text)):
        return "number not in the request"
    problem = language_problem(text, request.language)
    if problem:
        return problem
    if not mentions_product(text, request):
        return "product not named"
    wrong = false_claims(text, request.language, request.facts)
    if wrong:
        # Claim ids only ("holds:cco_fin", "event:car_purchase"): no client data in logs.
        return "false claim about the client (" + ", ".join(sorted(c.id for c in wrong)) + ")"
    return None
