"""Read and validate core/decision/rules.toml into typed, immutable settings.

The rules are data so a product owner or compliance officer can read and change them
without touching code; the code only knows how to evaluate each rule id. Validation is
strict (unknown id, product, category or parameter -> ValueError naming the field),
because a typo in a regulator rule must fail loudly at load time, not silently at runtime.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.catalog import CATEGORIES, Catalog, ProductSpec, load_catalog
from core.domain import SEGMENTS

RULES_FILE = Path(__file__).with_name("rules.toml")

# Per rule id: parameter name -> (type, minimum, maximum or None). Lists are of SEGMENTS.
_INT, _FLOAT, _SEGMENTS = "int", "float", "segments"
RULE_PARAMS: dict[str, dict[str, tuple[str, float, float | None]]] = {
    "marketing_consent": {},
    "contact_opt_out": {},
    "contact_cap": {"max_contacts": (_INT, 1, None), "window_days": (_INT, 1, None)},
    "age_limits": {},
    "residency": {},
    "segment": {"segments": (_SEGMENTS, 1, None)},
    "credit_adults": {"min_age": (_INT, 0, 150)},
    "debt_burden": {"max_ratio": (_FLOAT, 0.0, 10.0)},
    "cooling_off_decline": {"days": (_INT, 0, None)},
    "cooling_off_dismiss": {"days": (_INT, 0, None)},
    "already_held": {},
    "conflicts": {},
    "requires": {},
    "partner_adults": {"min_age": (_INT, 0, 150)},
    "sleeping_dog": {},
    "sure_thing": {"p_take_max": (_FLOAT, 0.0, 1.0), "min_uplift": (_FLOAT, 0.0, 1.0)},
}
RULE_IDS: tuple[str, ...] = tuple(RULE_PARAMS)
# Rules about the client, not the product: when one fails nothing is sent at all.
CLIENT_RULES: tuple[str, ...] = ("marketing_consent", "contact_opt_out", "contact_cap")
_SELECTORS = ("all", "bank", "partner", "credit")
_RULE_KEYS = {"id", "products", "category", "reason_ru", "reason_en"}


@dataclass(frozen=True)
class RuleSpec:
    """One rule as declared: which products it concerns and its parameters."""

    id: str
    reason_ru: str
    reason_en: str
    selector: str | None = None  # all | bank | partner | credit
    codes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    params: Mapping[str, Any] = field(default_factory=dict)

    def applies(self, product: ProductSpec) -> bool:
        """Whether the rule concerns this product (resolved against the live catalog)."""
        if self.selector == "all":
            return True
        if self.selector in ("bank", "partner"):
            return product.kind == self.selector
        if self.selector == "credit":
            return product.is_credit
        return product.code in self.codes or product.category in self.categories

    def num(self, name: str) -> float:
        return float(self.params[name])

    def reason(self, language: str) -> str:
        return self.reason_en if language == "en" else self.reason_ru


@dataclass(frozen=True)
class DecisionRules:
    """All of rules.toml: the rules in file order, the policy knobs and the values."""

    rules: tuple[RuleSpec, ...]
    max_offers: int
    exploration_epsilon: float
    uplift_high: float
    min_expected_value: float
    default_value: float
    values: Mapping[str, float]
    default_commission: float
    commissions: Mapping[str, float]
    partner_take_rate: float
    life_event_take_rate: float
    # Which rules concern a product depends only on the rules and the product: worked out
    # once per product, not once per client (the worker decides for hundreds per second).
    # Keyed by the spec's identity (kept alive in the value, and checked): hashing a frozen
    # ProductSpec hashes all its fields, thousands of times per batch.
    _applicable: dict[int, tuple[ProductSpec, tuple[RuleSpec, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def applicable(self, product: ProductSpec) -> tuple[RuleSpec, ...]:
        """The rules that concern `product`, in file order."""
        found = self._applicable.get(id(product))
        if found is None or found[0] is not product:
            rules = tuple(r for r in self.rules if r.applies(product))
            found = self._applicable[id(product)] = (product, rules)
        return found[1]

    def __getitem__(self, rule_id: str) -> RuleSpec:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def value(self, product: ProductSpec) -> float:
        """EUR per conversion: the partner commission for partner offers, else the margin."""
        if product.kind == "partner":
            return self.commissions.get(product.code, self.default_commission)
        return self.values.get(product.code, self.default_value)


def _number(where: str, raw: Any, lo: float, hi: float | None, integer: bool = False) -> float:
    ok_type = isinstance(raw, int) if integer else isinstance(raw, int | float)
    if isinstance(raw, bool) or not ok_type:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{where}: must be {kind}, got {raw!r}")
    if raw < lo or (hi is not None and raw > hi):
        raise ValueError(f"{where}: {raw!r} is outside [{lo}, {hi if hi is not None else 'inf'}]")
    return float(raw)


def _parse_rule(item: Mapping[str, Any], catalog: Catalog) -> RuleSpec:
    rid = item.get("id")
    if rid not in RULE_PARAMS:
        raise ValueError(f"rule.id: unknown rule id {rid!r} (known: {', '.join(RULE_IDS)})")
    where = f"rule {rid!r}"
    schema = RULE_PARAMS[rid]
    unknown = set(item) - _RULE_KEYS - set(schema)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("reason_ru", "reason_en"):
        text = item.get(key)
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}.{key}: a non-empty text is required")
    if ("products" in item) == ("category" in item):
        raise ValueError(f"{where}: give exactly one of products or category")
    selector, codes, categories = None, frozenset[str](), frozenset[str]()
    if "products" in item:
        raw = item["products"]
        if isinstance(raw, str):
            if raw not in _SELECTORS:
                raise ValueError(f"{where}.products: {raw!r} is not one of {_SELECTORS} or a list")
            selector = raw
        elif isinstance(raw, list) and raw and all(isinstance(c, str) for c in raw):
            bad = set(raw) - set(catalog.codes)
            if bad:
                raise ValueError(f"{where}.products: unknown products {sorted(bad)}")
            codes = frozenset(raw)
        else:
            raise ValueError(f"{where}.products: a selector or a non-empty list of codes")
    else:
        raw = item["category"]
        cats = [raw] if isinstance(raw, str) else raw
        if not isinstance(cats, list) or not cats or set(cats) - set(CATEGORIES):
            raise ValueError(f"{where}.category: unknown category in {raw!r}")
        categories = frozenset(cats)
    params: dict[str, Any] = {}
    for name, (kind, lo, hi) in schema.items():
        pwhere = f"{where}.{name}"
        if name not in item:
            raise ValueError(f"{pwhere}: missing parameter")
        value = item[name]
        if kind == _SEGMENTS:
            if not isinstance(value, list) or not value or set(value) - set(SEGMENTS):
                raise ValueError(f"{pwhere}: a non-empty list of {SEGMENTS}, got {value!r}")
            params[name] = frozenset(value)
        else:
            number = _number(pwhere, value, lo, hi, integer=kind == _INT)
            params[name] = int(number) if kind == _INT else number
    return RuleSpec(rid, item["reason_ru"], item["reason_en"], selector, codes, categories, params)


def _money_table(where: str, raw: Any, catalog: Catalog, kind: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    out = {}
    for code, value in raw.items():
        if code not in catalog.codes or catalog[code].kind != kind:
            raise ValueError(f"{where}.{code}: not a {kind} product of the catalog")
        out[code] = _number(f"{where}.{code}", value, 0.0, None)
    return out


def parse_rules(text: str, catalog: Catalog | None = None) -> DecisionRules:
    """Parse and validate rules text; product codes are checked against `catalog`."""
    catalog = catalog or load_catalog()
    raw = tomllib.loads(text)
    unknown = set(raw) - {"policy", "values", "partner", "rule"}
    if unknown:
        raise ValueError(f"rules file: unknown section(s) {sorted(unknown)}")
    policy = dict(raw.get("policy", {}))
    bad = set(policy) - {"max_offers", "exploration_epsilon", "uplift_high", "min_expected_value"}
    if bad:
        raise ValueError(f"policy: unknown field(s) {sorted(bad)}")
    values = dict(raw.get("values", {}))
    default_value = _number("values.default", values.pop("default", 50.0), 0.0, None)
    partner = dict(raw.get("partner", {}))
    bad = set(partner) - {"default_commission", "take_rate", "life_event_take_rate", "commission"}
    if bad:
        raise ValueError(f"partner: unknown field(s) {sorted(bad)}")
    rules = [_parse_rule(item, catalog) for item in raw.get("rule", [])]
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"rule.id: duplicate rule ids {dupes}")
    missing = [i for i in RULE_IDS if i not in ids]
    if missing:
        raise ValueError(f"rule.id: missing rules {missing} (every rule must be declared)")
    return DecisionRules(
        rules=tuple(rules),
        max_offers=int(_number("policy.max_offers", policy.get("max_offers", 3), 1, 20, integer=True)),
        exploration_epsilon=_number(
            "policy.exploration_epsilon", policy.get("exploration_epsilon", 0.05), 0.0, 1.0
        ),
        uplift_high=_number("policy.uplift_high", policy.get("uplift_high", 0.05), 0.0, 1.0),
        min_expected_value=_number(
            "policy.min_expected_value", policy.get("min_expected_value", 0.0), 0.0, None
        ),
        default_value=default_value,
        values=_money_table("values", values, catalog, "bank"),
        default_commission=_number(
            "partner.default_commission", partner.get("default_commission", 10.0), 0.0, None
        ),
        commissions=_money_table("partner.commission", partner.get("commission", {}), catalog, "partner"),
        partner_take_rate=_number("partner.take_rate", partner.get("take_rate", 0.05), 0.0, 1.0),
        life_event_take_rate=_number(
            "partner.life_event_take_rate", partner.get("life_event_take_rate", 0.15), 0.0, 1.0
        ),
    )


def load_rules(path: Path = RULES_FILE, catalog: Catalog | None = None) -> DecisionRules:
    """Read the rules file (the only I/O of the decision layer) and validate it."""
    return parse_rules(path.read_text(encoding="utf-8"), catalog)
