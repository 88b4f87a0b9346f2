"""GraphQL API through the real ASGI app against a small trained population: every query and
mutation, the outbox events of writes, malformed input, the authorization matrix, DataLoader
query counts, limits (depth, aliases, body size, rate), error masking, health and metrics."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.schema import sdl
from tests.test_api_helpers import (
    FAST_UPLIFT,
    ORIGIN,
    PARTNER_KEY,
    client_for,
    code,
    counts,
    gql,
    make_app,
    ok,
)

ROOT = Path(__file__).resolve().parents[1]
WRITE_TABLES = ("client", "operation", "holding", "product_event", "offer_log", "outbox", "recommendation")


@pytest.fixture(scope="module")
async def population(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """400 simulated clients x 6 months, a quickly trained model set and an evaluation run."""
    from core.data.generate import generate_to_db
    from core.models.hybrid import HybridParams
    from core.services.registry import record_run
    from core.services.training import train_and_save

    await generate_to_db(
        400,
        6,
        seed=7,
        url=db_url,
        chunk_size=400,
        truth_dir=tmp_path_factory.mktemp("truth"),
        show_progress=False,
    )
    await train_and_save(
        db_url, params=HybridParams(iterations_any=20, iterations_which=20), uplift_params=FAST_UPLIFT
    )
    conn = await asyncpg.connect(db_url)
    try:
        await record_run(
            conn,
            "evaluation",
            "v-test",
            train_from=None,
            train_to=None,
            params={},
            metrics={
                "strategies": {"hybrid": {"map@7": 0.02}, "popularity": {"map@7": 0.015}},
                "uplift": {"products": {}},
                "policy": {"budget_share": 0.2},
                "window": {"target_month": "2015-06-01"},
                "test": {"clients": 400},
            },
            artifact_path=None,
        )
    finally:
        await conn.close()
    return db_url


@pytest.fixture(scope="module")
async def app(population: str) -> AsyncIterator[Any]:
    app = make_app(population)
    yield app
    await app.state.recsys.db.close()


@pytest.fixture(scope="module")
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture(scope="module")
async def ids(population: str) -> dict[str, int]:
    """A client with holdings and operations (consenting, adult), and another client."""
    conn = await asyncpg.connect(population)
    try:
        own = await conn.fetchval(
            "SELECT c.id FROM client c WHERE c.marketing_consent AND NOT c.contact_opt_out AND c.age >= 25 "
            "AND EXISTS (SELECT 1 FROM holding h WHERE h.client_id = c.id) "
            "AND (SELECT count(*) FROM operation o WHERE o.client_id = c.id) >= 30 ORDER BY c.id LIMIT 1"
        )
        other = await conn.fetchval("SELECT min(id) FROM client WHERE id <> $1", own)
    finally:
        await conn.close()
    return {"own": int(own), "other": int(other)}


@pytest.fixture(scope="module")
async def tokens(http: httpx.AsyncClient, ids: dict[str, int]) -> dict[str, str]:
    own = ok(
        await gql(
            http,
            "mutation($id: ID!) { demoLogin(clientId: $id) { token role clientId } }",
            {"id": str(ids["own"])},
        )
    )["demoLogin"]
    assert own["role"] == "CLIENT" and own["clientId"] == str(ids["own"])
    other = ok(
        await gql(
            http, "mutation($id: ID!) { demoLogin(clientId: $id) { token } }", {"id": str(ids["other"])}
        )
    )
    analyst = ok(await gql(http, 'mutation { analystLogin(password: "analyst") { token role clientId } }'))
    assert analyst["analystLogin"]["role"] == "ANALYST" and analyst["analystLogin"]["clientId"] is None
    return {
        "own": own["token"],
        "other": other["demoLogin"]["token"],
        "analyst": analyst["analystLogin"]["token"],
    }


# --- schema -------------------------------------------------------------------------------------


def test_schema_file_is_the_printed_schema() -> None:
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == sdl(), (
        "schema.graphql is stale: run `recsys api schema > schema.graphql`"
    )


# --- queries ------------------------------------------------------------------------------------


async def test_products_are_public(http: httpx.AsyncClient) -> None:
    data = ok(await gql(http, "{ products { code kind category nameRu nameEn isCredit minAge } }"))
    kinds = {p["kind"] for p in data["products"]}
    assert kinds == {"bank", "partner"} and len(data["products"]) > 18
    partner = ok(await gql(http, '{ products(kind: "partner") { code kind } }'))["products"]
    assert partner and all(p["kind"] == "partner" for p in partner)
    assert code(await gql(http, '{ products(kind: "loans") { code } }')) == "BAD_USER_INPUT"


async def test_me_and_client_profile(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int]
) -> None:
    query = "{ me { id age sex segment language marketingConsent holdings { since product { code kind } } } }"
    me = ok(await gql(http, query, token=tokens["own"]))["me"]
    assert me["id"] == str(ids["own"]) and me["language"] in ("RU", "EN")
    assert me["holdings"] and all(h["product"]["kind"] == "bank" and h["since"] for h in me["holdings"])
    same = ok(
        await gql(
            http,
            "query($id: ID!) { client(id: $id) { id age } }",
            {"id": str(ids["own"])},
            token=tokens["own"],
        )
    )["client"]
    assert same == {"id": me["id"], "age": me["age"]}
    assert ok(await gql(http, "{ me { id } }", token=tokens["analyst"]))["me"] is None
    assert code(await gql(http, "{ me { id } }")) == "UNAUTHENTICATED"
    assert code(await gql(http, '{ client(id: "999999999") { id } }', token=tokens["analyst"])) == "NOT_FOUND"
    assert code(await gql(http, '{ client(id: "abc") { id } }', token=tokens["analyst"])) == "BAD_USER_INPUT"


OPS = """query($first: Int, $after: String, $category: String, $from: Date, $to: Date) {
  me { operations(first: $first, after: $after, category: $category, dateFrom: $from, dateTo: $to) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id occurredAt amount category } } } } }"""


async def test_operations_cursor_pagination_and_filters(
    http: httpx.AsyncClient, tokens: dict[str, str], population: str, ids: dict[str, int]
) -> None:
    t = tokens["own"]
    first = ok(await gql(http, OPS, {"first": 10}, token=t))["me"]["operations"]
    total = first["totalCount"]
    assert total >= 30 and len(first["edges"]) == 10 and first["pageInfo"]["hasNextPage"]
    seen, after = [], None
    while True:
        page = ok(await gql(http, OPS, {"first": 7, "after": after}, token=t))["me"]["operations"]
        seen += [e["node"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == total and len({n["id"] for n in seen}) == total
    times = [n["occurredAt"] for n in seen]
    assert times == sorted(times, reverse=True)
    category = seen[0]["category"]
    only = ok(await gql(http, OPS, {"first": 100, "category": category}, token=t))["me"]["operations"]
    assert only["edges"] and all(e["node"]["category"] == category for e in only["edges"])
    day = seen[0]["occurredAt"][:10]
    window = ok(await gql(http, OPS, {"first": 100, "from": day, "to": day}, token=t))["me"]["operations"]
    assert window["edges"] and all(e["node"]["occurredAt"][:10] == day for e in window["edges"])
    assert code(await gql(http, OPS, {"first": 101}, token=t)) == "BAD_USER_INPUT"
    assert code(await gql(http, OPS, {"first": 5, "after": "garbage!"}, token=t)) == "BAD_USER_INPUT"
    bad = await gql(http, OPS, {"first": 5, "category": "casino"}, token=t)
    assert code(bad) == "BAD_USER_INPUT" and bad["errors"][0]["extensions"]["field"] == "category"


REC = """query($id: ID!, $s: Strategy) { recommendations(clientId: $id, strategy: $s) {
  id clientId strategy modelVersion createdAt noContactReason
  offers { rank probability uplift expectedValue reasonCodes reasonTexts explanation explanationSource
           propensity exploration response reasons { feature contribution } product { code kind } } } }"""


async def test_recommendations_latest_stored_or_computed_once(
    http: httpx.AsyncClient, tokens: dict[str, str], population: str, ids: dict[str, int]
) -> None:
    cid = ids["own"]
    before = (await counts(population, ("recommendation",)))["recommendation"]
    first = ok(await gql(http, REC, {"id": str(cid)}, token=tokens["own"]))["recommendations"]
    assert first["strategy"] == "UPLIFT_RULES" and first["id"] and first["modelVersion"]
    assert (await counts(population, ("recommendation",)))["recommendation"] == before + 1
    again = ok(await gql(http, REC, {"id": str(cid)}, token=tokens["own"]))["recommendations"]
    assert again["id"] == first["id"]  # served from the stored row, not recomputed
    assert (await counts(population, ("recommendation",)))["recommendation"] == before + 1
    for o in first["offers"]:
        assert 0 <= o["probability"] <= 1 and o["reasonCodes"] and o["explanation"]
        assert o["explanationSource"] == "template" and o["response"] is None
    if not first["offers"]:
        assert first["noContactReason"]
    await _offers_in_both_languages(http, tokens["own"], cid, legacy=False)
    # The worker's rows (with an explainer's text) win as soon as they are newer.
    items = [
        {
            "product_code": "recibo",
            "kind": "bank",
            "category": "services",
            "rank": 1,
            "score": 3.0,
            "expected_value": 3.0,
            "p_take": 0.2,
            "uplift": 0.05,
            "reason_codes": ["UPLIFT_POSITIVE"],
            "reasons": [["age", 0.3]],
            "name": "x",
            "reason_texts": ["Offer raises the chance"],
            "propensity": 0.9,
            "explanation": "Because you pay bills.",
            "explanation_source": "openai",
        },
        {
            "product_code": "tjcr_fin",
            "kind": "bank",
            "category": "cards",
            "rank": 2,
            "score": 1.0,
            "expected_value": 1.0,
            "p_take": 0.1,
            "uplift": None,
            "reason_codes": ["A", "B"],
            "reasons": [],
            "name": "y",
            "reason_texts": ["First reason", "Second reason"],
        },
    ]
    conn = await asyncpg.connect(population)
    try:
        rec_id = await conn.fetchval(
            "INSERT INTO recommendation (client_id, strategy, model_version, items) "
            "VALUES ($1, 'uplift+rules', 'v9', $2::jsonb) RETURNING id",
            cid,
            json.dumps(items),
        )
    finally:
        await conn.close()
    latest = ok(await gql(http, REC, {"id": str(cid)}, token=tokens["own"]))["recommendations"]
    assert latest["id"] == str(rec_id) and latest["modelVersion"] == "v9"
    top, alt = latest["offers"]
    assert top["explanation"] == "Because you pay bills." and top["explanationSource"] == "openai"
    assert top["reasons"] == [{"feature": "age", "contribution": 0.3}] and top["uplift"] == 0.05
    assert alt["explanation"] == "First reason. Second reason." and alt["explanationSource"] == "template"
    assert alt["uplift"] is None
    await _offers_in_both_languages(http, tokens["own"], cid, legacy=True)


REC_LANG = """query($id: ID!) { recommendations(clientId: $id) { offers {
  reasonCodes explanation reasonTexts product { code nameRu nameEn }
  texts { language explanation reasonTexts } } } }"""


async def _offers_in_both_languages(http: httpx.AsyncClient, token: str, cid: int, legacy: bool) -> None:
    """The app's language switch: each offer's explanation and reasons in both languages,
    the client's own (RU) as the plain fields, English from the same reason codes; a row
    stored before texts were kept in both languages (`legacy`) has none."""
    from core.decision import explain_reason

    own = ok(await gql(http, "{ me { language } }", token=token))["me"]["language"]
    assert own == "RU"  # the simulated population's clients are Russian-speaking
    offers = ok(await gql(http, REC_LANG, {"id": str(cid)}, token=token))["recommendations"]["offers"]
    assert offers
    for o in offers:
        if legacy:
            assert o["texts"] == []
            continue
        texts = {t["language"]: t for t in o["texts"]}
        assert set(texts) == {"RU", "EN"}
        ru, en = texts["RU"], texts["EN"]
        assert ru["explanation"] == o["explanation"] and ru["reasonTexts"] == o["reasonTexts"]
        names = o["product"]
        assert names["nameEn"] in en["explanation"] and names["nameRu"] not in en["explanation"]
        assert en["explanation"].startswith("Our") and "We chose it because" in en["explanation"]
        assert en["reasonTexts"] == [explain_reason(c, "en") for c in o["reasonCodes"]] != ru["reasonTexts"]


async def test_analysts_compare_strategies(
    http: httpx.AsyncClient, tokens: dict[str, str], population: str, ids: dict[str, int]
) -> None:
    before = (await counts(population, ("recommendation",)))["recommendation"]
    for strategy in ("HYBRID", "POPULARITY", "RULES", "CF"):
        rec = ok(await gql(http, REC, {"id": str(ids["other"]), "s": strategy}, token=tokens["analyst"]))
        rec = rec["recommendations"]
        assert rec["strategy"] == strategy and rec["id"] is None
        probs = [o["probability"] for o in rec["offers"]]
        assert rec["offers"] and probs == sorted(probs, reverse=True)
        assert [o["rank"] for o in rec["offers"]] == list(range(1, len(probs) + 1))
    assert (await counts(population, ("recommendation",)))["recommendation"] == before  # nothing stored
    llm = await gql(http, REC, {"id": str(ids["other"]), "s": "LLM"}, token=tokens["analyst"])
    assert code(llm) == "BAD_USER_INPUT" and llm["errors"][0]["extensions"]["field"] == "strategy"
    hybrid = await gql(http, REC, {"id": str(ids["own"]), "s": "HYBRID"}, token=tokens["own"])
    assert code(hybrid) == "FORBIDDEN"


NOTES = """query($id: ID!, $unread: Boolean) { notifications(clientId: $id, unreadOnly: $unread) {
  id clientId createdAt kind title body readAt product { code } texts { language title body } } }"""


async def test_notifications_and_mark_read(
    http: httpx.AsyncClient, tokens: dict[str, str], population: str, ids: dict[str, int]
) -> None:
    cid = ids["own"]
    conn = await asyncpg.connect(population)
    try:
        note_ids = [
            await conn.fetchval(
                "INSERT INTO notification (client_id, kind, language, title, body, product_code) "
                "VALUES ($1, 'offer', 'ru', $2, 'body', $3) RETURNING id",
                cid,
                f"title {i}",
                code_,
            )
            for i, code_ in enumerate(["recibo", None])
        ]
        translated = await conn.fetchval(
            "INSERT INTO notification (client_id, kind, language, title, body, product_code, payload) "
            "VALUES ($1, 'offer', 'ru', 'Новое предложение: Кредитная карта', 'Потому что', 'tjcr_fin', "
            "$2::jsonb) RETURNING id",
            cid,
            json.dumps({"translations": {"en": {"title": "New offer: Credit card", "body": "Because"}}}),
        )
        other_note = await conn.fetchval(
            "INSERT INTO notification (client_id, kind, language, title, body) "
            "VALUES ($1, 'offer', 'ru', 't', 'b') RETURNING id",
            ids["other"],
        )
    finally:
        await conn.close()
    notes = ok(await gql(http, NOTES, {"id": str(cid)}, token=tokens["own"]))["notifications"]
    # Both languages of a notification the worker stored with its translation (the app's
    # language switch); none for one stored without.
    assert notes[0]["id"] == str(translated) and notes[0]["texts"] == [
        {"language": "RU", "title": "Новое предложение: Кредитная карта", "body": "Потому что"},
        {"language": "EN", "title": "New offer: Credit card", "body": "Because"},
    ]
    notes = notes[1:]
    assert notes[0]["texts"] == []
    assert [n["id"] for n in notes[:2]] == [str(i) for i in reversed(note_ids)]
    assert notes[1]["product"] == {"code": "recibo"} and notes[0]["product"] is None
    mark = "mutation($id: ID!) { markNotificationRead(id: $id) { id readAt } }"
    read = ok(await gql(http, mark, {"id": str(note_ids[0])}, token=tokens["own"]))["markNotificationRead"]
    assert read["readAt"]
    unread = ok(await gql(http, NOTES, {"id": str(cid), "unread": True}, token=tokens["own"]))[
        "notifications"
    ]
    assert str(note_ids[0]) not in {n["id"] for n in unread} and str(note_ids[1]) in {n["id"] for n in unread}
    assert code(await gql(http, mark, {"id": str(other_note)}, token=tokens["own"])) == "FORBIDDEN"
    assert code(await gql(http, mark, {"id": "99999999"}, token=tokens["own"])) == "NOT_FOUND"


# --- analytics ----------------------------------------------------------------------------------


async def test_model_comparison_profiles_probabilities_and_offer_stats(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int]
) -> None:
    comparison = ok(
        await gql(
            http,
            "{ modelComparison { version createdAt strategies { strategy metrics } "
            "uplift policy window test } }",
            token=tokens["analyst"],
        )
    )["modelComparison"]
    assert comparison["version"] == "v-test" and comparison["createdAt"]
    assert {s["strategy"]: s["metrics"]["map@7"] for s in comparison["strategies"]} == {
        "hybrid": 0.02,
        "popularity": 0.015,
    }
    assert comparison["policy"] == {"budget_share": 0.2}
    partner_view = ok(await gql(http, "{ modelComparison { version } }", api_key=PARTNER_KEY))
    assert partner_view["modelComparison"]["version"] == "v-test"

    profiles = ok(
        await gql(http, "{ productProfiles { productCode holders profile } }", token=tokens["analyst"])
    )
    by_code = {p["productCode"]: p for p in profiles["productProfiles"]}
    assert by_code["cco_fin"]["holders"] > 0 and by_code["cco_fin"]["profile"]["holders"]["age"] > 0
    one = ok(
        await gql(
            http,
            '{ productProfiles(productCode: "cco_fin") { productCode holders } }',
            token=tokens["analyst"],
        )
    )["productProfiles"]
    assert one == [{"productCode": "cco_fin", "holders": by_code["cco_fin"]["holders"]}]
    partner = ok(await gql(http, "{ productProfiles { productCode holders profile } }", api_key=PARTNER_KEY))
    for p in partner["productProfiles"]:
        for group in ("holders", "recent_adopters"):
            summary = p["profile"][group]
            if summary["clients"] < 10:
                assert summary == {"clients": summary["clients"], "suppressed": True}

    query = """query($id: ID!) {
      clientProbabilities(clientId: $id) { probability held eligible product { code } } }"""
    probs = ok(await gql(http, query, {"id": str(ids["own"])}, token=tokens["analyst"]))[
        "clientProbabilities"
    ]
    assert len(probs) == 18 and all(0 <= p["probability"] <= 1 for p in probs)
    assert [p["probability"] for p in probs] == sorted((p["probability"] for p in probs), reverse=True)
    assert all(not p["eligible"] for p in probs if p["held"]) and any(p["held"] for p in probs)

    stats = ok(
        await gql(
            http, "{ offerStats { product { code kind } shown accepted converted } }", api_key=PARTNER_KEY
        )
    )["offerStats"]
    assert stats and all(s["product"]["kind"] == "partner" for s in stats)
    everything = ok(await gql(http, "{ offerStats { product { code } shown } }", token=tokens["analyst"]))
    assert sum(s["shown"] for s in everything["offerStats"]) > 0  # the simulator's campaigns
    assert code(await gql(http, '{ offerStats(productCode: "cco_fin") { shown } }', api_key=PARTNER_KEY)) == (
        "FORBIDDEN"
    )


async def test_clients_search_and_demo_picker(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int], population: str
) -> None:
    query = (
        "query($s: String, $first: Int, $after: ID) { clients(search: $s, first: $first, after: $after) "
        "{ id age segment income nProducts holdings { product { code } } } }"
    )
    page = ok(await gql(http, query, {"first": 5}, token=tokens["analyst"]))["clients"]
    assert len(page) == 5 and [int(c["id"]) for c in page] == sorted(int(c["id"]) for c in page)
    assert all(c["nProducts"] == len(c["holdings"]) for c in page)
    more = ok(await gql(http, query, {"first": 5, "after": page[-1]["id"]}, token=tokens["analyst"]))[
        "clients"
    ]
    assert int(more[0]["id"]) > int(page[-1]["id"])
    found = ok(await gql(http, query, {"s": str(ids["own"])}, token=tokens["analyst"]))["clients"]
    assert str(ids["own"]) in {c["id"] for c in found}
    students = ok(await gql(http, query, {"s": "student", "first": 50}, token=tokens["analyst"]))["clients"]
    assert students and all(c["segment"] == "student" for c in students)
    # Demo login on: the login picker works without a token; partners never get the list.
    assert ok(await gql(http, query, {"first": 3}))["clients"]
    assert code(await gql(http, query, {"first": 3}, api_key=PARTNER_KEY)) == "FORBIDDEN"
    app = make_app(population, {"demo_login": False})
    async with client_for(app) as closed:
        assert code(await gql(closed, query, {"first": 3})) == "UNAUTHENTICATED"
        assert code(await gql(closed, query, {"first": 3}, token=tokens["own"])) == "FORBIDDEN"
        assert ok(await gql(closed, query, {"first": 3}, token=tokens["analyst"]))["clients"]
        denied = await gql(closed, 'mutation { demoLogin(clientId: "1") { token } }')
        assert code(denied) == "FORBIDDEN"
        assert (
            code(await gql(closed, 'mutation { analystLogin(password: "analyst") { token } }')) == "FORBIDDEN"
        )
    await app.state.recsys.db.close()
    assert code(await gql(http, 'mutation { analystLogin(password: "nope") { token } }')) == "UNAUTHENTICATED"
    assert code(await gql(http, 'mutation { demoLogin(clientId: "99999999") { token } }')) == "NOT_FOUND"


# --- mutations ----------------------------------------------------------------------------------


async def _outbox(url: str, since_id: int) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id, event_type, key, payload, topic FROM outbox WHERE id > $1 ORDER BY id", since_id
        )
    finally:
        await conn.close()
    return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]


async def _last_outbox_id(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
    finally:
        await conn.close()


REGISTER = """mutation($input: RegisterClientInput!) { registerClient(input: $input) {
  token client { id age sex segment income language marketingConsent holdings { product { code } } }
  recommendation { id strategy noContactReason
    offers { rank probability product { code } reasonCodes } } } }"""


async def test_register_client_cold_start(http: httpx.AsyncClient, population: str) -> None:
    mark = await _last_outbox_id(population)
    payload = {
        "age": 34,
        "sex": "V",
        "segment": "individual",
        "income": 72000.5,
        "joinChannel": "KAT",
        "provinceCode": "28",
        "language": "EN",
        "marketingConsent": True,
    }
    data = ok(await gql(http, REGISTER, {"input": payload}))["registerClient"]
    client = data["client"]
    assert client["age"] == 34 and client["income"] == 72000.5 and client["language"] == "EN"
    assert client["holdings"] == []
    rec = data["recommendation"]
    assert rec["strategy"] == "UPLIFT_RULES" and rec["id"]  # offers computed (and stored) at once
    assert rec["offers"] and all(o["probability"] > 0 for o in rec["offers"])  # cold start scored it
    events = await _outbox(population, mark)
    assert [(e["event_type"], e["key"]) for e in events] == [("client_registered", client["id"])]
    me = ok(await gql(http, "{ me { id segment } }", token=data["token"]))["me"]
    assert me == {"id": client["id"], "segment": "individual"}
    again = ok(await gql(http, REC, {"id": client["id"]}, token=data["token"]))["recommendations"]
    assert again["id"] == rec["id"]


ADD_OP = """mutation($input: AddOperationInput!) { addOperation(input: $input) {
  id occurredAt amount category description } }"""


async def test_add_operation_and_its_event(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int], population: str
) -> None:
    mark = await _last_outbox_id(population)
    when = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    op = ok(
        await gql(
            http,
            ADD_OP,
            {
                "input": {
                    "clientId": str(ids["own"]),
                    "amount": -42.5,
                    "category": "auto",
                    "occurredAt": when.isoformat(),
                    "description": "tyres",
                }
            },
            token=tokens["own"],
        )
    )["addOperation"]
    assert op["amount"] == -42.5 and op["category"] == "auto" and op["description"] == "tyres"
    assert datetime.fromisoformat(op["occurredAt"]) == when
    now_op = ok(
        await gql(
            http,
            ADD_OP,
            {"input": {"clientId": str(ids["own"]), "amount": 1000, "category": "salary"}},
            token=tokens["own"],
        )
    )["addOperation"]
    assert abs(datetime.fromisoformat(now_op["occurredAt"]) - datetime.now(UTC)) < timedelta(minutes=1)
    events = await _outbox(population, mark)
    assert [e["event_type"] for e in events] == ["operation_added", "operation_added"]
    assert events[0]["payload"]["operation_id"] == int(op["id"]) and events[0]["key"] == str(ids["own"])
    latest = ok(await gql(http, OPS, {"first": 1}, token=tokens["own"]))["me"]["operations"]["edges"][0][
        "node"
    ]
    assert latest["id"] == now_op["id"]


TAKE = """mutation($id: ID!, $p: String!) {
  takeProduct(clientId: $id, productCode: $p) { id holdings { product { code } } } }"""
DROP = """mutation($id: ID!, $p: String!) {
  dropProduct(clientId: $id, productCode: $p) { id holdings { product { code } } } }"""


async def test_take_and_drop_products(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int], population: str
) -> None:
    cid = str(ids["own"])
    held = {
        h["product"]["code"]
        for h in ok(await gql(http, "{ me { holdings { product { code } } } }", token=tokens["own"]))["me"][
            "holdings"
        ]
    }
    target = next(p for p in ("recibo", "tjcr_fin", "ecue_fin", "dela_fin", "reca_fin") if p not in held)
    mark = await _last_outbox_id(population)
    taken = ok(await gql(http, TAKE, {"id": cid, "p": target}, token=tokens["own"]))["takeProduct"]
    assert target in {h["product"]["code"] for h in taken["holdings"]}
    twice = await gql(http, TAKE, {"id": cid, "p": target}, token=tokens["own"])
    assert code(twice) == "BAD_USER_INPUT" and twice["errors"][0]["extensions"]["field"] == "productCode"
    dropped = ok(await gql(http, DROP, {"id": cid, "p": target}, token=tokens["own"]))["dropProduct"]
    assert target not in {h["product"]["code"] for h in dropped["holdings"]}
    assert {h["product"]["code"] for h in dropped["holdings"]} == held
    events = await _outbox(population, mark)
    assert [(e["event_type"], e["payload"]["product_code"]) for e in events] == [
        ("product_taken", target),
        ("product_dropped", target),
    ]
    conn = await asyncpg.connect(population)
    try:
        kinds = await conn.fetch(
            "SELECT kind FROM product_event WHERE client_id = $1 AND product_code = $2 "
            "AND occurred_at IS NOT NULL",
            ids["own"],
            target,
        )
    finally:
        await conn.close()
    assert sorted(r["kind"] for r in kinds) == ["add", "drop"]


async def test_a_client_who_dropped_everything_holds_nothing_now(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int], population: str
) -> None:
    """Holdings now are those of the client's latest snapshot: a client whose latest snapshot
    has no products (all dropped) holds nothing, for the API and for the decision layer,
    even though an older month still has holding rows."""
    from datetime import UTC, datetime

    from core.services.recommend import client_contexts

    conn = await asyncpg.connect(population)
    try:
        cid = await conn.fetchval(
            "SELECT c.id FROM client c WHERE c.id NOT IN ($1, $2) AND EXISTS (SELECT 1 FROM holding h "
            "WHERE h.client_id = c.id AND h.month = c.snapshot_month) ORDER BY c.id LIMIT 1",
            ids["own"],
            ids["other"],
        )
        # the client drops everything in its latest snapshot (as the monthly file would show)
        await conn.execute(
            "DELETE FROM holding h USING client c WHERE h.client_id = $1 AND c.id = h.client_id "
            "AND h.month = c.snapshot_month",
            cid,
        )
        assert await conn.fetchval("SELECT count(*) FROM holding WHERE client_id = $1", cid) > 0
        ctx = (await client_contexts(conn, [cid], {}, datetime.now(UTC)))[cid]
    finally:
        await conn.close()
    assert ctx.held == frozenset()
    query = "query($id: ID!) { client(id: $id) { holdings { product { code } } } }"
    body = ok(await gql(http, query, {"id": str(cid)}, token=tokens["analyst"]))
    assert body["client"]["holdings"] == []


RESPOND = """mutation($id: ID!, $p: String!, $r: OfferResponse!) {
  respondToOffer(clientId: $id, productCode: $p, response: $r) {
    id offers { product { code } response } } }"""


async def test_respond_to_offer(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int], population: str
) -> None:
    cid = str(ids["own"])
    rec = ok(await gql(http, REC, {"id": cid}, token=tokens["own"]))["recommendations"]
    product = rec["offers"][0]["product"]["code"]
    mark = await _last_outbox_id(population)
    answered = ok(await gql(http, RESPOND, {"id": cid, "p": product, "r": "DECLINE"}, token=tokens["own"]))
    answered = answered["respondToOffer"]
    assert answered["id"] == rec["id"]
    assert {o["product"]["code"]: o["response"] for o in answered["offers"]}[product] == "DECLINE"
    changed = ok(await gql(http, RESPOND, {"id": cid, "p": product, "r": "ACCEPT"}, token=tokens["own"]))
    assert {o["product"]["code"]: o["response"] for o in changed["respondToOffer"]["offers"]}[
        product
    ] == "ACCEPT"
    events = await _outbox(population, mark)
    assert [(e["event_type"], e["payload"]["response"]) for e in events] == [
        ("offer_feedback", "decline"),
        ("offer_feedback", "accept"),
    ]
    conn = await asyncpg.connect(population)
    try:
        logged = await conn.fetch(
            "SELECT response, arm, recommendation_id FROM offer_log "
            "WHERE client_id = $1 AND product_code = $2 "
            "AND recommendation_id = $3",
            ids["own"],
            product,
            int(rec["id"]),
        )
    finally:
        await conn.close()
    assert [(r["response"], r["arm"]) for r in logged] == [("accept", "treatment")]
    not_offered = await gql(http, RESPOND, {"id": cid, "p": "ctju_fin", "r": "DISMISS"}, token=tokens["own"])
    assert code(not_offered) == "BAD_USER_INPUT"


# --- malformed input: BAD_USER_INPUT naming the field, nothing stored ---------------------------

NOW = datetime.now(UTC)
BAD_INPUTS: list[tuple[str, str, dict[str, Any], str]] = [
    # (name, mutation, variables (clientId filled in), field)
    ("amount zero", ADD_OP, {"input": {"amount": 0, "category": "auto"}}, "amount"),
    ("amount cents", ADD_OP, {"input": {"amount": 0.001, "category": "auto"}}, "amount"),
    ("amount huge", ADD_OP, {"input": {"amount": 1e7 + 1, "category": "auto"}}, "amount"),
    ("amount inf", ADD_OP, {"input": {"amount": "__1e400__", "category": "auto"}}, "amount"),
    ("category", ADD_OP, {"input": {"amount": 5, "category": "casino"}}, "category"),
    (
        "future",
        ADD_OP,
        {"input": {"amount": 5, "category": "auto", "occurredAt": (NOW + timedelta(minutes=5)).isoformat()}},
        "occurredAt",
    ),
    (
        "too old",
        ADD_OP,
        {"input": {"amount": 5, "category": "auto", "occurredAt": "1999-12-31T23:00:00+00:00"}},
        "occurredAt",
    ),
    (
        "description",
        ADD_OP,
        {"input": {"amount": 5, "category": "auto", "description": "x" * 501}},
        "description",
    ),
    ("client id", ADD_OP, {"input": {"clientId": "abc", "amount": 5, "category": "auto"}}, "clientId"),
    ("take unknown", TAKE, {"p": "no_such"}, "productCode"),
    ("drop not held", DROP, {"p": "ctju_fin"}, "productCode"),
    ("respond unknown", RESPOND, {"p": "no_such", "r": "ACCEPT"}, "productCode"),
]
BAD_QUESTIONNAIRES: list[tuple[dict[str, Any], str]] = [
    ({"age": 121}, "age"),
    ({"age": -1}, "age"),
    ({"sex": "X"}, "sex"),
    ({"segment": "vip"}, "segment"),
    ({"income": -1}, "income"),
    ({"income": 1e8 + 1}, "income"),
    ({"joinChannel": "TOOLONG"}, "joinChannel"),
    ({"provinceCode": "madrid"}, "provinceCode"),
]


@pytest.mark.parametrize("name, mutation, variables, field", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
async def test_malformed_mutation_input_stores_nothing(
    http: httpx.AsyncClient,
    tokens: dict[str, str],
    ids: dict[str, int],
    population: str,
    name: str,
    mutation: str,
    variables: dict[str, Any],
    field: str,
) -> None:
    variables = json.loads(json.dumps(variables))
    if "input" in variables:
        variables["input"].setdefault("clientId", str(ids["own"]))
    else:
        variables["id"] = str(ids["own"])
    before = await counts(population, WRITE_TABLES)
    result = await gql(http, mutation, variables, token=tokens["own"])
    assert code(result) == "BAD_USER_INPUT", result
    assert result["errors"][0]["extensions"]["field"] == field
    assert result["data"] is None
    assert await counts(population, WRITE_TABLES) == before


@pytest.mark.parametrize(
    "change, field", BAD_QUESTIONNAIRES, ids=[b[1] + str(i) for i, b in enumerate(BAD_QUESTIONNAIRES)]
)
async def test_malformed_questionnaire_stores_nothing(
    http: httpx.AsyncClient, population: str, change: dict[str, Any], field: str
) -> None:
    before = await counts(population, WRITE_TABLES)
    good = {"age": 30, "sex": "H", "segment": "individual"}
    result = await gql(http, REGISTER, {"input": {**good, **change}})
    assert code(result) == "BAD_USER_INPUT" and result["errors"][0]["extensions"]["field"] == field
    assert await counts(population, WRITE_TABLES) == before


async def test_graphql_type_errors_are_bad_user_input(
    http: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    result = await gql(
        http, ADD_OP, {"input": {"clientId": "1", "amount": "lots", "category": "auto"}}, token=tokens["own"]
    )
    assert code(result) == "BAD_USER_INPUT"
    assert code(await gql(http, "{ products { nope } }")) == "GRAPHQL_VALIDATION_FAILED"
    assert code(await gql(http, "{ products { ")) == "GRAPHQL_PARSE_FAILED"


# --- authorization matrix -------------------------------------------------------------------------

OK, UNAUTH, FORBID = "ok", "UNAUTHENTICATED", "FORBIDDEN"
ROLES = ("anonymous", "own", "other", "analyst", "partner")


def _expect(anonymous: str, own: str, other: str, analyst: str, partner: str) -> dict[str, str]:
    return dict(zip(ROLES, (anonymous, own, other, analyst, partner), strict=True))


CLIENT_SCOPED = _expect(UNAUTH, OK, FORBID, OK, FORBID)
AGGREGATED = _expect(UNAUTH, FORBID, FORBID, OK, OK)
# name: (document, variables from (target client id, notification id), expectations, is a write)
MATRIX: dict[str, tuple[str, Any, dict[str, str], bool]] = {
    "products": ("{ products { code } }", lambda c, n: {}, _expect(OK, OK, OK, OK, OK), False),
    "me": ("{ me { id } }", lambda c, n: {}, _expect(UNAUTH, OK, OK, OK, OK), False),
    "client": ("query($c: ID!) { client(id: $c) { id } }", lambda c, n: {"c": c}, CLIENT_SCOPED, False),
    "client.operations": (
        "query($c: ID!) { client(id: $c) { operations(first: 1) { totalCount } } }",
        lambda c, n: {"c": c},
        CLIENT_SCOPED,
        False,
    ),
    "recommendations": (
        "query($c: ID!) { recommendations(clientId: $c) { clientId } }",
        lambda c, n: {"c": c},
        CLIENT_SCOPED,
        False,
    ),
    "recommendations(HYBRID)": (
        "query($c: ID!) { recommendations(clientId: $c, strategy: HYBRID) { clientId } }",
        lambda c, n: {"c": c},
        _expect(UNAUTH, FORBID, FORBID, OK, FORBID),
        False,
    ),
    "notifications": (
        "query($c: ID!) { notifications(clientId: $c) { id } }",
        lambda c, n: {"c": c},
        CLIENT_SCOPED,
        False,
    ),
    "clients (demo on)": (
        "{ clients(first: 2) { id } }",
        lambda c, n: {},
        _expect(OK, OK, OK, OK, FORBID),
        False,
    ),
    "modelComparison": ("{ modelComparison { version } }", lambda c, n: {}, AGGREGATED, False),
    "productProfiles": ("{ productProfiles { productCode } }", lambda c, n: {}, AGGREGATED, False),
    "offerStats": ("{ offerStats { shown } }", lambda c, n: {}, AGGREGATED, False),
    "clientProbabilities": (
        "query($c: ID!) { clientProbabilities(clientId: $c) { probability } }",
        lambda c, n: {"c": c},
        _expect(UNAUTH, FORBID, FORBID, OK, FORBID),
        False,
    ),
    "addOperation": (
        ADD_OP,
        lambda c, n: {"input": {"clientId": c, "amount": 3.5, "category": "groceries"}},
        CLIENT_SCOPED,
        True,
    ),
    "takeProduct": (TAKE, lambda c, n: {"id": c, "p": "ctju_fin"}, CLIENT_SCOPED, True),
    "dropProduct": (DROP, lambda c, n: {"id": c, "p": "ctju_fin"}, CLIENT_SCOPED, True),
    "respondToOffer": (
        'mutation($c: ID!) { respondToOffer(clientId: $c, productCode: "recibo", response: DISMISS) { id } }',
        lambda c, n: {"c": c},
        CLIENT_SCOPED,
        True,
    ),
    "markNotificationRead": (
        "mutation($n: ID!) { markNotificationRead(id: $n) { id } }",
        lambda c, n: {"n": n},
        CLIENT_SCOPED,
        True,
    ),
    "registerClient": (
        REGISTER,
        lambda c, n: {"input": {"age": 40, "sex": "H", "segment": "top", "income": 90000}},
        _expect(OK, OK, OK, OK, FORBID),
        True,
    ),
    "demoLogin": (
        "mutation($c: ID!) { demoLogin(clientId: $c) { token } }",
        lambda c, n: {"c": c},
        _expect(OK, OK, OK, OK, OK),
        False,
    ),
}


async def test_authorization_matrix(
    http: httpx.AsyncClient, tokens: dict[str, str], ids: dict[str, int], population: str
) -> None:
    """Every role x every operation x own/other data: allowed calls raise no auth error, denied
    ones get UNAUTHENTICATED / FORBIDDEN (no data) and store nothing."""
    conn = await asyncpg.connect(population)
    try:
        note = await conn.fetchval(
            "INSERT INTO notification (client_id, kind, language, title, body) "
            "VALUES ($1, 'offer', 'ru', 't', 'b') RETURNING id",
            ids["own"],
        )
    finally:
        await conn.close()
    auth = {
        "anonymous": {},
        "own": {"token": tokens["own"]},
        "other": {"token": tokens["other"]},  # another client asking for the own client's data
        "analyst": {"token": tokens["analyst"]},
        "partner": {"api_key": PARTNER_KEY},
    }
    mismatches = []
    for name, (document, variables, expected, write) in MATRIX.items():
        for role in ROLES:
            before = await counts(population, WRITE_TABLES) if write else None
            result = await gql(http, document, variables(str(ids["own"]), str(note)), **auth[role])
            codes = [e["extensions"]["code"] for e in result.get("errors") or []]
            want = expected[role]
            if want == OK:
                if UNAUTH in codes or FORBID in codes or (not write and codes):
                    mismatches.append(f"{name} as {role}: expected ok, got {codes}")
            else:
                if codes[:1] != [want] or any(v is not None for v in (result.get("data") or {}).values()):
                    mismatches.append(
                        f"{name} as {role}: expected {want}, got {codes} / {result.get('data')}"
                    )
                if write and await counts(population, WRITE_TABLES) != before:
                    mismatches.append(f"{name} as {role}: denied but something was stored")
    assert not mismatches, "\n".join(mismatches)


# --- DataLoaders: bounded query counts ----------------------------------------------------------


async def test_a_page_of_clients_with_holdings_costs_two_queries(
    app: Any, http: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    db = app.state.recsys.db
    query = (
        "query($n: Int) { clients(first: $n) { id nProducts holdings { since product { code nameEn } } } }"
    )
    used = {}
    for n in (5, 50, 100):
        db.queries = 0
        page = ok(await gql(http, query, {"n": n}, token=tokens["analyst"]))["clients"]
        used[n] = db.queries
        assert len(page) == n and sum(len(c["holdings"]) for c in page) > 0
    assert used == {5: 2, 50: 2, 100: 2}  # the page, then one batched holdings query
    ids_ = [c["id"] for c in page[:12]]
    aliased = (
        "{ "
        + " ".join(
            f'c{i}: client(id: "{cid}") {{ id holdings {{ product {{ code }} }} }}'
            for i, cid in enumerate(ids_)
        )
        + " }"
    )
    db.queries = 0
    data = ok(await gql(http, aliased, token=tokens["analyst"]))
    assert len(data) == 12 and db.queries == 2  # one clients query, one holdings query


# --- limits, tokens, masking ---------------------------------------------------------------------


@pytest.fixture(scope="module")
async def tight(population: str) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(
        population,
        max_depth=2,
        max_aliases=2,
        max_tokens=60,
        max_body_bytes=1024,
        rate_burst=3,
        rate_per_s=0.01,
    )
    async with client_for(app) as client:
        yield client
    await app.state.recsys.db.close()


async def test_depth_alias_and_token_limits(tight: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    t = tokens["analyst"]  # each test call uses its own bucket: tokens differ per role below
    deep = await gql(tight, "{ me { holdings { product { code } } } }", token=t)
    assert code(deep) == "GRAPHQL_VALIDATION_FAILED" and "depth" in deep["errors"][0]["message"]
    aliases = await gql(
        tight, "{ a: products { code } b: products { code } c: products { code } }", token=tokens["own"]
    )
    assert code(aliases) == "GRAPHQL_VALIDATION_FAILED" and "aliases" in aliases["errors"][0]["message"]
    many = "{ " + " ".join("products { code }" for _ in range(20)) + " }"
    assert code(await gql(tight, many, token=tokens["other"])) == "GRAPHQL_PARSE_FAILED"


async def test_body_size_limit(tight: httpx.AsyncClient) -> None:
    big = "{ products { code } }" + " " * 2000
    resp = await tight.post("/graphql", json={"query": big})
    assert resp.status_code == 413 and resp.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    chunks = (
        (b'{"query": "{ products { code } }", "pad": "' + b"x" * 600 for _ in range(1)),
        (b"y" * 600 + b'"}',),
    )

    async def stream():  # no content-length: counted while reading
        for part in chunks:
            for piece in part:
                yield piece

    resp = await tight.post("/graphql", content=stream(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413


async def test_rate_limit_per_token(population: str, tokens: dict[str, str]) -> None:
    app = make_app(population, rate_burst=3, rate_per_s=0.01)
    async with client_for(app) as client:
        for _ in range(3):
            ok(await gql(client, "{ products { code } }", token=tokens["own"]))
        resp = await client.post(
            "/graphql",
            json={"query": "{ products { code } }"},
            headers={"Authorization": f"Bearer {tokens['own']}"},
        )
        assert resp.status_code == 429 and resp.headers["Retry-After"]
        assert resp.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        ok(await gql(client, "{ products { code } }", token=tokens["other"]))  # another token, own bucket
    await app.state.recsys.db.close()


async def test_bad_tokens_and_keys(http: httpx.AsyncClient, app: Any, ids: dict[str, int]) -> None:
    from api.auth import Role

    auth = app.state.recsys.auth
    expired, _ = auth.issue(Role.CLIENT, ids["own"], now=datetime.now(UTC) - timedelta(hours=5))
    for headers, words in (
        ({"Authorization": "Bearer not-a-jwt"}, "invalid"),
        ({"Authorization": f"Bearer {expired}"}, "expired"),
        ({"Authorization": "Basic abc"}, "Bearer"),
        ({"X-API-Key": "wrong"}, "API key"),
    ):
        resp = await http.post("/graphql", json={"query": "{ products { code } }"}, headers=headers)
        assert resp.status_code == 401, headers
        error = resp.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED" and words in error["message"]
    from api.auth import Auth

    forged, _ = Auth("another-secret-" + "y" * 40, 30, []).issue(Role.ANALYST)
    resp = await http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert resp.status_code == 401


async def test_unexpected_errors_are_masked(
    app: Any, http: httpx.AsyncClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    from api.loaders import Loaders

    async def broken(self: Any, keys: Any) -> Any:
        raise RuntimeError('SELECT secret FROM "client" failed at /srv/app.py line 3')

    monkeypatch.setattr(Loaders, "_clients", broken)
    resp = await http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {tokens['own']}"}
    )
    body = resp.text
    assert resp.status_code == 200 and json.loads(body)["errors"][0] == {
        "message": "internal error",
        "locations": [{"line": 1, "column": 3}],
        "path": ["me"],
        "extensions": {"code": "INTERNAL"},
    }
    assert "SELECT" not in body and "Traceback" not in body and ".py" not in body
    assert any("SELECT secret" in r.getMessage() or r.exc_info for r in caplog.records)  # logged server-side


# --- health, readiness, metrics, CORS, start-up ----------------------------------------------------


async def test_health_readiness_and_metrics(http: httpx.AsyncClient, population: str) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "disabled"}
    down = make_app("postgresql://nobody@127.0.0.1:1/none")
    async with client_for(down) as client:
        assert (await client.get("/healthz")).status_code == 200
        resp = await client.get("/readyz")
        assert resp.status_code == 503 and resp.json()["checks"]["database"].startswith("down")
    no_broker = make_app(population)
    no_broker.state.recsys.hub.bootstrap = "127.0.0.1:1"  # configured, never reachable
    async with client_for(no_broker) as client:
        resp = await client.get("/readyz")
        assert resp.status_code == 503 and resp.json()["checks"] == {"database": "ok", "broker": "down"}
    await no_broker.state.recsys.db.close()
    # One operation of each kind the exposition is checked for, so this test stands alone.
    assert ok(await gql(http, "{ products { code } }"))["products"]
    assert code(await gql(http, '{ products(kind: "x") { code } }')) == "BAD_USER_INPUT"
    assert code(await gql(http, "{ clients(first: 3) { id } }", api_key=PARTNER_KEY)) == "FORBIDDEN"
    too_large = await http.post(
        "/graphql", content=b" " * (65 * 1024), headers={"Content-Type": "application/json"}
    )
    assert too_large.status_code == 413
    response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE recsys_api_requests_total counter" in text
    assert "# TYPE recsys_api_request_seconds histogram" in text and "recsys_api_subscribers " in text
    assert 'recsys_api_requests_total{operation="query:products",status="ok"}' in text
    assert 'status="FORBIDDEN"' in text and 'status="BAD_USER_INPUT"' in text
    assert 'recsys_api_request_seconds_bucket{le="+Inf",operation="query:products"}' in text
    assert 'recsys_api_requests_total{operation="http",status="PAYLOAD_TOO_LARGE"}' in text


async def test_cors_only_for_configured_origins(http: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    good = await http.options("/graphql", headers={"Origin": ORIGIN, **preflight})
    assert good.status_code == 200 and good.headers["access-control-allow-origin"] == ORIGIN
    evil = await http.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in evil.headers
    simple = await http.post(
        "/graphql", json={"query": "{ products { code } }"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers


def test_jwt_secret_is_required_outside_the_demo(caplog: Any) -> None:
    from api.app import create_app
    from api.config import ConfigError
    from tests.test_api_helpers import config, settings

    with pytest.raises(ConfigError, match="JWT_SECRET is not set"):
        create_app(
            settings(jwt_secret=None, demo_login=False), config(), db_url="postgresql://x@localhost/db"
        )
    with caplog.at_level("WARNING"):
        create_app(settings(jwt_secret=None, demo_login=True), config(), db_url="postgresql://x@localhost/db")
    assert "random per-process secret" in caplog.text
