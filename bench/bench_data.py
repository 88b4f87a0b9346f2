"""Benchmark: generate + load synthetic data, and load the real 10k sample.

    python bench/bench_data.py [--clients 100000] [--months 17] [--seed 31]

Runs against a fresh embedded PostgreSQL in a temporary state folder (or DATABASE_URL's
server, in a new database). Prints rows per second per table, total wall time and the
peak memory (RSS) of this process. Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "santander" / "train_ver2_sample_10k.csv"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def table_sizes(url: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) AS size FROM pg_class "
            "WHERE relname IN ('client','holding','product_event','operation','offer_log')"
        )
        return {r["relname"]: r["size"] for r in rows}
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=17)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="rsb-", dir="/tmp"))
    home.chmod(0o755)
    os.environ.setdefault("RECSYS_HOME", str(home))

    from core.catalog import load_catalog
    from core.data.generate import generate_to_db
    from core.data.santander_load import load_santander_file
    from core.data.store import upsert_catalog
    from core.db import migrate
    from core.db.urls import ensure_database, plain_url, with_database

    if os.environ.get("DATABASE_URL"):
        admin = with_database(plain_url(os.environ["DATABASE_URL"]), "postgres")
    else:
        from core.db.embedded import start_embedded

        admin = plain_url(start_embedded(Path(os.environ["RECSYS_HOME"])))
    results: dict[str, object] = {}

    def fresh_db(label: str) -> str:
        name = f"bench_{label}_{uuid.uuid4().hex[:6]}"
        ensure_database(admin, name)
        url = with_database(admin, name)
        migrate.upgrade(url)

        async def _cat() -> None:
            import asyncpg

            conn = await asyncpg.connect(url)
            await upsert_catalog(conn, load_catalog())
            await conn.close()

        asyncio.run(_cat())
        return url

    url = fresh_db("gen")
    t0 = time.perf_counter()
    report = asyncio.run(
        generate_to_db(
            args.clients,
            args.months,
            args.seed,
            url=url,
            chunk_size=args.chunk_size,
            truth_dir=home / "truth",
        )
    )
    wall = time.perf_counter() - t0
    total_rows = sum(report.counts.values())
    results["generate"] = {
        "clients": args.clients,
        "months": args.months,
        "seconds": round(wall, 1),
        "simulate_seconds": round(report.simulate_seconds, 1),
        "write_seconds": round(report.write_seconds, 1),
        "rows": report.counts,
        "rows_per_second_by_table": {k: round(v / wall) for k, v in report.counts.items()},
        "rows_per_second_total": round(total_rows / wall),
        "truth_rows": report.truth_rows,
        "table_sizes": asyncio.run(table_sizes(url)),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    print(json.dumps({"generate": results["generate"]}, indent=2), flush=True)

    if SAMPLE.exists():
        url = fresh_db("real")
        t0 = time.perf_counter()
        load = asyncio.run(load_santander_file(SAMPLE, url=url))
        wall = time.perf_counter() - t0
        results["load_santander_sample"] = {
            "seconds": round(wall, 2),
            "rows_read": load.rows_read,
            "rows_per_second": round(load.rows_read / wall),
            "counts": load.counts,
            "peak_rss_mb": round(peak_rss_mb()),
        }
        print(json.dumps({"load_santander_sample": results["load_santander_sample"]}, indent=2))
    else:
        print(f"real sample not found at {SAMPLE}: skipped")


if __name__ == "__main__":
    main()
