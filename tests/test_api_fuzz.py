"""Abuse: generated GraphQL documents against the real app (hypothesis-graphql).

Valid documents (every query and mutation of schema.graphql with random arguments) and
invalid ones (wrong types, missing arguments), sent as a client, as an analyst and
anonymously. Every answer must be an HTTP status below 500, carry no stack trace or SQL, and
every error must have one of the documented codes. FUZZ_EXAMPLES sets the number of cases
per mode and role (default 120: 720 cases in `make test`; the full run is
`FUZZ_EXAMPLES=350 .venv/bin/python -m pytest tests/test_api_fuzz.py`: 2,100 cases).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from tests.test_api_helpers import client_for, gql, make_app, ok

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
CODES = {
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "RATE_LIMITED",
    "INTERNAL",
    "UNAVAILABLE",
    "PAYLOAD_TOO_LARGE",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
}
LEAKS = re.compile(r"Traceback|File \"|asyncpg|psycopg|SELECT |INSERT |sqlalchemy|\.py\", line", re.I)
SCALARS = {
    "DateTime": st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2035, 1, 1)).map(
        lambda d: nodes.String(d.replace(tzinfo=UTC).isoformat())
    ),
    "Date": st.dates().map(lambda d: nodes.String(d.isoformat())),
    "JSON": st.just(nodes.String("{}")),
}


@pytest.fixture(scope="module")
async def population(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    from core.data.generate import generate_to_db
    from core.models.hybrid import HybridParams
    from core.services.training import train_and_save

    await generate_to_db(
        300,
        6,
        seed=5,
        url=db_url,
        chunk_size=300,
        truth_dir=tmp_path_factory.mktemp("t"),
        show_progress=False,
    )
    await train_and_save(db_url, params=HybridParams(iterations_any=10, iterations_which=10))
    return db_url


@pytest.fixture(scope="module")
async def http(population: str) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(population)
    async with client_for(app) as client:
        yield client
    await app.state.recsys.db.close()


@pytest.fixture(scope="module")
async def headers(http: httpx.AsyncClient, population: str) -> dict[str, dict[str, str]]:
    import asyncpg

    conn = await asyncpg.connect(population)
    try:
        cid = await conn.fetchval("SELECT min(id) FROM client")
    finally:
        await conn.close()
    client = ok(
        await gql(http, "mutation($id: ID!) { demoLogin(clientId: $id) { token } }", {"id": str(cid)})
    )
    analyst = ok(await gql(http, 'mutation { analystLogin(password: "analyst") { token } }'))
    return {
        "client": {"Authorization": f"Bearer {client['demoLogin']['token']}"},
        "analyst": {"Authorization": f"Bearer {analyst['analystLogin']['token']}"},
        "anonymous": {},
    }


def check_answer(resp: httpx.Response, document: str) -> None:
    assert resp.status_code < 500, f"{resp.status_code} for:\n{document}\n{resp.text[:500]}"
    assert not LEAKS.search(resp.text), f"internals leaked for:\n{document}\n{resp.text[:800]}"
    if resp.status_code in (413, 429):
        return
    body = resp.json()
    for err in body.get("errors") or []:
        code = (err.get("extensions") or {}).get("code")
        assert code in CODES, f"uncoded error {err} for:\n{document}"


@pytest.mark.parametrize("role", ["client", "analyst", "anonymous"])
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
async def test_generated_documents_never_break_the_api(
    http: httpx.AsyncClient, headers: dict[str, dict[str, str]], role: str, mode: Mode
) -> None:
    sdl = (ROOT / "schema.graphql").read_text()
    strategy = from_schema(sdl, custom_scalars=SCALARS if mode is Mode.POSITIVE else None, mode=mode)
    # Hypothesis drives a synchronous function: it runs in a thread and hands each request to
    # this test's event loop (the one the app and its pool live on).
    loop = asyncio.get_running_loop()
    seen: list[Any] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(document=strategy)
    def _case(document: str) -> None:
        request = http.post(
            "/graphql",
            content=json.dumps({"query": document}).encode(),
            headers={**headers[role], "Content-Type": "application/json"},
        )
        resp = asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)
        check_answer(resp, document)
        seen.append(resp.status_code)

    await asyncio.to_thread(_case)
    assert len(seen) >= min(EXAMPLES, 20)
