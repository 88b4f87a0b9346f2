"""Profile: the API's CPU per `recommendations` request, in-process, without HTTP or a load generator.

    python bench/profile_api.py [--reuse-home DIR] [--requests 2000] [--distinct 0] [--profile] [--json]

Drives the real ASGI app (api.app.create_app: guard, JSON lane, schema, extensions) with
hand-made ASGI messages, one request at a time, against the state folder's database (its
stored recommendations; run bench_api.py once to store them). Why: bench_api.py's CPU per
request is measured under load beside PostgreSQL and the load generator on the same two
cores; this measures the API's own Python work per request, so a change to the GraphQL path
shows its worth in milliseconds without the noise, and `--profile` says where they go.

It measures the same requests, alternating in blocks of 50, through an app with the response
cache off (`RECSYS_API_RESPONSE_CACHE=0`: every request executes the query), one with it on,
and one with it on whose misses take strawberry's full `Schema.execute`
(`RECSYS_API_VALIDATED_MISS=0`, api.validated_execution);
`--distinct N` draws the requests from N clients
(0: every request a different client, so the cache only misses). CPU is the process time of
this process, the database's work not included. `--json`: one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import time
from pathlib import Path
from typing import Any

import orjson
from _setup import state_home
from bench_api import QUERY  # the same document bench_api measures over HTTP


async def _post(app: Any, body: bytes, token: str) -> tuple[int, bytes]:
    """One POST /graphql through the ASGI app; (status, body)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [
            (b"host", b"api"), (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()), (b"content-length", str(len(body)).encode()),
        ],
    }  # fmt: skip
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _run(ids: list[int], profile: bool, block: int = 50) -> dict[str, Any]:
    """The same requests through an app with the cache off and one with it on, alternating in
    blocks of `block` requests (so both see the same machine)."""
    from api.app import create_app
    from api.auth import Role
    from api.config import ApiConfig
    from core.settings import Settings

    settings = Settings(jwt_secret="profile-" + "s" * 40, demo_login=True, llm_provider="template")
    variants = (("cache_off", 0, True), ("cache_on", 10_000, True), ("cache_on_full_miss", 10_000, False))
    apps = {
        name: create_app(
            settings, ApiConfig(kafka=False, rate_per_s=0, response_cache=size, validated_miss=validated)
        )
        for name, size, validated in variants
    }
    token, _ = apps["cache_on"].state.recsys.auth.issue(Role.ANALYST)
    bodies = [orjson.dumps({"query": QUERY, "variables": {"id": str(i)}}) for i in ids]
    cpu = dict.fromkeys(apps, 0.0)
    wall = dict.fromkeys(apps, 0.0)
    errors = dict.fromkeys(apps, 0)
    profilers = {name: cProfile.Profile() for name in apps} if profile else {}
    for app in apps.values():  # warm-up: pool, parser and plan caches, imports (other clients)
        for body in [orjson.dumps({"query": QUERY, "variables": {"id": "0"}})] * 20:
            await _post(app, body, token)
    for start in range(0, len(bodies), block):
        for name, app in apps.items():
            profiler = profilers.get(name)
            c, w = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for body in bodies[start : start + block]:
                status, answer = await _post(app, body, token)
                errors[name] += status != 200 or b'"errors"' in answer
            if profiler:
                profiler.disable()
            cpu[name] += time.process_time() - c
            wall[name] += time.perf_counter() - w
    out: dict[str, Any] = {}
    for name, app in apps.items():
        state = app.state.recsys
        out[name] = {
            "errors": errors[name],
            "cpu_ms_per_request": round(1000 * cpu[name] / len(ids), 3),
            "wall_ms_per_request": round(1000 * wall[name] / len(ids), 3),
        }
        if state.responses is not None:
            out[name]["cache"] = state.responses.stats()
        if name in profilers:
            text = io.StringIO()
            pstats.Stats(profilers[name], stream=text).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profilers[name], stream=text).sort_stats("tottime").print_stats(30)
            out[name]["profile"] = text.getvalue()
        await state.db.close()
    return out


async def _ids(n: int) -> list[int]:
    from core.db.session import database_url, raw_connection

    async with raw_connection(database_url()) as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT client_id FROM recommendation ORDER BY client_id LIMIT $1", n
        )
    return [int(r["client_id"]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-home", type=Path, default=None, help="state folder with stored rows")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--distinct", type=int, default=0, help="clients drawn from (0: all different)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    state_home(args.reuse_home, "rsp-")
    pool = asyncio.run(_ids(args.distinct or args.requests))
    if not pool:
        raise SystemExit("no stored recommendation: run bench/bench_api.py on this state folder first")
    rng = random.Random(31)
    ids = pool[: args.requests] if not args.distinct else [rng.choice(pool) for _ in range(args.requests)]
    out: dict[str, Any] = {"requests": len(ids), "distinct_clients": len(set(ids))}
    for name, result in asyncio.run(_run(ids, args.profile)).items():
        profile = result.pop("profile", None)
        if profile and not args.json:
            print(f"--- {name} ---\n{profile}")
        out[name] = result
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
