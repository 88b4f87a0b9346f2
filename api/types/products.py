"""The catalog entry type (Product) and the catalog look-ups resolvers use to build it.

Offers, holdings, notifications and analytics all return products: one definition here.
"""

from __future__ import annotations

import strawberry

from api.errors import BadInput
from core.catalog import Catalog, ProductSpec, load_catalog


@strawberry.type(description="A catalog entry: a bank product or a partner offer.")
class Product:
    code: str
    kind: str = strawberry.field(description="bank | partner")
    category: str
    name_ru: str
    name_en: str
    is_credit: bool
    min_age: int | None
    max_age: int | None
    description_ru: str
    description_en: str

    @classmethod
    def of(cls, spec: ProductSpec) -> Product:
        return cls(
            code=spec.code, kind=spec.kind, category=spec.category, name_ru=spec.name_ru,
            name_en=spec.name_en, is_credit=spec.is_credit, min_age=spec.min_age, max_age=spec.max_age,
            description_ru=spec.description_ru, description_en=spec.description_en,
        )  # fmt: skip


def catalog_product(code: str) -> Product:
    """The Product of a catalog code (the caller has checked the code is in the catalog).

    One object per code and catalog, shared by every answer: a stored recommendation names a
    few products, and building them again was a fifth of reading one."""
    catalog = load_catalog()
    if _PRODUCTS.catalog is not catalog:  # by identity: hashing the catalog walks all of it
        _PRODUCTS.catalog, _PRODUCTS.by_code = catalog, {}
    product = _PRODUCTS.by_code.get(code)
    if product is None:
        product = _PRODUCTS.by_code[code] = Product.of(catalog[code])
    return product


class _Products:
    catalog: Catalog | None = None
    by_code: dict[str, Product] = {}


_PRODUCTS = _Products()


def catalog_product_or_none(code: str | None) -> Product | None:
    """The Product of a stored code, or None when the code has left the catalog since."""
    if code is None or code not in load_catalog().codes:
        return None
    return catalog_product(code)


def catalog_code(code: str, field_name: str = "productCode") -> str:
    """A product code argument, or BAD_INPUT when the catalog does not know it."""
    if code not in load_catalog().codes:
        raise BadInput(field_name, "unknown product code")
    return code
