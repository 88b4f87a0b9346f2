"""Pure input checks of the write use cases: each returns the value as stored or raises
ValidationError naming the field.

Free of I/O so they run before any transaction (bad input stores nothing) and can be tested
without a database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from core.catalog import Catalog, load_catalog
from core.decision.types import RESPONSES
from core.domain import OPERATION_CATEGORIES, SEGMENTS
from core.services.commands.errors import ValidationError

MAX_AMOUNT = Decimal("10000000")  # |amount| of one operation, EUR
MAX_INCOME = Decimal("100000000")  # annual income, EUR
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(minutes=1)
MAX_DESCRIPTION = 500  # operation.description column
SEXES = ("H", "V")  # as in the Santander data
LANGUAGES = ("ru", "en")
CENT = Decimal("0.01")


def validate_amount(amount: float | Decimal | int, field: str = "amount") -> Decimal:
    """A finite, non-zero amount with |amount| <= 1e7, rounded to cents."""
    if isinstance(amount, bool):
        raise ValidationError(field, "must be a number")
    if isinstance(amount, float) and not math.isfinite(amount):
        raise ValidationError(field, "must be a finite number")
    try:
        value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(field, "must be a finite number") from exc
    if not value.is_finite():
        raise ValidationError(field, "must be a finite number")
    if value == 0:
        raise ValidationError(field, "must not be zero (at cent precision)")
    if abs(value) > MAX_AMOUNT:
        raise ValidationError(field, f"must be at most {MAX_AMOUNT:,} in absolute value")
    return value


def validate_occurred_at(value: datetime | None, now: datetime, field: str = "occurred_at") -> datetime:
    """Default now; a naive time is read as UTC; not before 2000, not over a minute ahead."""
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value > now + FUTURE_SLACK:
        raise ValidationError(field, "must not be in the future")
    if value < EARLIEST:
        raise ValidationError(field, "must not be before 2000-01-01")
    return value


def validate_category(category: str, field: str = "category") -> str:
    if category not in OPERATION_CATEGORIES:
        raise ValidationError(field, f"unknown category; one of: {', '.join(OPERATION_CATEGORIES)}")
    return category


def validate_text(value: str | None, field: str, max_length: int) -> str | None:
    """Optional free text: stripped, at most max_length characters, no control characters."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(field, f"at most {max_length} characters")
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise ValidationError(field, "must not contain control characters")
    return value or None


def validate_product(code: str, catalog: Catalog | None = None, field: str = "product_code") -> str:
    catalog = catalog or load_catalog()
    if code not in catalog.codes:
        raise ValidationError(field, "unknown product code")
    return code


def validate_response(response: str, field: str = "response") -> str:
    response = response.lower()
    if response not in RESPONSES:
        raise ValidationError(field, f"one of: {', '.join(RESPONSES)}")
    return response


@dataclass(frozen=True)
class Questionnaire:
    """What a new client tells the bank at registration (validated by `validate_questionnaire`)."""

    age: int
    sex: str
    segment: str
    income: Decimal | None = None
    join_channel: str | None = None
    province_code: int | None = None
    language: str = "ru"
    marketing_consent: bool = True


def validate_questionnaire(
    *,
    age: int,
    sex: str,
    segment: str,
    income: float | None = None,
    join_channel: str | None = None,
    province_code: str | int | None = None,
    language: str = "ru",
    marketing_consent: bool = True,
) -> Questionnaire:
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
        raise ValidationError("age", "must be a whole number from 0 to 120")
    if sex not in SEXES:
        raise ValidationError("sex", "must be H or V")
    if segment not in SEGMENTS:
        raise ValidationError("segment", f"one of: {', '.join(SEGMENTS)}")
    value: Decimal | None = None
    if income is not None:
        if isinstance(income, float) and not math.isfinite(income):
            raise ValidationError("income", "must be a finite number")
        value = Decimal(str(income)).quantize(CENT, rounding=ROUND_HALF_EVEN)
        if value < 0 or value > MAX_INCOME:
            raise ValidationError("income", f"must be from 0 to {MAX_INCOME:,}")
    channel = validate_text(join_channel, "join_channel", 3)
    if channel is not None and not channel.isalnum():
        raise ValidationError("join_channel", "letters and digits only (e.g. KAT)")
    province: int | None = None
    if province_code is not None and str(province_code).strip() != "":
        text = str(province_code).strip()
        if not text.isdigit() or not 1 <= int(text) <= 99:
            raise ValidationError("province_code", "a number from 1 to 99")
        province = int(text)
    language = language.lower()
    if language not in LANGUAGES:
        raise ValidationError("language", "ru or en")
    return Questionnaire(
        age=age,
        sex=sex,
        segment=segment,
        income=value,
        join_channel=channel.upper() if channel else None,
        province_code=province,
        language=language,
        marketing_consent=bool(marketing_consent),
    )
