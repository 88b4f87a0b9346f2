"""Adapters that load exactly the rows a cutoff needs: PostgreSQL (asyncpg) and Parquet.

Both produce `FeatureFrames` in the canonical dtypes and leave the computing to the pure
`build_features`, so the database path (online scoring of one client), the Parquet path
(large batch runs) and hand-made frames give identical features. Row filters come from
`definitions.horizon(cutoff)`: holdings of the last 13 months, all events up to the cutoff,
operations of the recency lookback, offers shown before the cutoff month, and nothing from
the month after the cutoff.

Bulk reads use `COPY (query) TO STDOUT (FORMAT csv)` parsed by pyarrow: no per-row Python
objects (Decimal, datetime), which matters for tens of millions of operations.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.db.literals import inline
from core.features import arrow_frames
from core.features.clustering import ClusterModel
from core.features.definitions import CATEGORICAL_FIELDS, FLAG_FIELDS, horizon, month_index, month_start
from core.features.frames import (
    EVENT_FIELDS,
    HOLDING_FIELDS,
    FeatureFrames,
    coerce_clients,
    coerce_monthly,
    coerce_offers,
    coerce_operation_months,
)
from core.features.pipeline import Cutoff, build_features

_CLIENT_SQL = (
    "SELECT id, snapshot_month, first_contract_date, age, income::float8 AS income, "
    "seniority_months, is_new, primary_status, "
    + ", ".join(CATEGORICAL_FIELDS)
    + ", "
    + ", ".join(FLAG_FIELDS)
    + " FROM client"
)
_TABLES: dict[str, tuple[str, str, dict[str, pa.DataType]]] = {
    # name: (select, time column for the horizon filter, arrow types)
    # The text fields are read as text: inferred, a column of digits ("1") became int64 and,
    # with a NULL beside it in the batch, float64 ("1.0" once a feature), so a client's
    # features depended on who else was in the batch.
    "clients": (
        _CLIENT_SQL,
        "",
        {
            "id": pa.int64(),
            "province_code": pa.int64(),
            **{name: pa.string() for name in CATEGORICAL_FIELDS if name != "province_code"},
        },
    ),
    "holdings": (
        "SELECT client_id, month, product_code FROM holding",
        "month",
        {"client_id": pa.int64(), "month": pa.date32(), "product_code": pa.string()},
    ),
    "events": (
        "SELECT client_id, month, product_code, kind FROM product_event",
        "month",
        {"client_id": pa.int64(), "month": pa.date32(), "product_code": pa.string()},
    ),
    "offers": (
        "SELECT client_id, product_code, (extract(epoch FROM shown_at) * 1000000)::int8 AS shown_us, arm, "
        "coalesce(converted, false) AS converted, "
        "(extract(epoch FROM outcome_at) * 1000000)::int8 AS outcome_us, window_days FROM offer_log",
        "shown_at",
        {
            "client_id": pa.int64(),
            "product_code": pa.string(),
            "shown_us": pa.int64(),
            "arm": pa.string(),
            "converted": pa.bool_(),
            "outcome_us": pa.int64(),
            "window_days": pa.int64(),
        },
    ),
    "operations": (
        "SELECT client_id, (extract(epoch FROM occurred_at) * 1000000)::int8 AS occurred_us, "
        "amount::float8 AS amount, category::text AS category FROM operation",
        "occurred_at",
        {"client_id": pa.int64(), "occurred_us": pa.int64(), "amount": pa.float64()},
    ),
}
_CSV_CONVERT = {"true_values": ["t"], "false_values": ["f"], "strings_can_be_null": True}
# load_frames_db reads operations binned per (client, UTC month, category): the features
# need only these sums (see FeatureFrames.operation_months). The bins are kept at write time
# in `operation_month` (alembic 0004's triggers), so a training run reads a quarter as many
# rows and groups nothing (100k clients, 38.9M operations: 245 s to group them at every
# run). The read is the table's own columns: per-bin casts in SQL (numeric to float8, the
# enum to text, the epoch of a timestamp) tripled the COPY's time (100k clients: 85 s
# against 33 s), so the sums arrive as numeric text that Arrow parses to float64 (correctly
# rounded, as the cast did) and abs/spend/inflow are derived here. {source} is the bins
# table, or, in live mode, the bins with the months after the cutoff folded into its month
# (latest time clamped to its last instant), grouped again: the same bins as grouping the
# clamped raw operations. Only those months are grouped: the bins before the cutoff month are
# one row per key already, and grouping them too (a sort of every bin of the batch, spilled
# to disk at 500 clients) made this one query cost 0.3 s of a 500-event worker batch. The
# month tests are appended with AND: a cutoff's {where} always holds its lower bound.
_OPERATION_MONTHS_SQL = (
    "SELECT client_id, (date_part('year', month) * 12 + date_part('month', month) - 1)::int4 AS month, "
    "category, n, neg, pos, last_us FROM {source}"
)
_LIVE_BINS_SQL = (
    "(SELECT client_id, month, category, n::int8 AS n, neg, pos, last_us "
    "FROM operation_month{where} AND month < ${k}::date "
    "UNION ALL SELECT client_id, ${k}::date AS month, category, sum(n) AS n, sum(neg) AS neg, "
    "sum(pos) AS pos, max(least(last_us, ${k2})) AS last_us "
    "FROM operation_month{where} AND month >= ${k}::date GROUP BY client_id, category) g"
)
_OPERATION_MONTHS_TYPES: dict[str, pa.DataType] = {
    "client_id": pa.int64(),
    "month": pa.int32(),
    "category": pa.dictionary(pa.int32(), pa.string()),
    "n": pa.int32(),
    "neg": pa.float64(),
    "pos": pa.float64(),
    "last_us": pa.int64(),
}


def _bin_sums(table: pa.Table) -> pa.Table:
    """The bins' neg/pos sums as the features' abs (debits + credits), spend and inflow."""
    neg, pos = table["neg"], table["pos"]
    table = table.drop_columns(["neg", "pos"])
    for name, column in (("abs", pc.subtract(pos, neg)), ("spend", pc.negate(neg)), ("inflow", pos)):
        table = table.append_column(name, column)
    return table


def _where(name: str, cutoff: Cutoff | None, with_ids: bool, live: bool = False) -> tuple[str, list[Any]]:
    """WHERE clause and args of one table for the cutoff's horizon and a client filter.

    `live`: operations after the cutoff month are loaded too (the serving month is "now").
    """
    clauses: list[str] = []
    args: list[Any] = []
    if cutoff is not None and name != "clients":
        h = horizon(cutoff)
        col = "month" if name == "operation_months" else _TABLES[name][1]
        if not (live and name == "operation_months"):
            upper = h["offers_before"] if name == "offers" else h["end"]
            args.append(upper.date() if col == "month" else upper.tz_localize("UTC"))
            clauses.append(f"{col} < ${len(args)}")
        lower = {"holdings": "holdings_from", "operation_months": "operations_from"}.get(name)
        if lower:
            start = h[lower]
            args.append(start.date() if col == "month" else start.tz_localize("UTC"))
            clauses.append(f"{col} >= ${len(args)}")
    if with_ids:
        clauses.append(f"{'id' if name == 'clients' else 'client_id'} = ANY(${len(args) + 1})")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


_US_COLUMNS = {"occurred_us": "occurred_at", "shown_us": "shown_at", "outcome_us": "outcome_at"}


def _timestamps(table: pa.Table) -> pa.Table:
    """µs integer columns (COPY output) as UTC timestamps, nulls kept (NaT)."""
    for us, name in _US_COLUMNS.items():
        if us in table.column_names:
            ts = pc.cast(table[us], pa.timestamp("us", tz="UTC"))
            table = table.drop_columns([us]).append_column(name, ts)
    return table


def _to_frame(table: pa.Table) -> pd.DataFrame:
    return _timestamps(table).to_pandas(date_as_object=False)


async def _copy_table(
    conn: asyncpg.Connection, sql: str, args: list[Any], types: dict[str, pa.DataType], bulk: bool
) -> pa.Table:
    """COPY a query's rows as CSV and parse them with pyarrow. `bulk` (a whole table):
    through a temporary file, so the CSV text never sits in memory next to its parse."""
    convert = pacsv.ConvertOptions(column_types=types, **_CSV_CONVERT)
    sql = inline(sql, args)  # no server round trips to inline them (core.db.literals)
    if not bulk:
        # A coroutine as the output, not a BytesIO: asyncpg writes to a file-like object
        # through a thread-pool call per chunk of the stream (~1,000 calls for a 500-client
        # batch's tables, with their event-loop wake-ups), which a list append does not need.
        chunks: list[bytes] = []

        async def collect(data: bytes) -> None:
            chunks.append(bytes(data))

        await conn.copy_from_query(sql, output=collect, format="csv", header=True)
        return pacsv.read_csv(pa.BufferReader(b"".join(chunks)), convert_options=convert)
    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        await conn.copy_from_query(sql, output=tmp.name, format="csv", header=True)
        return pacsv.read_csv(tmp.name, convert_options=convert)


async def load_frames_db(
    db: str | asyncpg.Connection,
    cutoff: Cutoff | None = None,
    client_ids: Iterable[int] | None = None,
    *,
    live: bool = False,
) -> FeatureFrames:
    """Frames from PostgreSQL: the cutoff's horizon only (all history when cutoff is None).

    Operations come binned by month (`operation_months`; `operations` stays empty).
    `live=True` is the serving path: the cutoff is the serving month and operations written
    after it (live, from the app) are folded into its last instant, so a new operation counts
    at once as "this month's" activity instead of vanishing behind the cutoff. Training never
    uses it (the leakage guard holds for every past cutoff).
    """
    conn = await asyncpg.connect(db) if isinstance(db, str) else db
    ids = None if client_ids is None else [int(i) for i in client_ids]
    try:
        if ids is not None:  # a few clients (serving), or chunks of a batch run
            return await _load_canonical(conn, cutoff, ids, live)
        parts: dict[str, pd.DataFrame] = {}
        for name in _TABLES:
            table = await _read_table(conn, name, cutoff, None, live)
            if name == "operations":
                # Column by column, freeing Arrow's buffers as it goes: no second copy of the bins.
                parts["operation_months"] = table.to_pandas(split_blocks=True, self_destruct=True)
            else:
                parts[name] = _to_frame(table)
            del table
    finally:
        if isinstance(db, str):
            await conn.close()
    return FeatureFrames(**parts).coerce()


async def _read_table(
    conn: asyncpg.Connection, name: str, cutoff: Cutoff | None, ids: list[int] | None, live: bool
) -> pa.Table:
    """One table's rows for the cutoff's horizon (operations: their monthly bins, with
    abs/spend/inflow); every client's (ids None) through a temporary file."""
    bulk = ids is None
    # operations are read as their monthly bins (the operation_month table)
    select, _, types = _TABLES[name]
    where, args = _where("operation_months" if name == "operations" else name, cutoff, ids is not None, live)
    if ids is not None:
        args.append(ids)
    if name != "operations":
        return await _copy_table(conn, select + where, args, types, bulk)
    source = f"operation_month{where}"
    if live and cutoff is not None:
        end = horizon(cutoff)["end"]
        args += [month_start(month_index(cutoff)).date(), end.value // 1000 - 1]  # µs
        source = _LIVE_BINS_SQL.format(k=len(args) - 1, k2=len(args), where=where)
    sql = _OPERATION_MONTHS_SQL.format(source=source)
    return _bin_sums(await _copy_table(conn, sql, args, _OPERATION_MONTHS_TYPES, bulk))


async def _load_canonical(
    conn: asyncpg.Connection, cutoff: Cutoff | None, ids: list[int], live: bool
) -> FeatureFrames:
    """These clients' frames, canonical straight from Arrow (core.features.arrow_frames);
    a table that path declines is coerced the generic way."""
    tables = {name: await _read_table(conn, name, cutoff, ids, live) for name in _TABLES}
    ways: dict[str, tuple[Callable[[], pd.DataFrame | None], Callable[[], pd.DataFrame]]] = {
        "clients": (
            lambda: arrow_frames.clients(tables["clients"]),
            lambda: coerce_clients(_to_frame(tables["clients"])),
        ),
        "holdings": (
            lambda: arrow_frames.monthly(tables["holdings"], with_kind=False),
            lambda: coerce_monthly(_to_frame(tables["holdings"]), HOLDING_FIELDS),
        ),
        "events": (
            lambda: arrow_frames.monthly(tables["events"], with_kind=True),
            lambda: coerce_monthly(_to_frame(tables["events"]), EVENT_FIELDS),
        ),
        "operation_months": (
            lambda: arrow_frames.operation_months(tables["operations"]),
            lambda: coerce_operation_months(tables["operations"].to_pandas()),
        ),
        "offers": (
            lambda: arrow_frames.offers(tables["offers"]),
            lambda: coerce_offers(_to_frame(tables["offers"])),
        ),
    }
    parts: dict[str, pd.DataFrame] = {}
    for name, (fast, generic) in ways.items():
        frame = fast()
        parts[name] = generic() if frame is None else frame
    return FeatureFrames(**parts, operations=arrow_frames.no_operations())


async def build_features_db(
    db: str | asyncpg.Connection,
    cutoff: Cutoff,
    client_ids: Iterable[int] | None = None,
    *,
    products: Sequence[str] | None = None,
    clusters: ClusterModel | None = None,
    live: bool = False,
) -> pd.DataFrame:
    """Online scoring path: load one (or a few) clients' horizon and run the pure pipeline."""
    ids = None if client_ids is None else list(client_ids)
    frames = await load_frames_db(db, cutoff, ids, live=live)
    return build_features(frames, cutoff, ids, products=products, clusters=clusters, coerce=False)


async def export_parquet(db: str | asyncpg.Connection, folder: str | Path) -> dict[str, int]:
    """Dump the four tables to `<folder>/<name>.parquet` (streamed; returns row counts)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conn = await asyncpg.connect(db) if isinstance(db, str) else db
    counts: dict[str, int] = {}
    try:
        for name, (select, _, types) in _TABLES.items():
            fd, tmp = tempfile.mkstemp(suffix=".csv", dir=folder)
            os.close(fd)
            try:
                await conn.copy_from_query(select, output=tmp, format="csv", header=True)
                counts[name] = _csv_to_parquet(Path(tmp), folder / f"{name}.parquet", types)
            finally:
                os.unlink(tmp)
    finally:
        if isinstance(db, str):
            await conn.close()
    return counts


def _csv_to_parquet(src: Path, dst: Path, types: dict[str, pa.DataType]) -> int:
    convert = pacsv.ConvertOptions(column_types=types, **_CSV_CONVERT)
    read = pacsv.ReadOptions(block_size=64 << 20)
    reader = pacsv.open_csv(src, read_options=read, convert_options=convert)
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for batch in reader:
            table = pa.Table.from_batches([batch])
            table = _timestamps(table)
            if writer is None:
                writer = pq.ParquetWriter(dst, table.schema)
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # header only: write an empty table with the right columns
        pq.write_table(pacsv.read_csv(src, convert_options=convert), dst)
    return rows


def load_frames_parquet(
    folder: str | Path,
    cutoff: Cutoff | None = None,
    client_ids: Iterable[int] | None = None,
) -> FeatureFrames:
    """Frames from an `export_parquet` folder, filtered like load_frames_db (pushed down)."""
    folder = Path(folder)
    ids = None if client_ids is None else np.asarray(list(client_ids), dtype=np.int64)
    parts: dict[str, pd.DataFrame] = {}
    for name in _TABLES:
        if not (folder / f"{name}.parquet").exists() and name == "offers":
            continue  # an export from before offers were features: no offer history
        expr = None
        if ids is not None:
            expr = pc.field("id" if name == "clients" else "client_id").isin(pa.array(ids))
        if cutoff is not None and name != "clients":
            expr = _and(expr, _horizon_expr(name, cutoff))
        read_dict = ["category"] if name == "operations" else None
        table = pq.read_table(folder / f"{name}.parquet", filters=expr, read_dictionary=read_dict)
        parts[name] = _to_frame(table)
    return FeatureFrames(**parts).coerce()


def _and(a: pc.Expression | None, b: pc.Expression) -> pc.Expression:
    return b if a is None else a & b


def _horizon_expr(name: str, cutoff: Cutoff) -> pc.Expression:
    h = horizon(cutoff)
    if name == "offers":
        ts = pa.timestamp("us", tz="UTC")
        return pc.field("shown_at") < pa.scalar(h["offers_before"].tz_localize("UTC"), type=ts)
    if name == "operations":
        ts = pa.timestamp("us", tz="UTC")
        col = pc.field("occurred_at")
        lo = pa.scalar(h["operations_from"].tz_localize("UTC"), type=ts)
        return (col >= lo) & (col < pa.scalar(h["end"].tz_localize("UTC"), type=ts))
    col = pc.field("month")
    expr = col < pa.scalar(h["end"].date(), type=pa.date32())
    if name == "holdings":
        expr = expr & (col >= pa.scalar(h["holdings_from"].date(), type=pa.date32()))
    return expr
