"""Rescore clients on their events: recommendation per event, notification when worth telling.

The worker's use case, free of Kafka: given parsed client events and a connection inside a
transaction, it scores every client of the batch once (core.services.recommend), runs the
decision layer per event, stores one recommendation per event (trigger_event_id), and when
the best offer is one the client has not been told about lately (`told_recently`) writes the
explained notification, logs the contact in offer_log (so the decision layer's contact cap
and cooling-off see it next time) and queues the notification for the notifications topic.

One decision, one story: the notification names the top offer of the row stored for its
event, and that row is the client's latest (created_at is the insert's clock time), the one
the API serves. A registration is decided once: the API decides as the client registers
(current_or_decide) and the worker serves that decision for the registration event instead
of drawing its own; both hold the client's decision lock, so whichever comes second finds
the other's row.
Idempotence: each event is claimed in processed_event in the same transaction as its
effects; replays and duplicates drop out at the claim.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from core.catalog import Catalog, load_catalog
from core.decision import Contact, Decision, DecisionRules, load_rules
from core.events.outbox import EVENT_TYPES, add_notification_events
from core.explain.service import Explainer
from core.explain.template import TemplateExplainer
from core.services.explanations import decide_offers, explain_decisions
from core.services.recommend import (
    STRATEGY,
    latest_recommendations,
    lock_decisions,
    score_clients,
    store_triggered_recommendations,
    stored_items,
)
from core.services.registry import ModelSet
from core.services.scored import ScoredClient

CONSUMER = "worker"
NOTIFY_REPEAT_DAYS = 30
WARM_UP_BATCH = 64  # clients scored once at start-up: more than the small-batch path's 32


class PoisonEvent(ValueError):
    """A message that can never be processed (bad JSON, missing fields, unknown client)."""


@dataclass(frozen=True)
class ClientEvent:
    event_id: uuid.UUID
    event_type: str
    client_id: int
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: bytes | None) -> ClientEvent:
        """Decode a client-events message; PoisonEvent names what is wrong."""
        try:
            data = json.loads(raw or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise PoisonEvent(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise PoisonEvent("event is not a JSON object")
        try:
            event_id = uuid.UUID(str(data["event_id"]))
        except (KeyError, ValueError) as exc:
            raise PoisonEvent("event_id: missing or not a UUID") from exc
        if data.get("event_type") not in EVENT_TYPES:
            raise PoisonEvent(f"event_type: unknown {data.get('event_type')!r}")
        try:
            client_id = int(data["client_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PoisonEvent("client_id: missing or not an integer") from exc
        return cls(event_id, data["event_type"], client_id, data)


@dataclass
class _Plan:
    """One event's decision before anything is written: its offers and whether to notify."""

    event: ClientEvent
    scored: ScoredClient  # with the notification's contact added when notify
    offers: list[dict[str, Any]]
    notify: bool
    decision: Decision | None = None  # a fresh decision, explained into offers after the batch's


@dataclass(frozen=True)
class Outcome:
    event_id: uuid.UUID
    client_id: int
    recommendation_id: int
    notification_id: int | None


def told_recently(s: ScoredClient, now: datetime) -> set[str]:
    """Products the client was contacted about within NOTIFY_REPEAT_DAYS.

    "Worth telling" means a best offer the client has not heard about lately: an operation
    that leaves the best offer where it was (a grocery purchase) sends nothing, and neither
    does the contact policy reshuffling offers already told. The decision layer's contact cap
    and cooling-off still bound the total.
    """
    since = now - timedelta(days=NOTIFY_REPEAT_DAYS)
    return {c.product_code for c in s.ctx.recent_contacts if c.shown_at >= since}


def _title(offer: dict[str, Any], language: str) -> str:
    return ("Новое предложение: " if language == "ru" else "New offer: ") + str(offer["name"])


def notification_translations(offer: dict[str, Any], catalog: Catalog) -> dict[str, dict[str, str]]:
    """The notification of `offer` in the app's other languages (language -> title, body),
    from the offer's translations (core.services.explanations): the bell of an app switched
    to English reads English too. The push itself goes out in the client's language."""
    product = catalog[offer["product_code"]]
    return {
        str(language): {
            "title": _title({"name": product.name(str(language))}, str(language)),
            "body": str(body),
        }
        for language, body in (offer.get("translations") or {}).items()
    }


class Rescorer:
    """Per-batch rescoring with a fixed model set, catalog, rules and explainer."""

    def __init__(
        self,
        models: ModelSet,
        explainer: Explainer,
        *,
        catalog: Catalog | None = None,
        rules: DecisionRules | None = None,
        consumer: str = CONSUMER,
    ) -> None:
        self.models = models
        self.explainer = explainer
        self.catalog = catalog or load_catalog()
        self.rules = rules or load_rules(catalog=self.catalog)
        self.consumer = consumer

    async def warm_up(self, conn: asyncpg.Connection, sizes: tuple[int, ...] = (1, WARM_UP_BATCH)) -> None:
        """Score, decide and explain a few stored clients once, storing nothing.

        Why: the first batch after a start paid about 0.45 s more CPU in scoring than the
        next ones (first calls into the model libraries), and at 40 events/s that is the
        first notifications' latency. One client warms the small-batch path (numpy trees,
        one-row pools) and WARM_UP_BATCH clients the large one. The template writes the
        texts: a warm-up must not spend an LLM's quota."""
        rows = await conn.fetch("SELECT id FROM client ORDER BY id LIMIT $1", max(sizes))
        ids = [int(r["id"]) for r in rows]
        if not ids:
            return
        now = datetime.now(UTC)
        for n in sizes:
            scored = await score_clients(conn, self.models, ids[:n], now, self.catalog)
            decided = [
                (s, decide_offers(s, self.catalog, self.rules, random.Random(0))) for s in scored.values()
            ]
            await explain_decisions(decided, self.catalog, self.rules, TemplateExplainer())

    async def already_processed(self, conn: asyncpg.Connection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        rows = await conn.fetch(
            "SELECT event_id FROM processed_event WHERE consumer = $1 AND event_id = ANY($2)",
            self.consumer,
            ids,
        )
        return {r["event_id"] for r in rows}

    async def claim(self, conn: asyncpg.Connection, events: list[ClientEvent]) -> list[ClientEvent]:
        """Mark the events processed first and keep those this transaction marked: replays (in
        the database, or twice in one batch after a relay re-publish) drop out, and a worker
        racing on the same event (a rebalance) waits on the key, then finds it taken."""
        unique = list({e.event_id: e for e in events}.values())
        rows = await conn.fetch(
            "INSERT INTO processed_event (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id",
            self.consumer,
            [e.event_id for e in unique],
        )
        claimed = {r["event_id"] for r in rows}
        return [e for e in unique if e.event_id in claimed]

    async def mark_processed(self, conn: asyncpg.Connection, ids: list[uuid.UUID]) -> None:
        await conn.executemany(
            "INSERT INTO processed_event (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(self.consumer, i) for i in ids],
        )
        await conn.execute("UPDATE outbox SET processed_at = now() WHERE event_id = ANY($1)", ids)

    async def process(
        self, conn: asyncpg.Connection, events: list[ClientEvent], now: datetime | None = None
    ) -> list[Outcome]:
        """Process events in order (caller holds the transaction). Replays are skipped.

        Raises PoisonEvent when an event's client does not exist (the caller isolates it).
        """
        now = now or datetime.now(UTC)
        todo = await self.claim(conn, events)
        if not todo:
            return []
        clients = sorted({e.client_id for e in todo})
        # The API decides under the same lock (current_or_decide): a registration decided
        # there first is served here, never decided twice with two different draws.
        await lock_decisions(conn, clients)
        registered = [e.client_id for e in todo if e.event_type == "client_registered"]
        decided = await latest_recommendations(conn, registered) if registered else {}
        scored = await score_clients(conn, self.models, clients, now, self.catalog)
        missing = [e for e in todo if e.client_id not in scored]
        if missing:
            raise PoisonEvent(f"client {missing[0].client_id} not found (event {missing[0].event_id})")
        # Decide in event order (a client's second event sees the contact its first one
        # made), then write the batch's rows in a few statements, not a few per event.
        plans: list[_Plan] = []
        for ev in todo:
            first = decided.pop(ev.client_id, None) if ev.event_type == "client_registered" else None
            reuse = stored_items(first) if first is not None else None
            plan = self._decide(ev, scored[ev.client_id], now, reuse)
            scored[ev.client_id] = plan.scored
            plans.append(plan)
        # Reasons and texts after every decision: the model reasons of the whole batch's
        # offers in one pass (a decision needs only the top offer's product, not its text).
        fresh = [(p, p.decision) for p in plans if p.decision is not None]
        explained = await explain_decisions(
            [(p.scored, d) for p, d in fresh], self.catalog, self.rules, self.explainer
        )
        for (plan, _), (_, offers) in zip(fresh, explained, strict=True):
            plan.offers = offers
        rec_ids = await store_triggered_recommendations(
            conn, self.models.version, [(p.event.client_id, p.offers, p.event.event_id) for p in plans]
        )
        notified = await self._notify(conn, [p for p in plans if p.notify], rec_ids, now)
        await conn.execute(
            "UPDATE outbox SET processed_at = now() WHERE event_id = ANY($1)", [e.event_id for e in todo]
        )
        return [
            Outcome(
                p.event.event_id, p.event.client_id, rec_ids[p.event.event_id], notified.get(p.event.event_id)
            )
            for p in plans
        ]

    def _decide(
        self, ev: ClientEvent, s: ScoredClient, now: datetime, reuse: list[dict[str, Any]] | None = None
    ) -> _Plan:
        """`reuse`: the offers of the decision the API already stored for this registration
        (the page shows them): stored again for this event and told, not decided anew.
        A fresh decision's offers are filled in by process (explain_decisions)."""
        decision = None
        if reuse is not None:
            top_code = reuse[0]["product_code"] if reuse else None
        else:
            # Seeded by the event: a replay after a crash decides exactly as the first did.
            decision = decide_offers(s, self.catalog, self.rules, random.Random(ev.event_id.int))
            top_code = decision.offers[0].product_code if decision.offers else None
        offers = reuse or []
        if top_code is None or top_code in told_recently(s, now):
            return _Plan(ev, s, offers, notify=False, decision=decision)
        contact = Contact(top_code, now, None)
        told = replace(s, ctx=replace(s.ctx, recent_contacts=(*s.ctx.recent_contacts, contact)))
        return _Plan(ev, told, offers, notify=True, decision=decision)

    async def _notify(
        self, conn: asyncpg.Connection, plans: list[_Plan], rec_ids: dict[uuid.UUID, int], now: datetime
    ) -> dict[uuid.UUID, int]:
        """Store the notifications, their offer_log contacts and outbox rows; event id ->
        notification id."""
        if not plans:
            return {}
        tops = [p.offers[0] for p in plans]
        titles = [_title(top, p.scored.ctx.language) for p, top in zip(plans, tops, strict=True)]
        translations = [notification_translations(top, self.catalog) for top in tops]
        rows = await conn.fetch(
            "INSERT INTO notification (client_id, kind, language, title, body, product_code, "
            "recommendation_id, payload, event_id) "
            "SELECT c, 'offer', l, t, b, p, r, j, e FROM unnest($1::bigint[], $2::text[], $3::text[], "
            "$4::text[], $5::text[], $6::bigint[], $7::jsonb[], $8::uuid[]) AS u(c, l, t, b, p, r, j, e) "
            "RETURNING id, created_at, event_id",
            [p.event.client_id for p in plans],
            [p.scored.ctx.language for p in plans],
            titles,
            [top["explanation"] for top in tops],
            [top["product_code"] for top in tops],
            [rec_ids[p.event.event_id] for p in plans],
            [
                json.dumps(
                    {
                        "recommendation_id": rec_ids[p.event.event_id],
                        "offers": [o["product_code"] for o in p.offers],
                        "exploration": bool(top.get("exploration")),
                        "translations": tr,
                    }
                )
                for p, top, tr in zip(plans, tops, translations, strict=True)
            ],
            [p.event.event_id for p in plans],
        )
        stored = {r["event_id"]: r for r in rows}
        await conn.execute(
            "INSERT INTO offer_log (client_id, product_code, shown_at, channel, strategy, assignment, arm, "
            "propensity, window_days, recommendation_id) "
            "SELECT c, p, $1, 'push', $2, a, 'treatment', e, 30, r FROM unnest($3::bigint[], $4::text[], "
            "$5::text[], $6::float8[], $7::bigint[]) WITH ORDINALITY AS t(c, p, a, e, r, n) ORDER BY n",
            now,
            STRATEGY,
            [p.event.client_id for p in plans],
            [top["product_code"] for top in tops],
            ["random" if top.get("exploration") else "policy" for top in tops],
            [float(top["propensity"]) for top in tops],
            [rec_ids[p.event.event_id] for p in plans],
        )
        await add_notification_events(
            conn,
            [
                (
                    p.event.client_id,
                    {
                        "notification_id": int(stored[p.event.event_id]["id"]),
                        "client_id": p.event.client_id,
                        "created_at": stored[p.event.event_id]["created_at"].isoformat(),
                        "kind": "offer",
                        "title": title,
                        "body": top["explanation"],
                        "product_code": top["product_code"],
                        "trigger_event_id": str(p.event.event_id),
                        "language": p.scored.ctx.language,
                        "translations": tr,
                    },
                )
                for p, top, title, tr in zip(plans, tops, titles, translations, strict=True)
            ],
        )
        return {p.event.event_id: int(stored[p.event.event_id]["id"]) for p in plans}
