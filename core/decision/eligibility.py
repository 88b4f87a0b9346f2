"""Evaluate each declared rule for one (client, product): pure functions, no I/O.

Each rule id maps to one small check, so a reader can match a line of rules.toml with the
code that enforces it. A check returns True when the product may be offered. All failing
rules are reported (not only the first), so `Decision.rejected` tells the whole story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from core.catalog import Catalog, ProductSpec
from core.decision.config import DecisionRules, RuleSpec
from core.decision.types import Candidate, ClientContext

Check = Callable[[RuleSpec, ProductSpec, "ContextFacts", Candidate | None, Catalog], bool]


def contacts_in_window(ctx: ClientContext, days: int) -> int:
    """Notifications (distinct shown_at) within the last `days` days; future ones count too.

    Several offers in one notification are one contact for the client, so they count once.
    """
    window = timedelta(days=days)
    return len({c.shown_at for c in ctx.recent_contacts if ctx.now - c.shown_at < window})


def credit_payments(codes: Iterable[str], catalog: Catalog) -> float:
    """Estimated monthly instalments (EUR) of the credit products among `codes`."""
    total = 0.0
    for code in codes:
        if code in catalog.codes:
            spec = catalog[code]
            if spec.is_credit and spec.monthly_payment is not None:
                total += float(spec.monthly_payment)
    return total


def within_debt_burden(
    ctx: ClientContext, new_codes: Iterable[str], catalog: Catalog, max_ratio: float
) -> bool:
    """(held + new credit instalments) / monthly income <= max_ratio; unknown income fails."""
    return _payments_within(ctx, credit_payments(set(ctx.held) | set(new_codes), catalog), max_ratio)


def _payments_within(ctx: ClientContext, payments: float, max_ratio: float) -> bool:
    """Monthly instalments `payments` / monthly income <= max_ratio; unknown income fails."""
    if ctx.income is None or ctx.income <= 0:
        return False
    # Multiplied out, not divided: a denormal income must not divide by zero.
    return payments * 12.0 <= max_ratio * ctx.income


def conflicts_with(spec: ProductSpec, codes: Iterable[str], catalog: Catalog) -> bool:
    """Whether the product conflicts with any of `codes`, declared on either side."""
    for code in codes:
        if code in spec.conflicts:
            return True
        if code in catalog.codes and spec.code in catalog[code].conflicts:
            return True
    return False


def _recent_response(ctx: ClientContext, code: str, response: str, days: int) -> bool:
    window = timedelta(days=days)
    return any(
        c.product_code == code and c.response == response and ctx.now - c.shown_at < window
        for c in ctx.recent_contacts
    )


class ContextFacts:
    """What the rules read from one client's context, worked out once per decision.

    Why: decide() evaluates about ten rules for each of some twenty products; recounting the
    contact window and rescanning the contact history per product (and per rule) was most of
    the worker's decision time. The answers are the ones contacts_in_window,
    _recent_response, conflicts_with and credit_payments give, only memoised; the rules that
    read nothing but the client (`CLIENT_ONLY`) are evaluated once per client, not once per
    product.
    """

    __slots__ = ("ctx", "_contacts", "_responded", "_blocked", "_held_payments", "rule_answers")

    def __init__(self, ctx: ClientContext) -> None:
        self.ctx = ctx
        self._contacts: dict[int, int] = {}
        self._responded: dict[tuple[str, int], frozenset[str]] = {}
        self._blocked: frozenset[str] | None = None
        self._held_payments: float | None = None
        self.rule_answers: dict[str, bool] = {}

    def conflicts(self, spec: ProductSpec, catalog: Catalog) -> bool:
        """conflicts_with(spec, ctx.held, catalog): declared on the product's side, or on the
        side of a held product (the codes those name, collected once per client)."""
        if self._blocked is None:
            self._blocked = frozenset(
                c for h in self.ctx.held if h in catalog.codes for c in catalog[h].conflicts
            )
        return spec.code in self._blocked or not self.ctx.held.isdisjoint(spec.conflicts)

    def within_debt_burden(self, spec: ProductSpec, catalog: Catalog, max_ratio: float) -> bool:
        """within_debt_burden(ctx, [spec.code], ...), the held products' instalments summed once
        per client."""
        ctx = self.ctx
        if self._held_payments is None:
            self._held_payments = credit_payments(ctx.held, catalog)
        extra = 0.0 if spec.code in ctx.held else credit_payments((spec.code,), catalog)
        return _payments_within(ctx, self._held_payments + extra, max_ratio)

    def contacts(self, days: int) -> int:
        """contacts_in_window(ctx, days), counted once per window."""
        found = self._contacts.get(days)
        if found is None:
            found = self._contacts[days] = contacts_in_window(self.ctx, days)
        return found

    def responded(self, code: str, response: str, days: int) -> bool:
        """_recent_response(ctx, code, response, days): the products answered so within the
        window, collected once per (response, window)."""
        codes = self._responded.get((response, days))
        if codes is None:
            ctx, window = self.ctx, timedelta(days=days)
            codes = frozenset(
                c.product_code
                for c in ctx.recent_contacts
                if c.response == response and ctx.now - c.shown_at < window
            )
            self._responded[(response, days)] = codes
        return code in codes


def _is_sure_thing(rule: RuleSpec, cand: Candidate | None) -> bool:
    """Likely taken up anyway: p_take above the threshold, or uplift tiny next to p_take."""
    if cand is None:
        return False
    if cand.p_take > rule.num("p_take_max"):
        return True
    u = cand.uplift
    return u is not None and 0.0 <= u < rule.num("min_uplift") and cand.p_take > u


CHECKS: dict[str, Check] = {
    "marketing_consent": lambda r, p, f, c, cat: f.ctx.marketing_consent,
    "contact_opt_out": lambda r, p, f, c, cat: not f.ctx.contact_opt_out,
    "contact_cap": lambda r, p, f, c, cat: f.contacts(int(r.num("window_days"))) < r.num("max_contacts"),
    "age_limits": lambda r, p, f, c, cat: (
        p.min_age <= f.ctx.age and (p.max_age is None or f.ctx.age <= p.max_age)
    ),
    "residency": lambda r, p, f, c, cat: f.ctx.is_resident,
    "segment": lambda r, p, f, c, cat: f.ctx.segment in r.params["segments"],
    "credit_adults": lambda r, p, f, c, cat: f.ctx.age >= r.num("min_age"),
    "debt_burden": lambda r, p, f, c, cat: f.within_debt_burden(p, cat, r.num("max_ratio")),
    "cooling_off_decline": lambda r, p, f, c, cat: not f.responded(p.code, "decline", int(r.num("days"))),
    "cooling_off_dismiss": lambda r, p, f, c, cat: not f.responded(p.code, "dismiss", int(r.num("days"))),
    "already_held": lambda r, p, f, c, cat: p.code not in f.ctx.held,
    "conflicts": lambda r, p, f, c, cat: not f.conflicts(p, cat),
    "requires": lambda r, p, f, c, cat: f.ctx.held.issuperset(p.requires),
    "partner_adults": lambda r, p, f, c, cat: f.ctx.age >= r.num("min_age"),
    "sleeping_dog": lambda r, p, f, c, cat: c is None or c.uplift is None or c.uplift >= 0.0,
    "sure_thing": lambda r, p, f, c, cat: not _is_sure_thing(r, c),
}
# Rules whose answer depends on the client and the rule only (not the product, candidate or
# catalog): ContextFacts keeps their answer for the rest of the decision.
CLIENT_ONLY: frozenset[str] = frozenset(
    {
        "marketing_consent",
        "contact_opt_out",
        "contact_cap",
        "residency",
        "segment",
        "credit_adults",
        "partner_adults",
    }
)


def evaluate(
    spec: ProductSpec,
    ctx: ClientContext,
    candidate: Candidate | None,
    catalog: Catalog,
    rules: DecisionRules,
    facts: ContextFacts | None = None,
) -> tuple[list[str], list[str]]:
    """(passed, failed) rule ids, in file order, of the rules that concern this product.

    `facts`: the client's ContextFacts, shared by the evaluations of one decision (made here
    when not given); it must be for `ctx`."""
    if facts is None:
        facts = ContextFacts(ctx)
    elif facts.ctx is not ctx:
        raise ValueError("evaluate: facts are for another context")
    passed: list[str] = []
    failed: list[str] = []
    known = facts.rule_answers
    for rule in rules.applicable(spec):
        rid = rule.id
        if rid in CLIENT_ONLY:
            ok = known.get(rid)
            if ok is None:
                ok = known[rid] = CHECKS[rid](rule, spec, facts, candidate, catalog)
        else:
            ok = CHECKS[rid](rule, spec, facts, candidate, catalog)
        (passed if ok else failed).append(rid)
    return passed, failed
