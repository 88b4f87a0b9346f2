"""The client's answers: a response to an offer (the offer log learns from it) and reading a
notification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

from core.events import add_event
from core.services.commands.clients import require_client
from core.services.commands.errors import NotFound, ValidationError
from core.services.commands.validation import validate_product, validate_response


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
        await require_client(conn, client_id)
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
        "RETURNING id, client_id, created_at, kind, title, body, product_code, read_at, language, payload",
        notification_id,
        now or datetime.now(UTC),
    )
    if row is None:
        raise NotFound(f"notification {notification_id} not found")
    return dict(row)


def _items(raw: Any) -> list[dict[str, Any]]:
    """A recommendation's items as dicts, whether jsonb arrives as text or already decoded."""
    value = json.loads(raw) if isinstance(raw, str) else raw
    return [dict(i) for i in (value or [])]
