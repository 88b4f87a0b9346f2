"""One decision, one story: the offer a notification names is on the recommendation the API
serves (the latest stored one) at that moment, for a registration (decided by the API and by
the worker's registration event at about the same time, in either order) and for an added
operation. The worker runs here without Kafka (Rescorer.process on a connection), with an
exploration rate of 1 so that a second, independent decision would draw other offers."""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from typing import Any

import asyncpg
import pytest

from core.catalog import load_catalog
from core.decision import load_rules
from core.explain import TemplateExplainer
from core.services import commands
from core.services.recommend import current_or_decide, latest_recommendations, stored_items
from core.services.registry import load_latest
from core.services.rescoring import ClientEvent, Rescorer


async def _rescorer(conn: asyncpg.Connection) -> Rescorer:
    models = await load_latest(conn)
    assert models is not None
    catalog = load_catalog()
    rules = dataclasses.replace(load_rules(catalog=catalog), exploration_epsilon=1.0)
    return Rescorer(models, TemplateExplainer(), catalog=catalog, rules=rules)


async def _register(conn: asyncpg.Connection, rescorer: Rescorer) -> tuple[int, ClientEvent]:
    q = commands.validate_questionnaire(
        age=34, sex="H", segment="individual", income=42000, join_channel="KHE",
        province_code="8", language="ru", marketing_consent=True,
    )  # fmt: skip
    month = await commands.serving_month(conn, rescorer.models.serve_cutoff)
    cid = await commands.register_client(conn, q, month)
    return cid, await _event(conn, cid, "client_registered")


async def _event(conn: asyncpg.Connection, cid: int, event_type: str) -> ClientEvent:
    row = await conn.fetchrow(
        "SELECT event_id FROM outbox WHERE key = $1 AND event_type = $2 ORDER BY id DESC LIMIT 1",
        str(cid),
        event_type,
    )
    raw = {"event_id": str(row["event_id"]), "event_type": event_type, "client_id": cid}
    return ClientEvent.parse(json.dumps(raw).encode())


def _codes(items: list[dict[str, Any]]) -> list[str]:
    return [str(i["product_code"]) for i in items]


async def _story(conn: asyncpg.Connection, cid: int) -> tuple[dict[str, Any], list[str]]:
    """The client's newest notification and the offers the API serves now."""
    note = await conn.fetchrow(
        "SELECT product_code, recommendation_id FROM notification WHERE client_id = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        cid,
    )
    assert note is not None, "no notification"
    latest = (await latest_recommendations(conn, [cid]))[cid]
    assert int(latest["id"]) == int(note["recommendation_id"]), "the notification's row is not the latest"
    return dict(note), _codes(stored_items(latest))


@pytest.fixture
async def db(trained_db: str) -> Any:
    conn = await asyncpg.connect(trained_db)
    try:
        yield conn
    finally:
        await conn.close()


async def test_registration_decided_by_the_api_first_is_the_one_told(trained_db: str, db: Any) -> None:
    rescorer = await _rescorer(db)
    for _ in range(3):
        cid, ev = await _register(db, rescorer)
        shown = await current_or_decide(cid, trained_db, models=rescorer.models, rng=random.Random(0))
        assert not shown["reused"]
        async with db.transaction():
            await rescorer.process(db, [ev])
        note, served = await _story(db, cid)
        assert served == _codes(shown["offers"])  # the page's first offers stay what it serves
        assert note["product_code"] in served


async def test_worker_transaction_begun_before_the_api_stored_serves_the_api_decision(
    trained_db: str, db: Any
) -> None:
    rescorer = await _rescorer(db)
    for _ in range(3):
        cid, ev = await _register(db, rescorer)
        async with db.transaction():
            await db.execute("SELECT 1")  # the worker's transaction (and its now()) begins here
            shown = await current_or_decide(cid, trained_db, models=rescorer.models, rng=random.Random(0))
            await rescorer.process(db, [ev])
        note, served = await _story(db, cid)
        assert served == _codes(shown["offers"])
        assert note["product_code"] in served


async def test_registration_decided_by_the_worker_first_is_what_the_api_serves(
    trained_db: str, db: Any
) -> None:
    rescorer = await _rescorer(db)
    cid, ev = await _register(db, rescorer)
    async with db.transaction():
        [outcome] = await rescorer.process(db, [ev])
    shown = await current_or_decide(cid, trained_db, models=rescorer.models, rng=random.Random(0))
    assert shown["reused"] and shown["recommendation_id"] == outcome.recommendation_id
    note, served = await _story(db, cid)
    assert served == _codes(shown["offers"]) and note["product_code"] in served


async def test_an_added_operation_tells_an_offer_the_client_is_served(trained_db: str, db: Any) -> None:
    rescorer = await _rescorer(db)
    cid, ev = await _register(db, rescorer)
    await current_or_decide(cid, trained_db, models=rescorer.models, rng=random.Random(0))
    async with db.transaction():
        await rescorer.process(db, [ev])
    told = 0
    for amount in (-950, -400, -1200):
        await commands.add_operation(db, cid, amount, "travel", description="tickets")
        # The worker seeds each decision by its event's id (exploration is on for every
        # decision here): fixed ids make the three draws the same on every run, where the
        # outbox's random ids let all three land on already-told offers now and then.
        op = dataclasses.replace(
            await _event(db, cid, "operation_added"), event_id=uuid.uuid5(uuid.NAMESPACE_OID, f"op{amount}")
        )
        async with db.transaction():
            [outcome] = await rescorer.process(db, [op])
        latest = (await latest_recommendations(db, [cid]))[cid]
        assert int(latest["id"]) == outcome.recommendation_id  # the event's row is the one served
        if outcome.notification_id is not None:
            told += 1
            note, served = await _story(db, cid)
            assert note["product_code"] in served
    assert told >= 1


async def test_the_workers_warm_up_stores_nothing(trained_db: str, db: Any) -> None:
    """At start-up the worker scores, decides and explains stored clients once (the first
    batch's model-library start-up cost); none of it may reach a table that a client, the
    API or the contact policy reads."""
    rescorer = await _rescorer(db)
    tables = ("recommendation", "notification", "offer_log", "outbox", "processed_event")
    before = {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    await rescorer.warm_up(db, sizes=(1, 40))
    assert {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in tables} == before
