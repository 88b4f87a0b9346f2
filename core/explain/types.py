"""What an explainer may know about an offer and a client, and what it returns.

The request is built so that personal data cannot reach an LLM provider by accident: there
is no field for a client id, a name, an exact amount or a date of birth. A caller turns the
client's record into coarse buckets with `client_facts` (an age band, an income band, a few
spending categories) and everything downstream (the prompt, the cache key, the logs) sees
only those buckets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from core.domain import LIFE_EVENTS, OPERATION_CATEGORIES, SEGMENTS

Language = Literal["ru", "en"]
# (ru, en): client-facing, second person, usable after "because" / "потому что".
Phrase = tuple[str, str]
ProductKind = Literal["bank", "partner"]
Source = Literal["template", "openai", "yandex", "cache"]

LANGUAGES: tuple[Language, ...] = ("ru", "en")
PRODUCT_KINDS: tuple[str, ...] = ("bank", "partner")
SOURCES: tuple[str, ...] = ("template", "openai", "yandex", "cache")

UNKNOWN = "unknown"
# (lower bound inclusive, label), in increasing order; ages below the first bound are "<18".
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-54"),
    (55, "55-64"),
    (65, "65+"),
)
MINOR_BAND = "<18"
INCOME_BANDS: tuple[str, ...] = ("low", "middle", "high", UNKNOWN)
# Yes/no facts about the client's behaviour at decision time (core.explain.facts defines
# each from the feature row); a claim may rest on them. Closed, so free text cannot enter.
FLAGS: tuple[str, ...] = (
    "salary_regular",  # a salary inflow in at least half of the last 6 months
    "active",  # many operations in the cutoff month
    "new_products",  # opened a product within the last 3 months
    "products_changed",  # opened or closed a product within the last 3 months
    "new_client",  # joined within the last 6 months
    "long_tenure",  # with the bank for at least 2 years
)
_PRODUCT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LOW_INCOME_BELOW_EUR = 60_000.0
HIGH_INCOME_FROM_EUR = 150_000.0
MAX_CATEGORIES = 3


def age_band(age: int | None) -> str:
    """The age bucket: "<18", "18-24", ... "65+", or "unknown" when the age is not known."""
    if age is None or age < 0:
        return UNKNOWN
    band = MINOR_BAND
    for lower, label in AGE_BANDS:
        if age >= lower:
            band = label
    return band


def income_band(income: float | None) -> str:
    """The income bucket of an annual gross household income in EUR.

    Thresholds follow the Santander data the models are trained on (`renta`, annual EUR,
    median about 100k): below 60k is "low", below 150k "middle", from 150k "high". A missing,
    NaN or negative income is "unknown"; the explainer then says nothing about income.
    """
    if income is None or math.isnan(income) or income < 0:
        return UNKNOWN
    if income < LOW_INCOME_BELOW_EUR:
        return "low"
    if income < HIGH_INCOME_FROM_EUR:
        return "middle"
    return "high"


@dataclass(frozen=True)
class ClientFacts:
    """Coarse, non-identifying facts about a client, the only client data explainers see.

    They are also what every claim an explanation makes about the client is checked
    against (core.explain.claims), so they describe the client *at decision time*.

    recent_categories: up to MAX_CATEGORIES operation categories (core.domain), most
    relevant first. life_events: names from core.domain.LIFE_EVENTS. held: product codes the
    client holds now; held_before: codes held within the last year but not now;
    frequent_categories: operation categories with regular operations lately; flags: names
    from FLAGS that are true. Sets are stored sorted, so that two equal sets of facts compare
    (and cache) equal.
    """

    age_band: str
    income_band: str
    recent_categories: tuple[str, ...] = ()
    segment: str | None = None
    life_events: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    held_before: tuple[str, ...] = ()
    frequent_categories: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "recent_categories", tuple(self.recent_categories))
        for name in ("life_events", "held", "held_before", "frequent_categories", "flags"):
            object.__setattr__(self, name, tuple(sorted(set(getattr(self, name)))))
        bands = {MINOR_BAND, UNKNOWN, *(label for _, label in AGE_BANDS)}
        if self.age_band not in bands:
            raise ValueError(f"ClientFacts.age_band: unknown band {self.age_band!r}")
        if self.income_band not in INCOME_BANDS:
            raise ValueError(f"ClientFacts.income_band: unknown band {self.income_band!r}")
        # Closed vocabularies: free text here could carry personal data into a prompt.
        unknown = set(self.recent_categories) - set(OPERATION_CATEGORIES)
        if unknown:
            raise ValueError(f"ClientFacts.recent_categories: unknown {sorted(unknown)}")
        if len(self.recent_categories) > MAX_CATEGORIES:
            raise ValueError(f"ClientFacts.recent_categories: at most {MAX_CATEGORIES}")
        if self.segment is not None and self.segment not in SEGMENTS:
            raise ValueError(f"ClientFacts.segment: unknown segment {self.segment!r}")
        unknown = set(self.life_events) - set(LIFE_EVENTS)
        if unknown:
            raise ValueError(f"ClientFacts.life_events: unknown {sorted(unknown)}")
        unknown = set(self.frequent_categories) - set(OPERATION_CATEGORIES)
        if unknown:
            raise ValueError(f"ClientFacts.frequent_categories: unknown {sorted(unknown)}")
        unknown = set(self.flags) - set(FLAGS)
        if unknown:
            raise ValueError(f"ClientFacts.flags: unknown {sorted(unknown)}")
        for name in ("held", "held_before"):
            bad = [c for c in getattr(self, name) if not _PRODUCT_CODE.match(c)]
            if bad:
                raise ValueError(f"ClientFacts.{name}: not product codes {bad}")
        if set(self.held) & set(self.held_before):
            raise ValueError("ClientFacts: a product cannot be held now and only before")


def client_facts(
    age: int | None,
    income: float | None,
    categories: Iterable[str] = (),
    segment: str | None = None,
    life_events: Iterable[str] = (),
    *,
    held: Iterable[str] = (),
    held_before: Iterable[str] = (),
    frequent_categories: Iterable[str] = (),
    flags: Iterable[str] = (),
) -> ClientFacts:
    """Bucket a client's exact data into ClientFacts (the exact values are dropped here).

    categories: the client's operation categories, most relevant first (e.g. by spend);
    repeats are dropped and only the first MAX_CATEGORIES kept, because a short list is all
    an explanation uses and a long one would fingerprint the client. held_before loses the
    products in held (held now wins). core.explain.facts.history_facts gives the keyword
    arguments from a feature row.
    """
    now = set(held)
    cats: list[str] = []
    for c in categories:
        if c not in cats:
            cats.append(c)
    return ClientFacts(
        age_band=age_band(age),
        income_band=income_band(income),
        recent_categories=tuple(cats[:MAX_CATEGORIES]),
        segment=segment,
        life_events=tuple(life_events),
        held=tuple(now),
        held_before=tuple(set(held_before) - now),
        frequent_categories=tuple(frequent_categories),
        flags=tuple(flags),
    )


@dataclass(frozen=True)
class ExplanationRequest:
    """Everything an explainer needs for one offer, and nothing that identifies the client.

    product_name is in `language`. reason_codes are core.decision reason codes (or rule
    ids); reason_texts are the same reasons already in words (see `reason_texts`), which an
    LLM phrases better than codes. top_features are (model feature name, contribution)
    pairs, largest effect first; only the names and signs are used, never the numbers.
    topics: for a partner offer, what it is about (its life events' topics, e.g. "travel"):
    only claims of these topics say why it was chosen. Its model reasons are those of the
    bank product it stands in for, and "a travel discount because you spend on children"
    is true of the client and still no reason for a travel discount.
    """

    product_code: str
    product_name: str
    product_kind: ProductKind
    language: Language
    reason_codes: tuple[str, ...] = ()
    reason_texts: tuple[str, ...] = ()
    top_features: tuple[tuple[str, float], ...] = ()
    facts: ClientFacts = ClientFacts(age_band=UNKNOWN, income_band=UNKNOWN)
    topics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists from callers; keep the request immutable and hashable.
        object.__setattr__(self, "topics", tuple(self.topics))
        object.__setattr__(self, "reason_codes", tuple(self.reason_codes))
        object.__setattr__(self, "reason_texts", tuple(self.reason_texts))
        object.__setattr__(
            self, "top_features", tuple((str(name), float(value)) for name, value in self.top_features)
        )
        if self.language not in LANGUAGES:
            raise ValueError(f"ExplanationRequest.language must be ru or en, got {self.language!r}")
        if self.product_kind not in PRODUCT_KINDS:
            raise ValueError(f"ExplanationRequest.product_kind: bank or partner, got {self.product_kind!r}")
        if not self.product_code or not self.product_name.strip():
            raise ValueError("ExplanationRequest needs a product code and a product name")


@dataclass(frozen=True)
class Explanation:
    """The text shown to the client and where it came from.

    source: "template", "openai", "yandex" or "cache" (an earlier LLM answer reused).
    fallback_reason: why the template text was served instead of an LLM answer (timeout,
    HTTP error, guardrail, open circuit...); None when nothing failed.
    """

    text: str
    source: Source
    fallback_reason: str | None = None


def reason_texts(codes: Iterable[str], language: Language) -> tuple[str, ...]:
    """The texts of reason codes and rule ids (core.decision.reasons); unknown codes skipped.

    Skipped rather than raised: an explanation must not fail because the decision layer
    gained a code the explainer does not know yet.
    """
    from core.decision.reasons import explain_reason

    out: list[str] = []
    for code in codes:
        try:
            out.append(explain_reason(code, language))
        except KeyError:
            continue
    return tuple(out)
