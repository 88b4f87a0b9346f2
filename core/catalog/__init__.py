"""The product catalog: a data file (products.toml) read into typed, validated entries.

Pure: no database here. `core.catalog.store` puts it into the `product` table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path

from core.domain import LIFE_EVENTS

CATALOG_FILE = Path(__file__).with_name("products.toml")

CATEGORIES = (
    "accounts",
    "cards",
    "deposits",
    "investments",
    "credit",
    "insurance_pensions",
    "services",
    "partner",
)


@dataclass(frozen=True)
class ProductSpec:
    code: str
    kind: str
    category: str
    name_ru: str
    name_en: str
    min_age: int = 18
    max_age: int | None = None
    is_credit: bool = False
    monthly_payment: Decimal | None = None
    requires: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    complements: tuple[str, ...] = ()
    life_events: tuple[str, ...] = ()
    description_ru: str = ""
    description_en: str = ""

    def name(self, language: str) -> str:
        """The product's name in a client's or the app's language ("ru" or "en")."""
        return self.name_en if language == "en" else self.name_ru

    @property
    def santander_column(self) -> str | None:
        """The column of this product in train_ver2.csv (None for partner offers)."""
        if self.kind != "bank":
            return None
        return f"ind_{self.code}_ult1"


@dataclass(frozen=True)
class Catalog:
    products: tuple[ProductSpec, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        validate(self.products)

    # Cached: the decision layer asks these thousands of times per batch of events, and the
    # catalog is immutable (frozen dataclass of tuples).
    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.products)

    @cached_property
    def bank(self) -> tuple[ProductSpec, ...]:
        return tuple(p for p in self.products if p.kind == "bank")

    @cached_property
    def partner(self) -> tuple[ProductSpec, ...]:
        return tuple(p for p in self.products if p.kind == "partner")

    @cached_property
    def bank_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.bank)

    @cached_property
    def _by_code(self) -> dict[str, ProductSpec]:
        return {p.code: p for p in self.products}

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __getitem__(self, code: str) -> ProductSpec:
        return self._by_code[code]


def validate(products: tuple[ProductSpec, ...]) -> None:
    """Refuse a catalog whose references or values make no sense (a typo is an error)."""
    codes = [p.code for p in products]
    dupes = {c for c in codes if codes.count(c) > 1}
    if dupes:
        raise ValueError(f"duplicate product codes: {sorted(dupes)}")
    known = set(codes)
    for p in products:
        where = f"product {p.code!r}"
        if p.kind not in ("bank", "partner"):
            raise ValueError(f"{where}: kind must be bank or partner, got {p.kind!r}")
        if p.category not in CATEGORIES:
            raise ValueError(f"{where}: unknown category {p.category!r}")
        if p.kind == "partner" and not p.code.startswith("partner_"):
            raise ValueError(f"{where}: partner offer codes start with 'partner_'")
        if p.max_age is not None and p.max_age < p.min_age:
            raise ValueError(f"{where}: max_age {p.max_age} < min_age {p.min_age}")
        if p.is_credit and p.monthly_payment is None:
            raise ValueError(f"{where}: a credit product needs monthly_payment")
        for ref_field in ("requires", "conflicts", "complements"):
            unknown = set(getattr(p, ref_field)) - known
            if unknown:
                raise ValueError(f"{where}: {ref_field} names unknown products {sorted(unknown)}")
        bad_events = set(p.life_events) - set(LIFE_EVENTS)
        if bad_events:
            raise ValueError(f"{where}: unknown life events {sorted(bad_events)}")
        if p.code in p.conflicts or p.code in p.requires:
            raise ValueError(f"{where}: refers to itself")


def parse(text: str) -> Catalog:
    raw = tomllib.loads(text)
    specs = []
    for item in raw.get("product", []):
        item = dict(item)
        for key in ("requires", "conflicts", "complements", "life_events"):
            item[key] = tuple(item.get(key, ()))
        if item.get("monthly_payment") is not None:
            item["monthly_payment"] = Decimal(str(item["monthly_payment"]))
        try:
            specs.append(ProductSpec(**item))
        except TypeError as exc:
            raise ValueError(f"product {item.get('code')!r}: {exc}") from exc
    return Catalog(tuple(specs))


@lru_cache
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    return parse(path.read_text(encoding="utf-8"))
