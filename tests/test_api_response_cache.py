"""The response cache of `recommendations` (api.response_cache) through the real app: a cached
answer is the uncached one, a new recommendation or offer answer changes it, role checks run
before it, and errors, other fields and other documents are never cached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest

from api.auth import Role
from core.catalog import load_catalog
from core.services.commands import register_client, validate_questionnaire
from core.services.recommend import store_recommendation
from tests.test_api_helpers import PARTNER_KEY, client_for, code, gql, make_app, ok

QUERY = """query($id: ID!) { recommendations(clientId: $id) {
  id strategy createdAt noContactReason
  offers { rank probability uplift reasonCodes reasons { feature contribution } explanation
           response product { code nameEn } } } }"""
NO_RESPONSE = "query($id: ID!) { recommendations(clientId: $id) { id offers { rank product { code } } } }"
RESPOND = """mutation($id: ID!, $p: String!) {
  respondToOffer(clientId: $id, productCode: $p, response: DECLINE) { id } }"""


def items(codes: list[str], explanation: str) -> list[dict[str, Any]]:
    return [
        {
            "product_code": c,
            "rank": i + 1,
            "p_take": 0.1 * (i + 1),
            "uplift": 0.05,
            "expected_value": 3.0,
            "reason_codes": ["R1"],
            "reasons": [["age", 0.2]],
            "reason_texts": ["Age"],
            "explanation": explanation,
            "explanation_source": "template",
            "propensity": 0.9,
        }  # fmt: skip
        for i, c in enumerate(codes)
    ]


@pytest.fixture(scope="module")
async def clients(db_url: str) -> dict[str, Any]:
    """Two registered clients, each with a stored recommendation of two offers."""
    codes = sorted(load_catalog().codes)[:2]
    ids = await clients_with_recommendations(db_url, (30, 40), codes)
    return {"own": ids[0], "other": ids[1], "codes": codes}


async def clients_with_recommendations(db_url: str, ages: tuple[int, ...], codes: list[str]) -> list[int]:
    """A registered client per age, each with a stored recommendation offering `codes`."""
    conn = await asyncpg.connect(db_url)
    try:
        ids = []
        for age in ages:
            q = validate_questionnaire(age=age, sex="H", segment="individual", income=5e4)
            cid = await register_client(conn, q, date(2015, 5, 1))
            await store_recommendation(conn, cid, "v-test", items(codes, f"for {cid}"))
            ids.append(cid)
    finally:
        await conn.close()
    return ids


@pytest.fixture(scope="module")
async def apps(db_url: str) -> AsyncIterator[dict[str, Any]]:
    """The same database behind an app with the cache and one without."""
    cached, plain = make_app(db_url, response_cache=100), make_app(db_url, response_cache=0)
    assert plain.state.recsys.responses is None
    async with client_for(cached) as http, client_for(plain) as http_plain:
        yield {"app": cached, "http": http, "plain": http_plain}
    for app in (cached, plain):
        await app.state.recsys.db.close()


def stats(apps: dict[str, Any]) -> dict[str, int]:
    return dict(apps["app"].state.recsys.responses.stats())


def token(apps: dict[str, Any], role: Role, client_id: int | None = None) -> str:
    return str(apps["app"].state.recsys.auth.issue(role, client_id)[0])


async def test_a_cached_answer_is_the_uncached_one(apps: dict[str, Any], clients: dict[str, Any]) -> None:
    own = token(apps, Role.CLIENT, clients["own"])
    variables = {"id": str(clients["own"])}
    before = stats(apps)
    first = await apps["http"].post("/graphql", json={"query": QUERY, "variables": variables},
                                    headers={"Authorization": f"Bearer {own}"})  # fmt: skip
    assert stats(apps)["misses"] == before["misses"] + 1
    second = await apps["http"].post("/graphql", json={"query": QUERY, "variables": variables},
                                     headers={"Authorization": f"Bearer {own}"})  # fmt: skip
    assert stats(apps)["hits"] == before["hits"] + 1
    uncached = await apps["plain"].post("/graphql", json={"query": QUERY, "variables": variables},
                                        headers={"Authorization": f"Bearer {own}"})  # fmt: skip
    assert first.status_code == second.status_code == uncached.status_code == 200
    assert first.json() == second.json() == uncached.json()
    assert second.headers["content-type"] == uncached.headers["content-type"]
    data = ok(second.json())["recommendations"]
    assert [o["product"]["code"] for o in data["offers"]] == clients["codes"]
    assert all(o["response"] is None for o in data["offers"])
    # An analyst may see the client: the same answer, from the cache.
    analyst = ok(await gql(apps["http"], QUERY, variables, token=token(apps, Role.ANALYST)))
    assert analyst == first.json()["data"] and stats(apps)["hits"] == before["hits"] + 2


async def test_an_offer_answer_and_a_new_recommendation_change_it(
    apps: dict[str, Any], clients: dict[str, Any], db_url: str
) -> None:
    cid, codes = clients["other"], clients["codes"]
    own = token(apps, Role.CLIENT, cid)
    variables = {"id": str(cid)}
    ok(await gql(apps["http"], QUERY, variables, token=own))
    shown = ok(await gql(apps["http"], QUERY, variables, token=own))["recommendations"]
    short = ok(await gql(apps["http"], NO_RESPONSE, variables, token=own))["recommendations"]
    hits = stats(apps)["hits"]
    ok(await gql(apps["http"], RESPOND, {"id": str(cid), "p": codes[0]}, token=own))
    answered = ok(await gql(apps["http"], QUERY, variables, token=own))["recommendations"]
    assert stats(apps)["hits"] == hits  # the answers are part of the key: a miss
    assert answered["id"] == shown["id"]
    assert {o["product"]["code"]: o["response"] for o in answered["offers"]} == {
        codes[0]: "DECLINE",
        codes[1]: None,
    }
    assert ok(await gql(apps["http"], QUERY, variables, token=own))["recommendations"] == answered
    # A document without Offer.response does not depend on the answers: still cached.
    assert ok(await gql(apps["http"], NO_RESPONSE, variables, token=own))["recommendations"] == short
    assert stats(apps)["hits"] == hits + 2

    conn = await asyncpg.connect(db_url)
    try:  # a new recommendation, as the worker stores it
        new_id = await store_recommendation(conn, cid, "v-test", items(codes[::-1], "newer"))
    finally:
        await conn.close()
    for document in (QUERY, NO_RESPONSE):
        newer = ok(await gql(apps["http"], document, variables, token=own))["recommendations"]
        assert newer["id"] == str(new_id) != shown["id"]
        assert [o["product"]["code"] for o in newer["offers"]] == codes[::-1]
        uncached = ok(await gql(apps["plain"], document, variables, token=own))["recommendations"]
        assert newer == uncached
    assert stats(apps)["hits"] == hits + 2


async def test_role_checks_run_before_the_cache(apps: dict[str, Any], clients: dict[str, Any]) -> None:
    variables = {"id": str(clients["own"])}
    ok(await gql(apps["http"], QUERY, variables, token=token(apps, Role.CLIENT, clients["own"])))
    before = stats(apps)
    other = token(apps, Role.CLIENT, clients["other"])
    assert code(await gql(apps["http"], QUERY, variables, token=other)) == "FORBIDDEN"
    assert code(await gql(apps["http"], QUERY, variables, api_key=PARTNER_KEY)) == "FORBIDDEN"
    assert code(await gql(apps["http"], QUERY, variables)) == "UNAUTHENTICATED"
    assert stats(apps) == before


async def test_errors_and_other_documents_are_not_cached(
    apps: dict[str, Any], clients: dict[str, Any]
) -> None:
    analyst = token(apps, Role.ANALYST)
    before = stats(apps)
    for _ in range(2):
        assert code(await gql(apps["http"], QUERY, {"id": "x1"}, token=analyst)) == "BAD_USER_INPUT"
        assert code(await gql(apps["http"], QUERY, {"id": "999999"}, token=analyst)) == "NOT_FOUND"
        two_roots = "query($id: ID!) { recommendations(clientId: $id) { id } products { code } }"
        ok(await gql(apps["http"], two_roots, {"id": str(clients["own"])}, token=analyst))
        aliased_twice = (
            "query($a: ID!, $b: ID!) { a: recommendations(clientId: $a) { id } "
            "b: recommendations(clientId: $b) { id } }"
        )
        ok(await gql(apps["http"], aliased_twice, {"a": str(clients["own"]), "b": str(clients["other"])},
                     token=analyst))  # fmt: skip
    assert stats(apps) == before


@pytest.mark.parametrize(
    "document, variables, client",
    [
        (NO_RESPONSE, {"id": "7"}, 7),
        (NO_RESPONSE, {"id": 7}, 7),
        ('{ recommendations(clientId: "8") { id } }', None, 8),
        ("query($s: Strategy) { recommendations(clientId: 9, strategy: $s) { id } }", {"s": None}, 9),
        ("{ recommendations(clientId: 9, strategy: UPLIFT_RULES) { id } }", None, 9),
        ('query A { recommendations(clientId: "5") { id } } query B { products { code } }', "A", 5),
        # Not cacheable: the full path answers them as it always has.
        ("query($s: Strategy) { recommendations(clientId: 9, strategy: $s) { id } }", {"s": "HYBRID"}, None),
        ("{ recommendations(clientId: 9, strategy: HYBRID) { id } }", None, None),
        (NO_RESPONSE, {"id": "x"}, None),
        (NO_RESPONSE, {"id": "-3"}, None),
        (NO_RESPONSE, {"id": True}, None),
        (NO_RESPONSE, {}, None),
        ('{ recommendations(clientId: "8") { id } products { code } }', None, None),
        ('{ recommendations(clientId: "8") @include(if: true) { id } }', None, None),
        ('{ ... on Query { recommendations(clientId: "8") { id } } }', None, None),
        (
            'mutation { respondToOffer(clientId: "8", productCode: "x", response: DECLINE) { id } }',
            None,
            None,
        ),
        ('query A { recommendations(clientId: "5") { id } } query B { products { code } }', "B", None),
        ("{ recommendations(clientId: ", None, None),
    ],
)
def test_which_requests_name_their_client(document: str, variables: Any, client: int | None) -> None:
    """The client is read from the document's clientId before execution, only for a query whose
    one root field is recommendations of the stored strategy (the operation's name in place of
    variables in the multi-operation cases)."""
    from api.response_cache import ResponseCache, request_key

    name = variables if isinstance(variables, str) else None
    values = None if isinstance(variables, str) else variables
    route = ResponseCache(10).route(
        request_key({"query": document, "variables": values, "operationName": name}), values
    )
    assert (route.client_id if route else None) == client
