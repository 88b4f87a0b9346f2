"""The transactional outbox: an event is stored in the same transaction as the change.

Why: publishing to Kafka inside a request could succeed while the database write fails (a
ghost event) or the other way round (a lost event). Writing the event row next to the change
makes both commit or neither; the relay (core.events.relay) publishes pending rows later and
re-publishes those not processed in time, so a broker that forgets loses nothing.

Call `add_event` on the connection that holds the write's transaction.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from core.events.topics import CLIENT_EVENTS, NOTIFICATIONS

# What a client event can say. The worker rescores the client on every one of them.
EVENT_TYPES: tuple[str, ...] = (
    "operation_added",
    "product_taken",
    "product_dropped",
    "client_registered",
    "offer_feedback",
)
NOTIFICATION_CREATED = "notification_created"

_INSERT = (
    "INSERT INTO outbox (event_id, topic, key, event_type, payload, attempts) "
    "VALUES ($1, $2, $3, $4, $5::jsonb, $6)"
)


async def add_event(
    conn: asyncpg.Connection,
    event_type: str,
    client_id: int,
    payload: dict[str, Any] | None = None,
    *,
    topic: str = CLIENT_EVENTS,
) -> uuid.UUID:
    """Append one event to the outbox (inside the caller's transaction); returns its id.

    The published message is JSON {event_id, event_type, client_id, payload, created_at},
    keyed by the client id.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"event_type: unknown {event_type!r} (known: {', '.join(EVENT_TYPES)})")
    return await _insert(conn, topic, event_type, client_id, {"client_id": int(client_id), **(payload or {})})


async def add_notification_events(conn: asyncpg.Connection, items: list[tuple[int, dict[str, Any]]]) -> None:
    """Queue stored notifications, given as (client id, notification) pairs, for the
    notifications topic (the API pushes each to its client's subscriptions). Same transaction
    as the notification rows; one statement for the worker's whole batch (a statement per row
    also fired the outbox trigger, and its NOTIFY, once per row)."""
    if not items:
        return
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, key, event_type, payload, attempts) "
        "SELECT e, $1, k, $2, p, 0 FROM unnest($3::uuid[], $4::text[], $5::jsonb[]) "
        "WITH ORDINALITY AS t(e, k, p, n) ORDER BY n",
        NOTIFICATIONS,
        NOTIFICATION_CREATED,
        [uuid.uuid4() for _ in items],
        [str(int(cid)) for cid, _ in items],
        [json.dumps(n, default=str) for _, n in items],
    )


async def _insert(
    conn: asyncpg.Connection, topic: str, event_type: str, client_id: int, payload: dict[str, Any]
) -> uuid.UUID:
    event_id = uuid.uuid4()
    await conn.execute(
        _INSERT, event_id, topic, str(int(client_id)), event_type, json.dumps(payload, default=str), 0
    )
    return event_id
