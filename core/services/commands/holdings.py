"""Product holdings: a client takes a product up or drops one, in its latest snapshot month.

Each change writes the holding, the month's product_event (what the features read) and the
outbox event in one transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg

from core.catalog import load_catalog
from core.events import add_event
from core.services.commands.errors import NotFound, ValidationError
from core.services.commands.validation import validate_product


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
