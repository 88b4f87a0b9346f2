"""Which claims a model feature may be put into words as (core.explain.claims).

Why separate from the claims: the claims are what can be said about a client and when it
is true; this is how the model's vocabulary (feature names from core.features) maps onto
them, which changes whenever features do. Matched by prefix and pattern, so new windows or
lags need no change here.
"""

from __future__ import annotations

from collections.abc import Callable

from core.domain import OPERATION_CATEGORIES
from core.explain.claims import (
    ACTIVE,
    AGE,
    CATEGORY_CLAIMS,
    COMPLEMENTS,
    GENERIC,
    INCOME,
    LONG_TENURE,
    NEW_CLIENT,
    NEW_PRODUCTS,
    PRODUCTS_CHANGED,
    SALARY_REGULAR,
    SEASON,
    SEGMENT,
    SEVERAL_PRODUCTS,
    SIMILAR_CLIENTS,
    Claim,
    had_claim,
    holds_claim,
)

# Features never turned into words: explaining an offer by them would be discriminatory or
# would only state the obvious.
SILENT_FEATURES: frozenset[str] = frozenset(
    {"sex", "is_deceased", "country", "province_code", "is_foreigner"}
)

_OP_SUFFIXES = ("_recency_days", "_trend", "_cnt_", "_abs_", "_share_")
_LONGEST_FIRST = tuple(sorted(OPERATION_CATEGORIES, key=len, reverse=True))
_PREFIX_RULES: tuple[tuple[Callable[[str], bool], tuple[Claim, ...]], ...] = (
    (lambda f: f.startswith("ops_") or f == "is_active", (ACTIVE,)),
    (lambda f: f.startswith("n_held_"), (SEVERAL_PRODUCTS,)),
    (lambda f: f.startswith("n_add_"), (NEW_PRODUCTS,)),
    (lambda f: f.startswith(("n_drop_", "months_since_change_")), (PRODUCTS_CHANGED,)),
    (lambda f: f in ("history_months", "seniority_months", "is_primary"), (LONG_TENURE,)),
    (lambda f: f == "is_new", (NEW_CLIENT, LONG_TENURE)),
    (lambda f: f.startswith("salary_"), (SALARY_REGULAR,)),
    (lambda f: f == "age", (AGE,)),
    (lambda f: f in ("log_income", "income", "income_missing"), (INCOME,)),
    (lambda f: f == "cluster", (SIMILAR_CLIENTS,)),
    (lambda f: f in ("segment", "customer_type", "relation_type", "employee_status"), (SEGMENT,)),
    (lambda f: f in ("target_month", "is_june"), (SEASON,)),
)


def _op_category(feature: str) -> str | None:
    if not feature.startswith("op_"):
        return None
    rest = feature[3:]
    for cat in _LONGEST_FIRST:
        if rest.startswith(cat) and rest[len(cat) :].startswith(_OP_SUFFIXES):
            return cat
    return None


def _holding(feature: str) -> tuple[str, int] | None:
    """(product, lag) of a hold_<product>_l<lag> feature."""
    if not feature.startswith("hold_"):
        return None
    product, sep, lag = feature[5:].rpartition("_l")
    return (product, int(lag)) if sep and product and lag.isdigit() else None


def feature_claims(feature: str) -> tuple[Claim, ...] | None:
    """The claims a feature that raised the score may be put into words as, in order of
    preference; None for features never put into words.

    The caller says the first one whose predicate holds, or nothing: a feature's name says
    what it measures, not which way the client's value lies (holding a current account
    may raise a score, and so may *not* holding one). Matched by prefix and pattern, so new
    windows or lags need no change here; an unknown feature gets the generic claim.
    """
    if feature in SILENT_FEATURES:
        return None
    cat = _op_category(feature)
    if cat is not None:
        return (CATEGORY_CLAIMS[cat],)
    hold = _holding(feature)
    if hold is not None:
        product, lag = hold
        # Now: only "you have X". A past month: "you used to have X", or "you have X"
        # when it is still held.
        found = (holds_claim(product),) if lag == 0 else (had_claim(product), holds_claim(product))
        return tuple(c for c in found if c is not None) or (COMPLEMENTS,)
    for test, claims in _PREFIX_RULES:
        if test(feature):
            return claims
    return (GENERIC,)


__all__ = ["SILENT_FEATURES", "feature_claims"]
