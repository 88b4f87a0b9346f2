"""Benchmark: the `recommendations` query under concurrent load beside a bare-endpoint floor.

    python bench/bench_api.py [--clients 5000] [--months 17] [--sample 5000] [--requests 5000]
                              [--compute 33] [--concurrency 16] [--api-workers 1] [--rounds 2]
                              [--reuse-home DIR] [--no-cache] [--json]

On a fresh embedded PostgreSQL with a simulated population and a trained model set (or a state
folder that already holds both, e.g. .recsys after `make run`):
0. a batch job stores a recommendation (decision layer + template explanations, batches of 500
   clients, the worker's scoring path) for `--sample` random clients that have none, as the
   worker and batch jobs keep them in production;
then starts the API (uvicorn, `--api-workers` processes, rate limit off, no broker) with one
extra bench-only route (bench/_floor_app.py) and, from this process with `--concurrency`
keep-alive connections:
1. graphql: `--requests` `recommendations` queries for random clients of the sample, answered
   from the latest stored recommendation;
2. floor: as many requests for the same clients to `POST /floor`, which serves the same stored
   row as JSON from a bare Starlette route (same pool, same token check, same SQL): what the
   work costs without GraphQL. The two alternate in `--rounds` rounds so both see the same
   machine;
3. first offers: `--compute` `registerClient` mutations; each stores a new client, then runs
   the decision layer in the API (features, cold start, CatBoost, SHAP reasons, uplift, rules,
   explanations) and stores the result (the path of a client without a stored
   recommendation). `--compute 0` skips it.
For graphql and floor: requests/s, p50/p90/p99 latency (ms) and CPU time per request of the API
processes (and of PostgreSQL and this load generator, all on the same cores), their ratio, and
how busy the machine was meanwhile. The API's response cache (api.response_cache) is on, as it
is by default: the random draws repeat clients, so part of the graphql requests are answered
from it; graphql's `cache_hits` / `cache_misses` / `cache_hit_rate` (from the API's own
counters, over the measured requests) say how many. `--no-cache` turns it off
(RECSYS_API_RESPONSE_CACHE=0): every request executes the query. Small
`--clients/--sample/--requests` make a quick run.
`--json`: the last line is one JSON object, `{"graphql": {...}, "floor": {...}, "ratio": ...}`.
Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from _floor_app import FLOOR_PATH
from _measure import cache_counts, cpu_seconds, server_share, summary
from _setup import ensure_population, free_port, migrated_database, state_home
from rich.console import Console
from rich.progress import track
from rich.table import Table

QUERY = """query($id: ID!) { recommendations(clientId: $id) {
  id strategy modelVersion createdAt noContactReason
  offers { rank probability uplift expectedValue reasonCodes reasonTexts explanation explanationSource
           reasons { feature contribution } product { code kind nameRu nameEn category } } } }"""


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
    base: str, token: str, ids: list[int], concurrency: int, kind: str = "graphql"
) -> dict[str, Any]:
    """Send one request per id in `ids`, `concurrency` at a time, each worker on its own
    keep-alive connection; latency per request. kind: graphql (the `recommendations` query),
    floor (the bench's bare route for the same row) or register (one registration each)."""
    from urllib.parse import urlsplit

    from _http import LeanHttp

    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for cid in ids:
        queue.put_nowait(cid)
    url = urlsplit(base)
    headers = {"Authorization": f"Bearer {token}"}
    path = FLOOR_PATH if kind == "floor" else "/graphql"

    def body_of(cid: int) -> dict[str, Any]:
        if kind == "register":
            return {"query": REGISTER, "variables": {"i": questionnaire(random.Random(cid))}}
        if kind == "floor":
            return {"clientId": str(cid)}
        return {"query": QUERY, "variables": {"id": str(cid)}}

    async def run() -> None:
        nonlocal errors
        http = LeanHttp(url.hostname or "127.0.0.1", url.port or 80)
        try:
            while not queue.empty():
                body = body_of(queue.get_nowait())
                t = time.perf_counter()
                status, answer = await http.post_json(path, body, headers)
                latencies.append(time.perf_counter() - t)
                if status != 200 or answer.get("errors"):
                    errors += 1
        finally:
            await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {"requests": len(ids), "errors": errors, "seconds": seconds, "latencies": latencies}


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
    parser.add_argument("--requests", type=int, default=5000, help="served (stored) requests per phase")
    parser.add_argument("--compute", type=int, default=33, help="requests that decide in the API (0: none)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--rounds", type=int, default=2, help="graphql/floor alternations")
    parser.add_argument("--reuse-home", type=Path, default=None, help="state folder with data and models")
    parser.add_argument("--no-cache", action="store_true", help="API response cache off")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    for name in ("clients", "sample", "requests", "concurrency", "api_workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    home = state_home(args.reuse_home, "rsa-")
    out: dict[str, Any] = {
        "home": str(home),
        "concurrency": args.concurrency,
        "api_workers": args.api_workers,
        "response_cache": not args.no_cache,
        "cpu_cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
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
    bench_dir = str(Path(__file__).resolve().parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([bench_dir, *filter(None, [os.environ.get("PYTHONPATH")])]),
        "RECSYS_HOME": str(home),
        "JWT_SECRET": "bench-" + "s" * 40,  # one secret for all API processes
        "DEMO_LOGIN": "true",
        "RECSYS_API_RATE_PER_S": "0",  # 0 = no rate limit
        "RECSYS_API_KAFKA": "false",
        "RECSYS_API_POOL_MAX": str(max(20, args.concurrency)),
        "LLM_PROVIDER": "template",
        **({"RECSYS_API_RESPONSE_CACHE": "0"} if args.no_cache else {}),
    }
    if args.api_workers > 1:  # /metrics sums the processes (api.metrics), as `recsys api` sets it
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="metrics-", dir=home)
    log = home / "bench-api.log"
    command = [
        sys.executable, "-m", "uvicorn", "_floor_app:create_app", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--workers", str(args.api_workers),
        "--no-proxy-headers",
    ]  # fmt: skip
    with open(log, "wb") as logf:
        proc = subprocess.Popen(command, env=env, stdout=logf, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        token = _wait_and_login(base, proc, log)
        rng = random.Random(args.seed)
        for kind in ("graphql", "floor"):  # warm-up: connections, caches, code paths
            asyncio.run(load(base, token, [rng.choice(ids) for _ in range(200)], args.concurrency, kind))
        out["api_idle_after_s"] = _wait_idle(proc.pid)
        served = [rng.choice(ids) for _ in range(args.requests)]
        chunks = [served[i :: args.rounds] for i in range(args.rounds)]
        pgdata = str(home / "pgdata")
        runs: dict[str, list[dict[str, Any]]] = {"graphql": [], "floor": []}
        cpu: dict[str, dict[str, float]] = {k: defaultdict(float) for k in runs}
        cache: dict[str, float] = defaultdict(float)
        for chunk in track(chunks, description="graphql / floor rounds", disable=args.json):
            for kind in runs:
                counted = cache_counts(httpx.get(f"{base}/metrics").text)  # before the CPU count
                before = cpu_seconds(proc.pid, pgdata)
                runs[kind].append(asyncio.run(load(base, token, chunk, args.concurrency, kind)))
                for k, v in cpu_seconds(proc.pid, pgdata).items():
                    cpu[kind][k] += v - before[k]
                if kind == "graphql":
                    for k, v in cache_counts(httpx.get(f"{base}/metrics").text).items():
                        cache[k] += v - counted.get(k, 0.0)
        graphql, floor = (summary(runs[k], cpu[k]) for k in runs)
        graphql["cache_hits"], graphql["cache_misses"] = int(cache["hit"]), int(cache["miss"])
        graphql["cache_hit_rate"] = round(cache["hit"] / max(graphql["requests"], 1), 3)
        out["graphql"], out["floor"] = graphql, floor
        out["ratio"] = {
            "rps_graphql_over_floor": round(graphql["rps"] / floor["rps"], 3),
            "cpu_graphql_over_floor": round(graphql["cpu_ms_per_request"] / floor["cpu_ms_per_request"], 3),
            "p50_graphql_over_floor": round(graphql["p50_ms"] / floor["p50_ms"], 3),
            "p99_graphql_over_floor": round(graphql["p99_ms"] / floor["p99_ms"], 3),
        }
        if args.compute > 0:
            asyncio.run(load(base, token, [0], 1, "register"))  # loads the model set
            registered = asyncio.run(
                load(base, token, list(range(1, args.compute + 1)), args.concurrency, "register")
            )
            out["register_client_decide_and_store"] = {
                k: v
                for k, v in summary([registered], defaultdict(float)).items()
                if "cpu" not in k and "machine" not in k
            }
        metrics = httpx.get(f"{base}/metrics").text
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
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if not args.json:
        _table(out)
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))


def _wait_and_login(base: str, proc: subprocess.Popen[bytes], log: Path) -> str:
    """Wait for /healthz, then an analyst token (demo login)."""
    deadline = time.monotonic() + 300  # imports take half a minute on a busy 2-core machine
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
    return str(resp.json()["data"]["analystLogin"]["token"])


def _wait_idle(pid: int, limit_s: float = 180.0) -> float:
    """Seconds until the API processes use under 5% of a core: each loads the model set in the
    background at start, which must not count as serving CPU."""
    import psutil

    def cpu() -> float:
        total = 0.0
        for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += sum(p.cpu_times()[:2])
        return total

    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = cpu()
        time.sleep(1.0)
        if cpu() - before < 0.05:
            break
    return round(time.monotonic() - started, 1)


def _table(out: dict[str, Any]) -> None:
    """graphql beside floor, for a reader (the JSON below has everything)."""
    title = f"recommendations, concurrency {out['concurrency']}, {out['api_workers']} API process(es)"
    if out["response_cache"]:
        title += f", cache hit rate {out['graphql']['cache_hit_rate']:.0%}"
    table = Table(title=title)
    for column in ("", "requests/s", "p50 ms", "p99 ms", "API CPU ms/req", "errors"):
        table.add_column(column, justify="right")
    for kind in ("graphql", "floor"):
        r = out[kind]
        table.add_row(
            kind, f"{r['rps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
            f"{r['cpu_ms_per_request']:.2f}", str(r["errors"]),
        )  # fmt: skip
    ratio = out["ratio"]
    table.add_row(
        "graphql / floor", f"{ratio['rps_graphql_over_floor']:.2f}", f"{ratio['p50_graphql_over_floor']:.2f}",
        f"{ratio['p99_graphql_over_floor']:.2f}", f"{ratio['cpu_graphql_over_floor']:.2f}", "",
    )  # fmt: skip
    Console(stderr=True).print(table)


if __name__ == "__main__":
    main()
