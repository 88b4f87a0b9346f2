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

Check = Callable[[RuleSpec, ProductSpec, ClientContext, Candidate | None, Catalog], bool]


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
    if ctx.income is None or ctx.income <= 0:
        return False
    payments = credit_payments(set(ctx.held) | set(new_codes), catalog)
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


def _is_sure_thing(rule: RuleSpec, cand: Candidate | None) -> bool:
    """Likely taken up anyway: p_take above the threshold, or uplift tiny next to p_take."""
    if cand is None:
        return False
    if cand.p_take > rule.num("p_take_max"):
        return True
    u = cand.uplift
    return u is not None and 0.0 <= u < rule.num("min_uplift") and cand.p_take > u


CHECKS: dict[str, Check] = {
    "marketing_consent": lambda r, p, ctx, c, cat: ctx.marketing_consent,
    "contact_opt_out": lambda r, p, ctx, c, cat: not ctx.contact_opt_out,
    "contact_cap": lambda r, p, ctx, c, cat: (
        contacts_in_window(ctx, int(r.num("window_days"))) < r.num("max_contacts")
    ),
    "age_limits": lambda r, p, ctx, c, cat: (
        p.min_age <= ctx.age and (p.max_age is None or ctx.age <= p.max_age)
    ),
    "residency": lambda r, p, ctx, c, cat: ctx.is_resident,
    "segment": lambda r, p, ctx, c, cat: ctx.segment in r.params["segments"],
    "credit_adults": lambda r, p, ctx, c, cat: ctx.age >= r.num("min_age"),
    "debt_burden": lambda r, p, ctx, c, cat: within_debt_burden(ctx, [p.code], cat, r.num("max_ratio")),
    "cooling_off_decline": lambda r, p, ctx, c, cat: (
        not _recent_response(ctx, p.code, "decline", int(r.num("days")))
    ),
    "cooling_off_dismiss": lambda r, p, ctx, c, cat: (
        not _recent_response(ctx, p.code, "dismiss", int(r.num("days")))
    ),
    "already_held": lambda r, p, ctx, c, cat: p.code not in ctx.held,
    "conflicts": lambda r, p, ctx, c, cat: not conflicts_with(p, ctx.held, cat),
    "requires": lambda r, p, ctx, c, cat: all(req in ctx.held for req in p.requires),
    "partner_adults": lambda r, p, ctx, c, cat: ctx.age >= r.num("min_age"),
    "sleeping_dog": lambda r, p, ctx, c, cat: c is None or c.uplift is None or c.uplift >= 0.0,
    "sure_thing": lambda r, p, ctx, c, cat: not _is_sure_thing(r, c),
}


def evaluate(
    spec: ProductSpec,
    ctx: ClientContext,
    candidate: Candidate | None,
    catalog: Catalog,
    rules: DecisionRules,
) -> tuple[list[str], list[str]]:
    """(passed, failed) rule ids, in file order, of the rules that concern this product."""
    passed: list[str] = []
    failed: list[str] = []
    for rule in rules.applicable(spec):
        (passed if CHECKS[rule.id](rule, spec, ctx, candidate, catalog) else failed).append(rule.id)
    return passed, failed
