"""Benchmark: the `recommendations` query under concurrent load, through a real API process.

    python bench/bench_api.py [--clients 5000] [--months 17] [--sample 5000] [--requests 5000]
                              [--compute 64] [--concurrency 16] [--reuse-home DIR]

On a fresh embedded PostgreSQL with a simulated population and a trained model set (or a state
folder that already holds both, e.g. .recsys after `make run`):
0. a batch job stores a recommendation (decision layer + template explanations, batches of 500
   clients, the worker's scoring path) for `--sample` random clients that have none, as the
   worker and batch jobs keep them in production;
then starts `recsys api` as a subprocess (uvicorn, one process, rate limit off, no broker)
and, from this process with `--concurrency` connections:
1. served requests: `--requests` `recommendations` queries for random clients of the sample,
   answered from the latest stored recommendation (the issue's target: p50 <= 15 ms,
   p99 <= 50 ms);
2. first offers: `--compute` `registerClient` mutations; each stores a new client, then runs
   the decision layer in the API (features, cold start, CatBoost, SHAP reasons, uplift, rules,
   explanations) and stores the result (the path of a client without a stored
   recommendation).
Prints p50/p90/p99 latency (ms) and requests/s of both phases as JSON, and the CPU time per
served request of the API, PostgreSQL and the load generator (all on the same cores here).
Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from _setup import ensure_population, free_port, migrated_database, recsys, state_home

QUERY = """query($id: ID!) { recommendations(clientId: $id) {
  id strategy modelVersion createdAt noContactReason
  offers { rank probability uplift expectedValue reasonCodes reasonTexts explanation explanationSource
           reasons { feature contribution } product { code kind nameRu nameEn category } } } }"""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.mean(ordered) * 1000, 2),
    }


REGISTER = """mutation($i: RegisterClientInput!) { registerClient(input: $i) {
  token recommendation { id offers { rank probability explanation product { code } } } } }"""


def questionnaire(rng: random.Random) -> dict[str, Any]:
    segment = rng.choice(["top", "individual", "individual", "student"])
    age = rng.randint(18, 25) if segment == "student" else rng.randint(25, 70)
    return {
        "age": age,
        "sex": rng.choice("HV"),
        "segment": segment,
        "income": round(rng.uniform(8e3, 2.5e5), 2),
    }


async def load(
    base: str, token: str, ids: list[int], concurrency: int, register: bool = False
) -> dict[str, Any]:
    """Send one query per id in `ids` (`register`: one registration each), `concurrency` at a
    time, each worker on its own keep-alive connection; latency per request."""
    from urllib.parse import urlsplit

    from _http import LeanHttp

    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for cid in ids:
        queue.put_nowait(cid)
    url = urlsplit(base)
    headers = {"Authorization": f"Bearer {token}"}

    async def run() -> None:
        nonlocal errors
        http = LeanHttp(url.hostname or "127.0.0.1", url.port or 80)
        try:
            while not queue.empty():
                cid = queue.get_nowait()
                if register:
                    body = {"query": REGISTER, "variables": {"i": questionnaire(random.Random(cid))}}
                else:
                    body = {"query": QUERY, "variables": {"id": str(cid)}}
                t = time.perf_counter()
                status, answer = await http.post_json("/graphql", body, headers)
                latencies.append(time.perf_counter() - t)
                if status != 200 or answer.get("errors"):
                    errors += 1
        finally:
            await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "requests": len(ids),
        "errors": errors,
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(ids) / seconds, 1),
        **percentiles(latencies),
    }


def cpu_seconds(api_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the API (its process tree), by PostgreSQL and by this load
    generator: per request, they say how many requests per second the machine's cores allow."""
    import psutil

    def _own(proc: psutil.Process) -> float:
        t = proc.cpu_times()  # this process only: the API is its child
        return t.user + t.system

    def tree(proc: psutil.Process) -> float:
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    postgres = 0.0
    for p in psutil.process_iter(["name"]):
        if p.info["name"] in ("postgres", "postmaster"):
            try:
                t = p.cpu_times()
                postgres += t.user + t.system
            except psutil.Error:
                pass
    return {
        "api": tree(psutil.Process(api_pid)),
        "postgres": postgres,
        "load_generator": _own(psutil.Process()),
    }


def server_share(metrics: str, operation: str) -> dict[str, float]:
    """Share of operations the server finished within each histogram bound (GraphQL execution
    time inside the API, without HTTP and client overhead)."""
    prefix = f'recsys_api_request_seconds_bucket{{operation="{operation}",le="'
    counts = {}
    for line in metrics.splitlines():
        if line.startswith(prefix):
            bound, value = line[len(prefix) :].split('"}')
            counts[bound] = float(value)
    total = counts.get("+Inf", 0.0)
    return {
        f"{b}s": round(v / total, 4)
        for b, v in counts.items()
        if total and b in ("0.005", "0.01", "0.025", "0.05")
    }


async def unscored_ids(url: str, seed: int) -> list[int]:
    """Clients without a stored recommendation, shuffled."""
    from core.db.session import raw_connection

    async with raw_connection(url) as conn:
        rows = await conn.fetch(
            "SELECT id FROM client c "
            "WHERE NOT EXISTS (SELECT 1 FROM recommendation r WHERE r.client_id = c.id)"
        )
    ids = [int(r["id"]) for r in rows]
    random.Random(seed).shuffle(ids)
    return ids


async def scored_ids(url: str) -> list[int]:
    from core.db.session import raw_connection

    async with raw_connection(url) as conn:
        rows = await conn.fetch("SELECT DISTINCT client_id FROM recommendation")
    return [int(r["client_id"]) for r in rows]


async def prefill(url: str, ids: list[int], batch: int = 500) -> dict[str, Any]:
    """Store a decided, explained recommendation per client, in batches (a batch job)."""
    from datetime import UTC, datetime

    from core.catalog import load_catalog
    from core.db.session import raw_connection
    from core.decision import load_rules
    from core.explain.service import make_explainer
    from core.services.explanations import decide_and_explain
    from core.services.recommend import score_clients, store_recommendation
    from core.services.registry import load_latest

    catalog = load_catalog()
    rules = load_rules(catalog=catalog)
    explainer = make_explainer()
    rng = random.Random(0)
    started = time.perf_counter()
    stored = 0
    async with raw_connection(url) as conn:
        models = await load_latest(conn)
        assert models is not None
        for i in range(0, len(ids), batch):
            scored = await score_clients(conn, models, ids[i : i + batch], datetime.now(UTC), catalog)
            async with conn.transaction():
                for cid, s in scored.items():
                    _, offers = await decide_and_explain(s, catalog, rules, rng, explainer)
                    await store_recommendation(conn, cid, models.version, offers)
                    stored += 1
    seconds = time.perf_counter() - started
    return {
        "clients": stored,
        "seconds": round(seconds, 1),
        "clients_per_s": round(stored / max(seconds, 1e-9), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--months", type=int, default=17)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--sample", type=int, default=5000, help="clients with a stored recommendation")
    parser.add_argument("--requests", type=int, default=5000, help="served (stored) requests")
    parser.add_argument("--compute", type=int, default=33, help="requests that decide in the API")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--reuse-home", type=Path, default=None, help="state folder with data and models")
    args = parser.parse_args()

    home = state_home(args.reuse_home, "rsa-")
    out: dict[str, Any] = {
        "home": str(home),
        "concurrency": args.concurrency,
        "api_workers": args.api_workers,
        "cpu_cores": os.cpu_count(),
    }
    url = migrated_database()
    out.update(
        ensure_population(url, clients=args.clients, months=args.months, seed=args.seed, show_progress=False)
    )
    have = asyncio.run(scored_ids(url))
    fresh = asyncio.run(unscored_ids(url, args.seed))
    missing = max(0, args.sample - len(have))
    if missing:
        out["batch_prefill"] = asyncio.run(prefill(url, fresh[:missing]))
    ids = asyncio.run(scored_ids(url))[: args.sample]
    out["clients_with_stored_recommendation"] = len(ids)

    port = free_port()
    env = {
        **os.environ,
        "RECSYS_HOME": str(home),
        "JWT_SECRET": "bench-" + "s" * 40,
        "DEMO_LOGIN": "true",
        "RECSYS_API_RATE_PER_S": "0",  # 0 = no rate limit
        "RECSYS_API_KAFKA": "false",
        "RECSYS_API_POOL_MAX": str(max(20, args.concurrency)),
        "LLM_PROVIDER": "template",
    }
    log = home / "bench-api.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            recsys("api", "--port", str(port), "--log-level", "warning", "--workers", str(args.api_workers)),
            env=env,
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the API did not start; see {log}")
            time.sleep(0.2)
        resp = httpx.post(
            f"{base}/graphql", json={"query": 'mutation { analystLogin(password: "analyst") { token } }'}
        )
        token = resp.json()["data"]["analystLogin"]["token"]
        rng = random.Random(args.seed)
        asyncio.run(load(base, token, [rng.choice(ids) for _ in range(200)], args.concurrency))  # warm-up
        served = [rng.choice(ids) for _ in range(args.requests)]
        before = cpu_seconds(proc.pid)
        out["served_from_stored_recommendation"] = asyncio.run(load(base, token, served, args.concurrency))
        out["served_cpu_ms_per_request"] = {
            k: round((v - before[k]) * 1000 / len(served), 2) for k, v in cpu_seconds(proc.pid).items()
        }
        asyncio.run(load(base, token, [0], 1, register=True))  # loads the model set
        out["register_client_decide_and_store"] = asyncio.run(
            load(base, token, list(range(1, args.compute)), args.concurrency, register=True)
        )
        metrics = httpx.get(f"{base}/metrics").text  # one worker's view when there are several
        out["server_side_counts"] = [
            line for line in metrics.splitlines() if line.startswith("recsys_api_requests_total")
        ]
        out["server_side_share_within"] = server_share(metrics, "query:recommendations")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
