"""Bulk-load modes for one transaction: constraints and per-row work set aside, then restored.

Why its own module: writing rows (core.data.store) and deciding how much of PostgreSQL's
per-row checking a large load may postpone are separate concerns; both modes here restore
the schema exactly (same constraint names and definitions) before the transaction ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.db import operation_bins


async def _empty_tables(conn, tables: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    return [t for t in tables if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]


async def _drop_constraints(conn, table: str, kinds: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    """Drop `table`'s constraints of these kinds (pg_constraint.contype: p, u, f); returns the
    statements that add them back with the same names and definitions."""
    rows = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype::text = ANY($2::text[]) ORDER BY conname",
        table,
        list(kinds),
    )
    restore = []
    for r in rows:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{r["conname"]}"')
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{r["conname"]}" {r["def"]}')
    return restore


@asynccontextmanager
async def foreign_keys_checked_at_end(conn, tables: tuple[str, ...]) -> AsyncIterator[list[str]]:  # type: ignore[no-untyped-def]
    """Inside the caller's transaction: the foreign keys of those `tables` that are empty are
    dropped, and added back (validated, same names and definitions) when the block ends.

    Why: each row COPYed into `holding` fires two foreign-key triggers (client, product), each
    an index probe that also locks the referenced row; for a first load of a bank's history
    (tens of millions of rows) they cost more than the COPY itself (1.2M rows with one
    foreign key: 42-45 s, without: 29 s). Adding a key back checks every row in one join.
    Unlike bulk_load this keeps primary keys and unique constraints (a repeated line must
    still be caught), needs no superuser, and checks the references instead of trusting
    them: a violation fails the whole load. Only empty tables: re-checking a table that
    already holds data would cost a scan of all of it, and the lock (the table is not
    readable until commit) is fine for a first load only. Yields the tables it applied to."""
    empty = await _empty_tables(conn, tables)
    restore: list[str] = []
    for table in empty:
        restore += await _drop_constraints(conn, table, ("f",))
    yield empty
    for statement in restore:
        await conn.execute(statement)


@asynccontextmanager
async def bulk_load(conn, tables: tuple[str, ...] = ("operation",)) -> AsyncIterator[bool]:  # type: ignore[no-untyped-def]
    """Faster bulk writes inside the caller's transaction, for trusted generated data.

    Why: per-row foreign-key triggers and index maintenance cost far more than the COPY
    itself (about 5x on the operations table). For data whose references are consistent by
    construction (the simulator writes clients and their rows together; callers check
    ids in Python), PostgreSQL's documented bulk-load recipe applies:
    - `session_replication_role = replica` skips FK triggers (superusers only; otherwise
      the triggers simply stay on);
    - when a table is empty, its indexes, primary key and unique constraints are dropped
      and rebuilt at the end with their exact definitions (one sort beats millions of
      inserts). The schema after
      the block is identical to before (`alembic check` stays clean);
    - when `operation` is empty, its bins (`operation_month`, kept by a trigger per
      statement) are computed once at the end instead (core.db.operation_bins).
    Everything is in the caller's transaction: a failure rolls the whole load back.
    Yields whether FK triggers were skipped.
    """
    superuser = bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if superuser:
        await conn.execute("SET LOCAL session_replication_role = replica")
    rebuild: list[str] = []
    empty = await _empty_tables(conn, tables)
    bin_at_end = "operation" in empty
    if bin_at_end:
        await operation_bins.defer_binning(conn)
        empty.append("operation_month")  # empty too (the bins follow the operations)
    for table in empty:
        rebuild += await _drop_constraints(conn, table, ("p", "u"))
        rows = await conn.fetch(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def "
            "FROM pg_index i WHERE i.indrelid = $1::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            table,
        )
        for r in rows:
            await conn.execute(f"DROP INDEX {r['name']}")
            rebuild.append(r["def"])
    try:
        yield superuser
    finally:
        if bin_at_end:
            await operation_bins.bin_all(conn)
        if rebuild:
            # Sorting tens of millions of keys in 64 MB (the default) spills to disk in many
            # passes; a larger budget for this transaction's index builds avoids that.
            await conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for statement in rebuild:
            await conn.execute(statement)
        if superuser:
            await conn.execute("SET LOCAL session_replication_role = origin")
