"""Recommend offers for one client: scores -> uplift -> decision layer -> stored result.

The use case the API and the worker call. It gathers the client's context from the
database (questionnaire, products held now, recent contacts, life events read from recent
operations), scores every product with the latest model set (hybrid take-up, cold start,
uplift), lets the decision layer choose, and stores the recommendation with each offer's
logged propensity. It also returns what the hybrid scorer alone would have offered, so the
difference the uplift and the rules make is visible.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np
import pandas as pd

from core.catalog import Catalog, load_catalog
from core.db.holdings_sql import HOLDINGS_NOW
from core.db.session import database_url, raw_connection
from core.decision import Candidate, ClientContext, Contact, load_rules
from core.domain import OPERATION_CATEGORIES
from core.explain.facts import history_facts
from core.explain.service import Explainer
from core.features import build_features_db
from core.features.life_events import detect_life_events
from core.models.base import eligibility_mask
from core.models.shap_reasons import RowReasons
from core.services.analytics import NotFound
from core.services.explanations import decide_and_explain
from core.services.registry import ModelSet, load_latest
from core.services.scored import ScoredClient

CONTACT_LOOKBACK_DAYS = 90
STRATEGY = "uplift+rules"
# Spending categories worth naming in an explanation (income and transfers say little).
_SPENDING = frozenset(OPERATION_CATEGORIES) - {
    "salary",
    "pension",
    "transfer",
    "cash",
    "taxes",
    "loan_payment",
}


def _context(
    row: asyncpg.Record, held: set[str], contacts: list[Contact], events: set[str], now: datetime
) -> ClientContext:
    return ClientContext(
        client_id=int(row["id"]),
        age=int(row["age"] if row["age"] is not None else 40),
        is_resident=bool(row["is_resident"]),
        segment=row["segment"],
        income=float(row["income"]) if row["income"] is not None else None,
        marketing_consent=bool(row["marketing_consent"]),
        contact_opt_out=bool(row["contact_opt_out"]),
        held=frozenset(held),
        now=now,
        recent_contacts=tuple(contacts),
        life_events=frozenset(events),
        language="en" if row["language"] == "en" else "ru",
    )


async def client_contexts(
    conn: asyncpg.Connection, client_ids: list[int], life_events: dict[int, set[str]], now: datetime
) -> dict[int, ClientContext]:
    """Decision contexts of several clients in three queries (questionnaire, holdings, contacts)."""
    rows = await conn.fetch(
        "SELECT id, age, is_resident, segment, income, marketing_consent, contact_opt_out, language "
        "FROM client WHERE id = ANY($1)",
        client_ids,
    )
    held: dict[int, set[str]] = {}
    for r in await conn.fetch(HOLDINGS_NOW, client_ids):
        held.setdefault(int(r["client_id"]), set()).add(r["product_code"])
    contacts: dict[int, list[Contact]] = {}
    for r in await conn.fetch(
        "SELECT client_id, product_code, shown_at, response FROM offer_log WHERE client_id = ANY($1) "
        "AND arm = 'treatment' AND shown_at >= $2 ORDER BY shown_at",
        client_ids,
        now - timedelta(days=CONTACT_LOOKBACK_DAYS),
    ):
        contacts.setdefault(int(r["client_id"]), []).append(
            Contact(r["product_code"], r["shown_at"], r["response"])
        )
    return {
        int(r["id"]): _context(
            r,
            held.get(int(r["id"]), set()),
            contacts.get(int(r["id"]), []),
            life_events.get(int(r["id"]), set()),
            now,
        )
        for r in rows
    }


def _recent_categories(X: pd.DataFrame) -> list[tuple[str, ...]]:
    """Per row: up to three spending categories with operations in the last 3 months, most first."""
    cats = [c for c in sorted(_SPENDING) if f"op_{c}_cnt_3m" in X.columns]
    if not cats:
        return [() for _ in range(len(X))]
    counts = X[[f"op_{c}_cnt_3m" for c in cats]].to_numpy(dtype=float)
    order = np.argsort(-counts, axis=1, kind="stable")[:, :3]
    return [tuple(cats[j] for j in row if counts[i, j] > 0) for i, row in enumerate(order)]


async def score_clients(
    conn: asyncpg.Connection,
    models: ModelSet,
    client_ids: list[int],
    now: datetime,
    catalog: Catalog,
) -> dict[int, ScoredClient]:
    """Score several clients in one pass: features (live), take-up, uplift, reasons, contexts.

    One batch costs a fixed number of queries and one model call whatever its size, which is
    what lets one worker keep up with hundreds of events per second.
    """
    ids = sorted({int(i) for i in client_ids})
    X = await build_features_db(
        conn, models.serve_cutoff, ids, products=models.products, clusters=models.clusters, live=True
    )
    if X.empty:
        return {}
    events = detect_life_events(X)
    row_ids = [int(v) for v in X["client_id"]]
    contexts = await client_contexts(conn, row_ids, dict(zip(row_ids, events, strict=True)), now)
    p_take, reasons = models.score_with_reasons(X)  # reasons: worked out per offer, later
    uplift = models.uplift_scores(X)
    ok = eligibility_mask(X, models.products, catalog)
    categories = _recent_categories(X)
    histories = history_facts(X, models.products)
    # Python floats once for the whole batch: per-element numpy scalar calls cost more than
    # the decision layer itself at hundreds of clients per batch.
    p_rows = p_take.tolist()
    u_rows = [[None if math.isnan(u) else u for u in row] for row in uplift.tolist()]
    top3 = np.argsort(-np.where(ok, p_take, -np.inf), axis=1, kind="stable")[:, :3].tolist()
    out: dict[int, ScoredClient] = {}
    for i, cid in enumerate(row_ids):
        if cid not in contexts:
            continue
        candidates = [
            Candidate(product_code=code, p_take=p_rows[i][j], uplift=u_rows[i][j])
            for j, code in enumerate(models.products)
        ]
        order = [j for j in top3[i] if ok[i, j]]
        out[cid] = ScoredClient(
            client_id=cid,
            ctx=contexts[cid],
            candidates=candidates,
            life_events=sorted(events[i]),
            hybrid_only=[
                {"product": models.products[j], "p_take": round(float(p_take[i, j]), 5)} for j in order
            ],
            recent_categories=categories[i],
            income=contexts[cid].income,
            history=histories[i],
            reasons=RowReasons(reasons, i),
        )
    return out


async def store_recommendation(
    conn: asyncpg.Connection,
    client_id: int,
    model_version: str,
    offers: list[dict[str, Any]],
    *,
    strategy: str = STRATEGY,
) -> int:
    """Store one recommendation not triggered by an event (API, batch job); the worker's
    event-triggered ones go through store_triggered_recommendations.

    created_at is the moment of the insert (clock_timestamp), not the start of the caller's
    transaction (now()): "the latest stored recommendation", which the API serves, must be the
    one stored last, even when a worker transaction that began earlier stores its row later.
    """
    return int(
        await conn.fetchval(
            "INSERT INTO recommendation (client_id, strategy, model_version, items, created_at) "
            "VALUES ($1, $2, $3, $4::jsonb, clock_timestamp()) RETURNING id",
            client_id,
            strategy,
            model_version,
            json.dumps(offers, default=str),
        )
    )


async def store_triggered_recommendations(
    conn: asyncpg.Connection,
    model_version: str,
    rows: list[tuple[int, list[dict[str, Any]], uuid.UUID]],
    *,
    strategy: str = STRATEGY,
) -> dict[uuid.UUID, int]:
    """Store one recommendation per (client, offers, trigger event) in one statement; returns
    trigger event id -> recommendation id. The worker's batch form of store_recommendation:
    one round trip instead of one per event. Trigger event ids must be distinct."""
    if not rows:
        return {}
    stored = await conn.fetch(
        "INSERT INTO recommendation "
        "(client_id, strategy, model_version, items, trigger_event_id, created_at) "
        "SELECT c, $1, $2, i, e, clock_timestamp() "
        "FROM unnest($3::bigint[], $4::jsonb[], $5::uuid[]) WITH ORDINALITY AS t(c, i, e, n) ORDER BY n "
        "RETURNING id, trigger_event_id",
        strategy,
        model_version,
        [cid for cid, _, _ in rows],
        [json.dumps(offers, default=str) for _, offers, _ in rows],
        [ev for _, _, ev in rows],
    )
    return {r["trigger_event_id"]: int(r["id"]) for r in stored}


# Advisory-lock namespace of "deciding for a client": every path that decides and stores a
# client's recommendation holds it (API, worker), so two decisions for one change never race.
DECISION_LOCK = 0x5EC31


async def lock_decisions(conn: asyncpg.Connection, client_ids: list[int]) -> None:
    """Hold the decision lock of each client until the caller's transaction ends (ascending
    order, so that a worker batch and an API request never deadlock)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, (c % 2147483647)::int) "
        "FROM (SELECT DISTINCT unnest($2::bigint[]) AS c ORDER BY 1) AS ids",
        DECISION_LOCK,
        sorted({int(c) for c in client_ids}),
    )


LATEST_COLUMNS = "id, client_id, created_at, strategy, model_version, items"


async def latest_recommendations(
    conn: asyncpg.Connection, client_ids: list[int]
) -> dict[int, asyncpg.Record]:
    """Each client's latest stored recommendation (the one the API serves), by client id."""
    rows = await conn.fetch(
        f"SELECT DISTINCT ON (client_id) {LATEST_COLUMNS} FROM recommendation "
        "WHERE client_id = ANY($1::bigint[]) ORDER BY client_id, created_at DESC, id DESC",
        sorted({int(c) for c in client_ids}),
    )
    return {int(r["client_id"]): r for r in rows}


def stored_items(row: asyncpg.Record) -> list[dict[str, Any]]:
    raw = row["items"]
    value = json.loads(raw) if isinstance(raw, str) else raw
    return [dict(i) for i in (value or [])]


async def current_or_decide(
    client_id: int,
    url: str | None = None,
    *,
    models: ModelSet | None = None,
    rng: random.Random | None = None,
    explainer: Explainer | None = None,
) -> dict[str, Any]:
    """The client's current recommendation: the latest stored one, else a decision made and
    stored now, under the client's decision lock.

    The API's path (a first visit, a registration). A new client's registration event
    reaches the worker at about the same moment; whichever of the two comes second finds the
    other's decision under the lock and serves it, so the offers the page shows and the offer
    the notification names come from one decision (see Rescorer.process).
    """
    async with raw_connection(url or database_url()) as conn, conn.transaction():
        await lock_decisions(conn, [client_id])
        row = (await latest_recommendations(conn, [client_id])).get(client_id)
        if row is not None:
            return {
                "client_id": client_id,
                "model_version": row["model_version"],
                "offers": stored_items(row),
                "no_contact_reason": None,
                "recommendation_id": int(row["id"]),
                "reused": True,
            }
        result = await recommend_for_client(
            client_id, models=models, rng=rng, store=True, conn=conn, explainer=explainer
        )
        return {**result, "reused": False}


async def recommend_for_client(
    client_id: int,
    url: str | None = None,
    models: ModelSet | None = None,
    rng: random.Random | None = None,
    store: bool = True,
    now: datetime | None = None,
    conn: asyncpg.Connection | None = None,
    explainer: Explainer | None = None,
) -> dict[str, Any]:
    """The decision for one client now, with reasons, explanations and the hybrid-only comparison.

    `explainer` defaults to the one the settings choose (the template unless an LLM is set).
    """
    if conn is None:
        async with raw_connection(url or database_url()) as own:
            return await recommend_for_client(
                client_id, models=models, rng=rng, store=store, now=now, conn=own, explainer=explainer
            )
    catalog = load_catalog()
    rules = load_rules(catalog=catalog)
    now = now or datetime.now(UTC)
    models = models or await load_latest(conn)
    if models is None:
        raise NotFound("no trained model set: run `recsys train` first")
    scored = (await score_clients(conn, models, [client_id], now, catalog)).get(client_id)
    if scored is None:
        raise NotFound(f"client {client_id} not found or has no data at {models.serve_cutoff}")
    from core.explain import make_explainer

    decision, offers = await decide_and_explain(
        scored, catalog, rules, rng or random.Random(), explainer or make_explainer()
    )
    result: dict[str, Any] = {
        "client_id": client_id,
        "model_version": models.version,
        "cutoff": models.serve_cutoff,
        "life_events": scored.life_events,
        "offers": offers,
        "rejected": decision.rejected,
        "no_contact_reason": decision.no_contact_reason,
        "hybrid_only": scored.hybrid_only,
    }
    if store:
        result["recommendation_id"] = await store_recommendation(conn, client_id, models.version, offers)
    return result


async def demo_client_ids(n: int, url: str | None = None) -> list[int]:
    """A few clients worth showing: with a detected life event or a recent campaign first."""
    async with raw_connection(url or database_url()) as conn:
        rows = await conn.fetch(
            "SELECT c.id FROM client c WHERE c.marketing_consent AND NOT c.contact_opt_out "
            "AND c.age BETWEEN 25 AND 60 ORDER BY c.income DESC NULLS LAST, c.id LIMIT $1",
            n,
        )
    return [int(r["id"]) for r in rows]
