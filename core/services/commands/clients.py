"""Client writes: registration (cold start) and new operations, each with its outbox event.

Also the serving month live writes belong to and the existence check the other use cases
share.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from core.events import add_event
from core.services.commands.errors import NotFound
from core.services.commands.validation import (
    MAX_DESCRIPTION,
    Questionnaire,
    validate_amount,
    validate_category,
    validate_occurred_at,
    validate_text,
)


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


async def require_client(conn: asyncpg.Connection, client_id: int) -> None:
    """NotFound unless the client exists (inside the caller's transaction, before its write)."""
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
        await require_client(conn, client_id)
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
