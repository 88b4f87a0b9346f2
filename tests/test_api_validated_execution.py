"""A response-cache miss of an already validated document (api.validated_execution) answers
byte for byte as strawberry's full `Schema.execute`, a document over a limit (aliases) keeps its coded
error on every request (it is never remembered as validated), and an execution with an error
goes the full path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from graphql import ExecutionResult, GraphQLError

import api.json_lane
import api.validated_execution
from api.auth import Role
from core.catalog import load_catalog
from tests.test_api_helpers import client_for, code, gql, make_app, ok
from tests.test_api_response_cache import clients_with_recommendations

QUERY = """query($id: ID!) { recommendations(clientId: $id) {
  id strategy createdAt offers { rank probability reasonCodes reasons { feature contribution }
  explanation response product { code nameEn } } } }"""
ALIASED = "query($id: ID!) { recommendations(clientId: $id) { a: id b: strategy c: createdAt } }"


@pytest.fixture(scope="module")
async def client_ids(db_url: str) -> list[int]:
    """Four registered clients, each with a stored recommendation of two offers."""
    return await clients_with_recommendations(db_url, (31, 41, 51, 61), sorted(load_catalog().codes)[:2])


@pytest.fixture
async def apps(db_url: str) -> AsyncIterator[dict[str, Any]]:
    """The response cache on, with validated misses executed directly and through strawberry."""
    direct = make_app(db_url, response_cache=100, max_aliases=2)
    full = make_app(db_url, response_cache=100, max_aliases=2, validated_miss=False)
    async with client_for(direct) as http, client_for(full) as http_full:
        yield {"direct": direct, "http": http, "full": full, "http_full": http_full}
    for app in (direct, full):
        await app.state.recsys.db.close()


def spy(monkeypatch: pytest.MonkeyPatch, schemas: list[Any] | None = None) -> list[bool]:
    """Whether each call of execute_validated answered (True) or left it to the full path."""
    calls: list[bool] = []
    real = api.json_lane.execute_validated

    async def recorded(schema: Any, *args: Any) -> Any:
        result = await real(schema, *args)
        calls.append(result is not None)
        if schemas is not None:
            schemas.append(schema)
        return result

    monkeypatch.setattr(api.json_lane, "execute_validated", recorded)
    return calls


async def post(http: Any, query: str, cid: int, token: str) -> bytes:
    answer = await http.post("/graphql", json={"query": query, "variables": {"id": str(cid)}},
                             headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert answer.status_code == 200
    return bytes(answer.content)


async def test_a_validated_miss_answers_as_the_full_path(
    apps: dict[str, Any], client_ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas: list[Any] = []
    calls = spy(monkeypatch, schemas)
    analyst = str(apps["direct"].state.recsys.auth.issue(Role.ANALYST)[0])
    for cid in client_ids:
        direct = await post(apps["http"], QUERY, cid, analyst)
        full = await post(apps["http_full"], QUERY, cid, analyst)
        assert direct == full
        assert ok(orjson.loads(direct))["recommendations"]["offers"]
    # The first request validates the text through strawberry; every later miss runs directly.
    assert calls == [False, True, True, True]
    assert schemas[0].documents.valid(QUERY) is not None


async def test_a_document_over_a_limit_keeps_its_coded_error(
    apps: dict[str, Any], client_ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas: list[Any] = []
    calls = spy(monkeypatch, schemas)
    analyst = str(apps["direct"].state.recsys.auth.issue(Role.ANALYST)[0])
    codes = [
        code(await gql(apps["http"], ALIASED, {"id": str(cid)}, token=analyst)) for cid in client_ids[:3]
    ]
    full = code(await gql(apps["http_full"], ALIASED, {"id": str(client_ids[0])}, token=analyst))
    assert codes == [full] * 3 and full != "INTERNAL"
    assert calls == [False, False, False]  # never remembered as validated
    assert all(schema.documents.valid(ALIASED) is None for schema in schemas)


async def test_an_error_in_a_direct_run_takes_the_full_path(
    apps: dict[str, Any], client_ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    analyst = str(apps["direct"].state.recsys.auth.issue(Role.ANALYST)[0])
    await post(apps["http"], QUERY, client_ids[0], analyst)  # validates the text
    monkeypatch.setattr(
        api.validated_execution, "execute", lambda *a, **k: ExecutionResult(None, [GraphQLError("boom")])
    )
    calls = spy(monkeypatch)
    direct = await post(apps["http"], QUERY, client_ids[1], analyst)
    assert calls == [False]
    assert direct == await post(apps["http_full"], QUERY, client_ids[1], analyst)


PLAIN = """query($id: ID!) { recommendations(clientId: $id) {
  id strategy createdAt offers { rank probability reasonCodes explanation product { code nameEn } } } }"""


async def test_a_plain_validated_miss_completes_the_stored_row_without_the_resolver(
    apps: dict[str, Any], client_ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a field that has a resolver of its own (Offer.response), a validated miss
    completes the row the cache read in one pass (Context.root_values), never calling the
    root resolver; with one, the resolver runs as before. Same bytes as the full path."""
    import api.queries

    resolved: list[int] = []
    real = api.queries.stored_answer  # what the resolver returns for the row the cache read

    def counted(context: Any, probe: Any) -> Any:
        resolved.append(probe.route.client_id)
        return real(context, probe)

    monkeypatch.setattr(api.queries, "stored_answer", counted)
    calls = spy(monkeypatch)
    analyst = str(apps["direct"].state.recsys.auth.issue(Role.ANALYST)[0])
    for cid in client_ids:
        direct = await post(apps["http"], PLAIN, cid, analyst)
        assert direct == await post(apps["http_full"], PLAIN, cid, analyst)
    assert calls == [False, True, True, True]
    # the resolver ran for the first (validating) request and for every full-path one only
    assert resolved == [client_ids[0], client_ids[0], client_ids[1], client_ids[2], client_ids[3]]
    resolved.clear()
    await post(apps["http"], QUERY, client_ids[0], analyst)  # validates QUERY
    await post(apps["http"], QUERY, client_ids[1], analyst)  # Offer.response: the resolver's path
    assert resolved == [client_ids[0], client_ids[1]]
