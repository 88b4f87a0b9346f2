"""Inputs and outputs of the decision layer (plain dataclasses, no I/O).

The decision layer sits between the models and the notification: the models say how
likely a client is to take a product up and how much an offer changes that; this layer
says what the bank may and should show. Keeping its inputs explicit (rather than reading
the database) lets the rules be unit- and property-tested in isolation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from core.domain import LIFE_EVENTS, SEGMENTS

Response = Literal["accept", "decline", "dismiss"]
RESPONSES: tuple[str, ...] = ("accept", "decline", "dismiss")


@dataclass(frozen=True)
class Contact:
    """One offer shown to the client: which product, when, and what the client did.

    response is None while the client has not reacted. Several offers shown in the same
    notification share `shown_at`; the contact cap counts notifications (distinct times).
    """

    product_code: str
    shown_at: datetime
    response: Response | None = None


@dataclass(frozen=True)
class ClientContext:
    """Everything about one client the rules need, as of `now`.

    income is annual (EUR) and may be unknown (None): then no credit product can pass the
    debt-burden rule, because affordability cannot be shown. `life_events` are names from
    core.domain.LIFE_EVENTS detected in the client's operations. `now` must be tz-aware:
    cooling-off and contact windows compare it with tz-aware contact times.
    """

    client_id: int | str
    age: int
    is_resident: bool
    segment: str | None
    income: float | None
    marketing_consent: bool
    contact_opt_out: bool
    held: frozenset[str]
    now: datetime
    recent_contacts: tuple[Contact, ...] = ()
    life_events: frozenset[str] = frozenset()
    language: Literal["ru", "en"] = "ru"

    def __post_init__(self) -> None:
        # Accept any iterable from callers; store immutable, hashable collections.
        object.__setattr__(self, "held", frozenset(self.held))
        object.__setattr__(self, "life_events", frozenset(self.life_events))
        object.__setattr__(self, "recent_contacts", tuple(self.recent_contacts))
        if self.now.tzinfo is None:
            raise ValueError("ClientContext.now must be timezone-aware")
        if self.language not in ("ru", "en"):
            raise ValueError(f"ClientContext.language must be ru or en, got {self.language!r}")
        if self.segment is not None and self.segment not in SEGMENTS:
            raise ValueError(f"ClientContext.segment: unknown segment {self.segment!r}")
        unknown = set(self.life_events) - set(LIFE_EVENTS)
        if unknown:
            raise ValueError(f"ClientContext.life_events: unknown {sorted(unknown)}")
        for c in self.recent_contacts:
            if c.shown_at.tzinfo is None:
                raise ValueError("Contact.shown_at must be timezone-aware")
            if c.response is not None and c.response not in RESPONSES:
                raise ValueError(f"Contact.response: unknown {c.response!r}")


@dataclass(frozen=True)
class Candidate:
    """Model scores for one bank product and one client.

    p_take: take-up probability without an offer (hybrid scorer). uplift: estimated
    P(take | offer) - P(take | no offer), None when no uplift model covers the product.
    p_control: the uplift model's own no-offer probability (informative only).
    top_reasons: (feature name, contribution) pairs the explainer turns into text.
    """

    product_code: str
    p_take: float
    uplift: float | None = None
    p_control: float | None = None
    top_reasons: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Offer:
    """One served offer. `rank` starts at 1 (the top slot).

    score is the ranking key; today it equals expected_value (EUR of incremental value),
    kept apart so a later policy may rank by e.g. value net of contact cost. propensity:
    for rank 1 the probability that the epsilon-greedy policy puts this product on top;
    for alternatives the probability that the policy shows it at all in this decision.
    """

    product_code: str
    kind: str
    category: str
    rank: int
    score: float
    expected_value: float
    p_take: float
    uplift: float | None
    reason_codes: list[str]
    reasons: list[tuple[str, float]]
    rules_passed: list[str]
    propensity: float
    exploration: bool = False
    # The bank products whose model reasons explain this offer: the product itself, or for a
    # partner offer the sure things it replaced. Lets reasons be worked out after the decision,
    # only for what is offered (core.services.explanations); not stored or served.
    reason_products: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (lists copied) for storing and serving.

        dataclasses.asdict deep-copies every reason tuple recursively: about 1 ms per
        decision, a fifth of the worker's time per event.
        """
        out = dict(self.__dict__)
        del out["reason_products"]
        out["reason_codes"] = list(self.reason_codes)
        out["reasons"] = [tuple(r) for r in self.reasons]
        out["rules_passed"] = list(self.rules_passed)
        return out


@dataclass(frozen=True)
class Decision:
    """What to show one client: offers (best first), why others were not, or why nothing.

    rejected maps each product that broke a rule to the ids of the rules it broke.
    no_contact_reason is a reason code (see core.decision.reasons) when offers is empty.
    """

    client_id: int | str
    offers: list[Offer] = field(default_factory=list)
    rejected: dict[str, list[str]] = field(default_factory=dict)
    no_contact_reason: str | None = None
