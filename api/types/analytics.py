"""Analyst and partner views: strategy comparison, product profiles, probabilities, offer stats.

Aggregates only (no personal data beyond what an analyst may see); JSON where the shape is
the evaluation's own and may grow.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.types.products import Product


@strawberry.type
class StrategyMetrics:
    strategy: str
    metrics: JSON


@strawberry.type
class ModelComparison:
    version: str | None
    created_at: datetime | None
    strategies: list[StrategyMetrics]
    uplift: JSON | None
    policy: JSON | None
    window: JSON | None
    test: JSON | None


@strawberry.type
class ProductProfile:
    product_code: str
    holders: int
    profile: JSON


@strawberry.type
class ProductProbability:
    product: Product
    probability: float
    held: bool
    eligible: bool


@strawberry.type(description="Aggregated offer log of one product (no personal data).")
class OfferStats:
    product: Product
    shown: int
    accepted: int
    declined: int
    dismissed: int
    converted: int
