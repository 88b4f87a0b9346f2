"""Write use cases of the app: each change and its outbox event in one transaction.

The API (and any other caller) stays thin: it authorises, then calls one function here with
an asyncpg connection. Every function validates its input first (pure functions below,
raising `ValidationError` that names the offending field), so bad input stores nothing; then
it writes the change and its event (`core.events.add_event`) inside one transaction, so an
event exists exactly when the change does.

Live writes follow the conventions of docs/EVENTS.md: products are taken up or dropped in
the client's latest snapshot month (the serving month), a new client's snapshot month is the
serving month, operations keep their real time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import asyncpg

from core.catalog import Catalog, load_catalog
from core.decision.types import RESPONSES
from core.domain import OPERATION_CATEGORIES, SEGMENTS
from core.events import add_event

MAX_AMOUNT = Decimal("10000000")  # |amount| of one operation, EUR
MAX_INCOME = Decimal("100000000")  # annual income, EUR
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(minutes=1)
MAX_DESCRIPTION = 500  # operation.description column
SEXES = ("H", "V")  # as in the Santander data
LANGUAGES = ("ru", "en")
CENT = Decimal("0.01")


class NotFound(LookupError):
    """A client or notification that does not exist (like core.services.analytics.NotFound,
    defined here so that the write paths do not import the model stack)."""


class ValidationError(ValueError):
    """Input that cannot be stored; `field` names it (snake_case, as in the arguments)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- pure validation --------------------------------------------------------------------------


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


# --- use cases ----------------------------------------------------------------------------------


async def serving_month(conn: asyncpg.Connection, serve_cutoff: str | date | None) -> date:
    """The month live writes belong to: the model set's serving cutoff, else the latest
    snapshot month in the database, else the current calendar month."""
    if serve_cutoff is not None:
        return date.fromisoformat(str(serve_cutoff)[:10])
    latest = await conn.fetchval("SELECT max(snapshot_month) FROM client")
    if latest is not None:
        return latest  # type: ignore[no-any-return]
    today = datetime.now(UTC).date()
    return today.replace(day=1)


async def _client_exists(conn: asyncpg.Connection, client_id: int) -> None:
    if not await conn.fetchval("SELECT 1 FROM client WHERE id = $1", client_id):
        raise NotFound(f"client {client_id} not found")


async def register_client(conn: asyncpg.Connection, q: Questionnaire, month: date) -> int:
    """A new client (cold start: questionnaire only) in the serving month; returns its id."""
    async with conn.transaction():
        # Ids are max + 1 as in the loaders; the lock serialises concurrent registrations.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('recsys.client.id'))")
        client_id = int(await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM client"))
        await conn.execute(
            """
            INSERT INTO client (id, snapshot_month, employee_status, country, sex, age,
                first_contract_date, is_new, seniority_months, primary_status, customer_type,
                relation_type, is_resident, is_foreigner, join_channel, is_deceased,
                province_code, is_active, income, segment, language, marketing_consent,
                contact_opt_out, imputed_fields)
            VALUES ($1, $2, 'N', 'ES', $3, $4, $2, true, 0, 1, '1', 'A', true, false, $5, false,
                $6, true, $7, $8, $9, $10, false, '{}')
            """,
            client_id,
            month,
            q.sex,
            q.age,
            q.join_channel,
            q.province_code,
            q.income,
            q.segment,
            q.language,
            q.marketing_consent,
        )
        await add_event(
            conn,
            "client_registered",
            client_id,
            {"age": q.age, "segment": q.segment, "month": month.isoformat()},
        )
    return client_id


async def add_operation(
    conn: asyncpg.Connection,
    client_id: int,
    amount: float | Decimal,
    category: str,
    occurred_at: datetime | None = None,
    description: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store one operation (validated) and its `operation_added` event; returns the row."""
    now = now or datetime.now(UTC)
    value = validate_amount(amount)
    category = validate_category(category)
    when = validate_occurred_at(occurred_at, now)
    text = validate_text(description, "description", MAX_DESCRIPTION)
    async with conn.transaction():
        await _client_exists(conn, client_id)
        row = await conn.fetchrow(
            "INSERT INTO operation (client_id, occurred_at, amount, category, description) "
            "VALUES ($1, $2, $3, $4::operation_category, $5) "
            "RETURNING id, client_id, occurred_at, amount, category::text AS category, description",
            client_id,
            when,
            value,
            category,
            text,
        )
        await add_event(
            conn,
            "operation_added",
            client_id,
            {"operation_id": row["id"], "amount": str(value), "category": category, "occurred_at": when},
        )
    return dict(row)


async def _holding_month(conn: asyncpg.Connection, client_id: int) -> date:
    """The client's latest snapshot month: the latest holdings month, or the client's
    snapshot month when that is later (a new client, or one who held nothing lately)."""
    row = await conn.fetchrow(
        "SELECT c.snapshot_month, (SELECT max(month) FROM holding h WHERE h.client_id = c.id) AS held "
        "FROM client c WHERE c.id = $1",
        client_id,
    )
    if row is None:
        raise NotFound(f"client {client_id} not found")
    held, snap = row["held"], row["snapshot_month"]
    if held is not None and (snap is None or (held.year, held.month) >= (snap.year, snap.month)):
        return held  # type: ignore[no-any-return]
    if snap is not None:
        return snap  # type: ignore[no-any-return]
    return datetime.now(UTC).date().replace(day=1)


async def take_product(
    conn: asyncpg.Connection, client_id: int, product_code: str, now: datetime | None = None
) -> date:
    """The client takes a product up in its latest snapshot month; returns that month.

    Refused (nothing stored) when the code is unknown, the product is already held, or it
    conflicts with a product the client holds.
    """
    catalog = load_catalog()
    validate_product(product_code, catalog)
    now = now or datetime.now(UTC)
    async with conn.transaction():
        month = await _holding_month(conn, client_id)
        held = {
            r["product_code"]
            for r in await conn.fetch(
                "SELECT product_code FROM holding WHERE client_id = $1 AND month = $2", client_id, month
            )
        }
        if product_code in held:
            raise ValidationError("product_code", "the client already holds this product")
        clash = sorted(set(catalog[product_code].conflicts) & held)
        if clash:
            raise ValidationError("product_code", f"conflicts with held product(s): {', '.join(clash)}")
        await conn.execute(
            "INSERT INTO holding (client_id, month, product_code) VALUES ($1, $2, $3)",
            client_id,
            month,
            product_code,
        )
        await _product_event(conn, client_id, month, product_code, "add", now)
        await add_event(
            conn, "product_taken", client_id, {"product_code": product_code, "month": month.isoformat()}
        )
    return month


async def drop_product(
    conn: asyncpg.Connection, client_id: int, product_code: str, now: datetime | None = None
) -> date:
    """The client drops a product it holds in its latest snapshot month; returns that month."""
    validate_product(product_code)
    now = now or datetime.now(UTC)
    async with conn.transaction():
        month = await _holding_month(conn, client_id)
        status = await conn.execute(
            "DELETE FROM holding WHERE client_id = $1 AND month = $2 AND product_code = $3",
            client_id,
            month,
            product_code,
        )
        if status.split()[-1] == "0":
            raise ValidationError("product_code", "the client does not hold this product")
        await _product_event(conn, client_id, month, product_code, "drop", now)
        await add_event(
            conn, "product_dropped", client_id, {"product_code": product_code, "month": month.isoformat()}
        )
    return month


async def _product_event(
    conn: asyncpg.Connection, client_id: int, month: date, code: str, kind: str, now: datetime
) -> None:
    # Taking, dropping and taking again within one month keeps one row per kind (the latest).
    await conn.execute(
        "INSERT INTO product_event (client_id, month, product_code, kind, occurred_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, month, product_code, kind) "
        "DO UPDATE SET occurred_at = EXCLUDED.occurred_at",
        client_id,
        month,
        code,
        kind,
        now,
    )


async def respond_to_offer(
    conn: asyncpg.Connection,
    client_id: int,
    product_code: str,
    response: str,
    now: datetime | None = None,
) -> int:
    """Record the client's response to an offer of its latest recommendation; returns the
    recommendation id. The offer log row of that offer gets the response (created when the
    recommendation was never logged as shown), and an `offer_feedback` event is written.

    Accepting records the response only: taking the product up is `take_product`.
    """
    validate_product(product_code)
    response = validate_response(response)
    now = now or datetime.now(UTC)
    async with conn.transaction():
        await _client_exists(conn, client_id)
        rec = await conn.fetchrow(
            "SELECT id, created_at, strategy, items FROM recommendation WHERE client_id = $1 "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            client_id,
        )
        items = _items(rec["items"]) if rec is not None else []
        item = next((i for i in items if i.get("product_code") == product_code), None)
        if rec is None or item is None:
            raise ValidationError("product_code", "no current offer of this product to the client")
        updated = await conn.fetchval(
            "UPDATE offer_log SET response = $3 WHERE id = (SELECT id FROM offer_log "
            "WHERE recommendation_id = $1 AND product_code = $2 ORDER BY id DESC LIMIT 1) RETURNING id",
            rec["id"],
            product_code,
            response,
        )
        if updated is None:
            propensity = float(item.get("propensity") or 1.0)
            await conn.execute(
                "INSERT INTO offer_log (client_id, product_code, shown_at, channel, strategy, assignment, "
                "arm, propensity, window_days, response, recommendation_id) "
                "VALUES ($1, $2, $3, 'app', $4, $5, 'treatment', $6, 30, $7, $8)",
                client_id,
                product_code,
                rec["created_at"] or now,
                rec["strategy"],
                "random" if item.get("exploration") else "policy",
                min(max(propensity, 1e-6), 1.0),
                response,
                rec["id"],
            )
        await add_event(
            conn,
            "offer_feedback",
            client_id,
            {"product_code": product_code, "response": response, "recommendation_id": rec["id"]},
        )
    return int(rec["id"])


async def mark_notification_read(
    conn: asyncpg.Connection, notification_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Set read_at (first read wins); returns the notification row. No event."""
    row = await conn.fetchrow(
        "UPDATE notification SET read_at = coalesce(read_at, $2) WHERE id = $1 "
        "RETURNING id, client_id, created_at, kind, title, body, product_code, read_at",
        notification_id,
        now or datetime.now(UTC),
    )
    if row is None:
        raise NotFound(f"notification {notification_id} not found")
    return dict(row)


def _items(raw: Any) -> list[dict[str, Any]]:
    import json

    value = json.loads(raw) if isinstance(raw, str) else raw
    return [dict(i) for i in (value or [])]
