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
import random
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np

from core.catalog import load_catalog
from core.db.session import database_url, raw_connection
from core.decision import Candidate, ClientContext, Contact, decide, explain_reason, load_rules
from core.features import build_features_db
from core.features.life_events import detect_life_events
from core.models.base import eligibility_mask
from core.services.analytics import NotFound
from core.services.registry import ModelSet, load_latest

CONTACT_LOOKBACK_DAYS = 90


async def client_context(
    conn: asyncpg.Connection, client_id: int, life_events: set[str], now: datetime
) -> ClientContext:
    row = await conn.fetchrow(
        "SELECT id, age, is_resident, segment, income, marketing_consent, contact_opt_out, language "
        "FROM client WHERE id = $1",
        client_id,
    )
    if row is None:
        raise NotFound(f"client {client_id} not found")
    held = await conn.fetch(
        "SELECT product_code FROM holding WHERE client_id = $1 AND month = "
        "(SELECT max(month) FROM holding WHERE client_id = $1)",
        client_id,
    )
    contacts = await conn.fetch(
        "SELECT product_code, shown_at, response FROM offer_log WHERE client_id = $1 "
        "AND arm = 'treatment' AND shown_at >= $2 ORDER BY shown_at",
        client_id,
        now - timedelta(days=CONTACT_LOOKBACK_DAYS),
    )
    return ClientContext(
        client_id=client_id,
        age=int(row["age"] if row["age"] is not None else 40),
        is_resident=bool(row["is_resident"]),
        segment=row["segment"],
        income=float(row["income"]) if row["income"] is not None else None,
        marketing_consent=bool(row["marketing_consent"]),
        contact_opt_out=bool(row["contact_opt_out"]),
        held=frozenset(r["product_code"] for r in held),
        now=now,
        recent_contacts=tuple(Contact(r["product_code"], r["shown_at"], r["response"]) for r in contacts),
        life_events=frozenset(life_events),
        language="en" if row["language"] == "en" else "ru",
    )


async def recommend_for_client(
    client_id: int,
    url: str | None = None,
    models: ModelSet | None = None,
    rng: random.Random | None = None,
    store: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The decision for one client now, with reasons and the hybrid-only comparison."""
    url = url or database_url()
    catalog = load_catalog()
    rules = load_rules(catalog=catalog)
    now = now or datetime.now(UTC)
    async with raw_connection(url) as conn:
        models = models or await load_latest(conn)
        if models is None:
            raise NotFound("no trained model set: run `recsys train` first")
        X = await build_features_db(
            conn, models.serve_cutoff, [client_id], products=models.products, clusters=models.clusters
        )
        if X.empty:
            raise NotFound(f"client {client_id} has no data at {models.serve_cutoff}")
        events = detect_life_events(X)[0]
        ctx = await client_context(conn, client_id, events, now)
        p_take = models.score(X)[0]
        uplift = models.uplift_scores(X)[0]
        reasons = models.hybrid.reasons(X)[0]
        candidates = [
            Candidate(
                product_code=code,
                p_take=float(p_take[j]),
                uplift=None if np.isnan(uplift[j]) else float(uplift[j]),
                top_reasons=tuple(reasons.get(code, [])),
            )
            for j, code in enumerate(models.products)
        ]
        decision = decide(ctx, candidates, catalog, rules, rng or random.Random())
        ok = eligibility_mask(X, models.products, catalog)[0]
        order = [j for j in np.argsort(-p_take) if ok[j]][:3]
        hybrid_only = [{"product": models.products[j], "p_take": round(float(p_take[j]), 5)} for j in order]
        offers = [
            {
                **asdict(o),
                "name": catalog[o.product_code].name_ru
                if ctx.language == "ru"
                else catalog[o.product_code].name_en,
                "reason_texts": [explain_reason(code, ctx.language, rules) for code in o.reason_codes],
            }
            for o in decision.offers
        ]
        result: dict[str, Any] = {
            "client_id": client_id,
            "model_version": models.version,
            "cutoff": models.serve_cutoff,
            "life_events": sorted(events),
            "offers": offers,
            "rejected": decision.rejected,
            "no_contact_reason": decision.no_contact_reason,
            "hybrid_only": hybrid_only,
        }
        if store:
            result["recommendation_id"] = await conn.fetchval(
                "INSERT INTO recommendation (client_id, strategy, model_version, items) "
                "VALUES ($1, 'uplift+rules', $2, $3::jsonb) RETURNING id",
                client_id,
                models.version,
                json.dumps(offers, default=str),
            )
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
