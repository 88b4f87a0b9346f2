"""Mutation inputs and payloads: logins, registration, new operations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.types.clients import Client
from api.types.enums import Language, Role
from api.types.offers import Recommendation


@strawberry.type
class AuthPayload:
    token: str
    role: Role  # type: ignore[valid-type]
    client_id: strawberry.ID | None
    expires_at: datetime


@strawberry.type
class RegisterPayload:
    client: Client
    token: str
    recommendation: Recommendation


@strawberry.input
class RegisterClientInput:
    age: int
    sex: str = strawberry.field(description="H | V")
    income: float | None = None
    segment: str = strawberry.field(description="top | individual | student")
    join_channel: str | None = None
    province_code: str | None = None
    language: Language | None = Language.RU
    marketing_consent: bool | None = True


@strawberry.input
class AddOperationInput:
    client_id: strawberry.ID
    amount: float = strawberry.field(description="EUR, signed: inflows positive; non-zero, |amount| <= 1e7")
    category: str = strawberry.field(description="one of core.domain.OPERATION_CATEGORIES")
    occurred_at: datetime | None = strawberry.field(default=None, description="default now")
    description: str | None = None
