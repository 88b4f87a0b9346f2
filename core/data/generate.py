"""`recsys data generate`: stream the simulator's bundles into PostgreSQL.

Why a thin service: the simulator is pure and chunked; this module owns the transaction,
the dataset row, client ids, the truth Parquet file and progress. One transaction for the
whole run, so a failure leaves nothing half-written; truth goes to Parquet incrementally
(it is clients x months x products, too big for a table nobody queries with SQL).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import Progress

from core.data import store
from core.data.bulk_load import bulk_load
from core.data.bundle import Bundle
from core.data.simulator import month_dates, simulate
from core.data.simulator.calibration import load_calibration
from core.db.session import raw_connection
from core.settings import get_settings

TRUTH_SCHEMA = pa.schema(
    [
        ("client_id", pa.int64()),
        ("month", pa.date32()),
        ("product_code", pa.string()),
        ("p_organic", pa.float32()),
        ("p_offer", pa.float32()),
        ("p_ceiling_organic", pa.float32()),
        ("p_ceiling_offer", pa.float32()),
    ]
)


@dataclass
class GenerateReport:
    dataset_id: int | None = None
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    truth_rows: int = 0
    truth_path: str | None = None
    seconds: float = 0.0
    simulate_seconds: float = 0.0
    write_seconds: float = 0.0
    index_seconds: float = 0.0

    def summary(self) -> str:
        if self.skipped:
            return "generate: clients already exist, nothing done (--if-empty)"
        parts = ", ".join(f"{k}={v:,}" for k, v in sorted(self.counts.items()))
        return (
            f"dataset {self.dataset_id}: {parts}, truth={self.truth_rows:,} rows -> {self.truth_path}; "
            f"{self.seconds:.1f}s (simulate {self.simulate_seconds:.1f}s, write {self.write_seconds:.1f}s, "
            f"indexes {self.index_seconds:.1f}s)"
        )


BULK_TABLES = ("operation", "holding", "product_event", "offer_log")


def _next_timed(chunks: Iterator[Bundle]) -> tuple[Bundle | None, float]:
    t0 = time.perf_counter()
    bundle = next(chunks, None)
    return bundle, time.perf_counter() - t0


def _truth_table(frame) -> pa.Table:  # type: ignore[no-untyped-def]
    frame = frame.assign(month=frame["month"].dt.date, product_code=frame["product_code"].astype(str))
    return pa.Table.from_pandas(frame, schema=TRUTH_SCHEMA, preserve_index=False)


async def generate_to_db(
    n_clients: int,
    n_months: int,
    seed: int,
    if_empty: bool = False,
    url: str | None = None,
    chunk_size: int = 10_000,
    truth_dir: Path | None = None,
    show_progress: bool = True,
) -> GenerateReport:
    """Simulate and COPY `n_clients` x `n_months` into the database; returns counts and timings."""
    report = GenerateReport()
    started = time.perf_counter()
    async with raw_connection(url) as conn:
        if if_empty and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM client)"):
            report.skipped = True
            return report
        cal = load_calibration()
        async with conn.transaction():
            params = {"n_clients": n_clients, "n_months": n_months, "seed": seed, "chunk_size": chunk_size}
            dataset_id = await store.create_dataset(
                conn,
                "synthetic",
                f"simulator seed={seed} n={n_clients} m={n_months}",
                params,
                date.fromisoformat(str(month_dates(1)[0])),
                n_months,
            )
            first_id = await store.next_client_id(conn)
            out_dir = truth_dir or get_settings().truth_dir
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"truth_dataset{dataset_id}_seed{seed}.parquet"
            writer = pq.ParquetWriter(path, TRUTH_SCHEMA, compression="zstd")
            try:
                async with bulk_load(conn, BULK_TABLES):
                    with Progress(disable=not show_progress, transient=True) as progress:
                        task = progress.add_task("generating clients", total=n_clients)
                        chunks = simulate(n_clients, n_months, seed, first_id, cal, chunk_size)
                        # Simulate the next chunk in a thread while this one is written: the
                        # server ingests on one core while numpy fills the other.
                        pending = asyncio.create_task(asyncio.to_thread(_next_timed, chunks))
                        while True:
                            bundle, seconds = await pending
                            report.simulate_seconds += seconds
                            if bundle is None:
                                break
                            pending = asyncio.create_task(asyncio.to_thread(_next_timed, chunks))
                            store.check_references(bundle)
                            t0 = time.perf_counter()
                            for table, n in (await store.write_bundle(conn, bundle, dataset_id)).items():
                                report.counts[table] = report.counts.get(table, 0) + n
                            if bundle.truth is not None:
                                writer.write_table(_truth_table(bundle.truth))
                                report.truth_rows += len(bundle.truth)
                            report.write_seconds += time.perf_counter() - t0
                            progress.advance(task, len(bundle.clients))
                        progress.update(task, description="rebuilding indexes")
                        t0 = time.perf_counter()
                report.index_seconds = time.perf_counter() - t0
            finally:
                writer.close()
            await conn.execute("UPDATE dataset SET truth_path = $1 WHERE id = $2", str(path), dataset_id)
    report.dataset_id, report.truth_path = dataset_id, str(path)
    report.seconds = time.perf_counter() - started
    return report
