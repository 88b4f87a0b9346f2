"""Benchmark: mixed GraphQL traffic at increasing concurrency (throughput, p50/p99, errors).

    python bench/bench_load.py [--api-url URL --database-url URL] [--reuse-home DIR]
                               [--clients 3000] [--levels 4,8,16,32] [--seconds 15]

Without --api-url it starts the system itself (`recsys up --no-web`: relay, worker, API with
demo login) on a state folder: --reuse-home (e.g. .recsys after `make run`) or a fresh one
with a generated population and a quickly trained model set. Traffic per request, chosen at
random with a client token of a random client: 60% `recommendations`, 30% a history page
(`client { operations(first: 20) }`), 10% `addOperation` (which goes through the outbox to the
worker). Each level runs for --seconds; prints requests/s, p50/p99 latency and errors (HTTP
status other than 200 or a GraphQL error) per level. Numbers only: nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
from _setup import ensure_population, free_port, migrated_database, recsys, state_home

RECS = """query($id: ID!) { recommendations(clientId: $id) { offers { product { code } probability
  expectedValue explanation } } }"""
HISTORY = """query($id: ID!) { client(id: $id) { id operations(first: 20) { totalCount
  edges { node { id amount category occurredAt } } } } }"""
ADD_OP = """mutation($input: AddOperationInput!) { addOperation(input: $input) { id } }"""
LOGIN = """mutation($id: ID!) { demoLogin(clientId: $id) { token } }"""
CATEGORIES = ("groceries", "restaurants", "travel", "auto", "health", "shopping", "utilities")


def prepare_home(args: argparse.Namespace) -> Path:
    """The state folder: --reuse-home as it is, else a fresh one with a population (8 months)
    and a quickly trained model set."""
    home = state_home(args.reuse_home, "rsl-")
    if args.reuse_home is None:
        ensure_population(migrated_database(), clients=args.clients, months=8, seed=31, quick_models=True)
    return home


def start_system(home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    from core.db.session import database_url

    url = database_url()
    port = free_port()
    env = {
        **os.environ,
        "RECSYS_HOME": str(home),
        "DATABASE_URL": url,
        "API_PORT": str(port),
        "DEMO_LOGIN": "true",
        "RECSYS_API_RATE_PER_S": "0",
    }
    log = open(home / "bench-load-up.log", "ab")  # noqa: SIM115 - the child's output
    proc = subprocess.Popen(
        recsys("up", "--no-web"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                return proc, f"{api}/graphql", url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the system did not start; see {home / 'bench-load-up.log'}")
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the API did not become ready in 180 s")


async def client_ids(url: str, n: int) -> list[int]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id FROM client ORDER BY random() LIMIT $1", n)
    finally:
        await conn.close()
    return [int(r["id"]) for r in rows]


async def login_all(http: httpx.AsyncClient, api: str, ids: list[int]) -> dict[int, str]:
    tokens = {}
    for cid in ids:
        r = await http.post(api, json={"query": LOGIN, "variables": {"id": str(cid)}})
        data = r.json()
        if r.status_code != 200 or data.get("errors"):
            raise SystemExit(f"demoLogin failed for {cid}: {r.status_code} {data}")
        tokens[cid] = data["data"]["demoLogin"]["token"]
    return tokens


def request_for(cid: int, rng: random.Random) -> tuple[str, dict[str, object], str]:
    x = rng.random()
    if x < 0.6:
        return RECS, {"id": str(cid)}, "recommendations"
    if x < 0.9:
        return HISTORY, {"id": str(cid)}, "history"
    amount = -round(rng.uniform(3, 300), 2)
    op = {"clientId": str(cid), "amount": amount, "category": rng.choice(CATEGORIES), "description": "bench"}
    return ADD_OP, {"input": op}, "addOperation"


async def level(api: str, tokens: dict[int, str], concurrency: int, seconds: float) -> dict[str, object]:
    lat: list[float] = []
    errors: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    ids = list(tokens)
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def _user(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < stop_at:
                cid = rng.choice(ids)
                query, variables, kind = request_for(cid, rng)
                t = time.perf_counter()
                try:
                    r = await http.post(
                        api,
                        json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {tokens[cid]}"},
                    )
                    ok = r.status_code == 200 and not r.json().get("errors")
                    if not ok:
                        errors[f"{kind}:{r.status_code}"] += 1
                except httpx.HTTPError as exc:
                    errors[f"{kind}:{type(exc).__name__}"] += 1
                lat.append(time.perf_counter() - t)
                kinds[kind] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(_user(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    return {
        "concurrency": concurrency,
        "requests": len(lat),
        "rps": len(lat) / elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": dict(errors),
        "mix": dict(kinds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", default=None, help="GraphQL URL of a running API (demo login on)")
    parser.add_argument("--database-url", default=None, help="its database (for client ids)")
    parser.add_argument("--reuse-home", type=Path, default=None)
    parser.add_argument("--clients", type=int, default=3000)
    parser.add_argument("--levels", default="4,8,16,32")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--users", type=int, default=300, help="distinct client tokens")
    args = parser.parse_args()

    proc = None
    if args.api_url:
        api, url = args.api_url, args.database_url
        if not url:
            raise SystemExit("--database-url is needed with --api-url")
    else:
        home = prepare_home(args)
        proc, api, url = start_system(home)
        print(f"system up on {home}")
    try:

        async def _run() -> None:
            async with httpx.AsyncClient(timeout=60) as http:
                tokens = await login_all(http, api, await client_ids(url, args.users))
            # Warm-up: first requests load models and fill caches.
            await level(api, tokens, 4, 3)
            for c in (int(x) for x in args.levels.split(",")):
                r = await level(api, tokens, c, args.seconds)
                print(
                    f"concurrency {c:>3}: {r['rps']:7.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                    f"p99 {r['p99_ms']:7.1f} ms  requests {r['requests']}  errors {r['errors'] or 0}  "
                    f"mix {r['mix']}"
                )

        asyncio.run(_run())
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(60)


if __name__ == "__main__":
    main()
