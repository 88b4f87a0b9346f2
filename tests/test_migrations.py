"""The migration chain is reversible and matches the models exactly."""

from __future__ import annotations

import asyncpg
import pytest
from alembic.util.exc import CommandError

from core.db import migrate
from tests.conftest import new_database

TABLES = {
    "client",
    "product",
    "holding",
    "product_event",
    "operation",
    "operation_month",
    "offer_log",
    "recommendation",
    "notification",
    "outbox",
    "processed_event",
    "model_run",
    "dataset",
}


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_upgrade_downgrade_upgrade_and_no_drift(pg_admin_url: str) -> None:
    import asyncio

    url = new_database(pg_admin_url, "migrations")
    migrate.upgrade(url)
    assert asyncio.run(_tables(url)) == TABLES
    migrate.downgrade(url, "base")
    assert asyncio.run(_tables(url)) == set()
    migrate.upgrade(url)
    assert asyncio.run(_tables(url)) == TABLES
    migrate.check(url)  # raises on drift


def test_check_detects_drift(pg_admin_url: str) -> None:
    """`alembic check` is a real guard: a schema that lags the models is reported."""
    url = new_database(pg_admin_url, "drift")
    migrate.upgrade(url)
    import asyncio

    async def _drop() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute("DROP INDEX ix_operation_client_time")
        await conn.close()

    asyncio.run(_drop())
    with pytest.raises(CommandError):
        migrate.check(url)


async def test_money_is_numeric_and_time_is_tz(conn) -> None:  # type: ignore[no-untyped-def]
    rows = await conn.fetch(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
           WHERE table_schema='public' AND column_name IN ('amount','income','monthly_payment',
           'occurred_at','shown_at','created_at')"""
    )
    for r in rows:
        if r["column_name"] in ("amount", "income", "monthly_payment"):
            assert r["data_type"] == "numeric", r
        else:
            assert r["data_type"] == "timestamp with time zone", r


_RAW_BINS = (
    "SELECT client_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS month, category, "
    "count(*)::int AS n, coalesce(sum(amount) FILTER (WHERE amount < 0), 0) AS neg, "
    "coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS pos, "
    "(extract(epoch FROM max(occurred_at)) * 1000000)::int8 AS last_us "
    "FROM operation GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)


def test_operation_month_follows_every_write(pg_admin_url: str) -> None:
    """The bins `operation_month` equal grouping the raw operations after every kind of
    write: row inserts, a COPY with FK triggers off (as bulk loads run), an update, a
    delete and a truncate; and migrating a database that already holds operations bins them."""
    import asyncio
    from datetime import UTC, datetime
    from decimal import Decimal

    url = new_database(pg_admin_url, "bins")
    migrate.upgrade(url, "0003")

    ins = "INSERT INTO operation (client_id, occurred_at, amount, category) VALUES ($1, $2, $3, $4)"

    async def _before() -> None:  # an operation written before the migration
        conn = await asyncpg.connect(url)
        try:
            # no client rows: inserts run with FK triggers off (as bulk loads do); the bins'
            # triggers are ENABLE ALWAYS, so they fire all the same
            await conn.execute("SET session_replication_role = replica")
            late = datetime(2015, 3, 31, 23, 30, tzinfo=UTC)  # March in UTC, whatever the server's zone
            await conn.execute(ins, 1, late, Decimal("-10.50"), "groceries")
        finally:
            await conn.close()

    async def _run() -> None:
        conn = await asyncpg.connect(url)

        async def same() -> None:
            bins = await conn.fetch("SELECT * FROM operation_month ORDER BY 1, 2, 3")
            assert [tuple(r) for r in bins] == [tuple(r) for r in await conn.fetch(_RAW_BINS)]

        try:
            await same()
            await conn.execute("SET session_replication_role = replica")
            await conn.executemany(
                ins,
                [
                    (1, datetime(2015, 3, 2, tzinfo=UTC), Decimal("-2.25"), "groceries"),
                    (1, datetime(2015, 4, 1, 0, 0, 1, tzinfo=UTC), Decimal("1500"), "salary"),
                    (2, datetime(2015, 3, 5, 12, tzinfo=UTC), Decimal("7.10"), "groceries"),
                ],
            )
            await same()
            await conn.copy_records_to_table(
                "operation",
                records=[(2, datetime(2015, 3, 9, tzinfo=UTC), Decimal("-3"), "groceries")] * 3,
                columns=["client_id", "occurred_at", "amount", "category"],
            )
            await same()
            await conn.execute("SET session_replication_role = origin")
            assert await conn.fetchval(
                "SELECT n FROM operation_month WHERE client_id = 2 AND category = 'groceries'"
            ) == 4
            await conn.execute("UPDATE operation SET amount = -amount WHERE client_id = 2")
            await same()
            await conn.execute("DELETE FROM operation WHERE category = 'salary'")
            await same()
            await conn.execute("TRUNCATE operation")
            assert await conn.fetchval("SELECT count(*) FROM operation_month") == 0
        finally:
            await conn.close()

    asyncio.run(_before())
    migrate.upgrade(url)  # bins the operation already there
    asyncio.run(_run())


def test_bulk_generation_bins_once_and_keeps_the_trigger(pg_admin_url: str) -> None:
    """`data generate` into an empty table bins all operations once at the end (trigger off
    meanwhile); into a table that already holds operations the trigger bins them. Either way
    the bins equal grouping the raw operations, and the trigger is back on (ALWAYS) after."""
    import asyncio

    from core.data.generate import generate_to_db

    url = new_database(pg_admin_url, "bulkbins")
    migrate.upgrade(url)

    async def _check(conn: asyncpg.Connection) -> None:
        bins = await conn.fetch("SELECT * FROM operation_month ORDER BY 1, 2, 3")
        assert bins and [tuple(r) for r in bins] == [tuple(r) for r in await conn.fetch(_RAW_BINS)]
        enabled = await conn.fetchval(
            "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'operation_month_add' AND NOT tgisinternal"
        )
        assert enabled == "A"  # ENABLE ALWAYS, as migration 0004 left it

    async def _run(tmp: str) -> None:
        from pathlib import Path

        conn = await asyncpg.connect(url)
        try:
            await generate_to_db(60, 4, seed=5, url=url, truth_dir=Path(tmp), show_progress=False)
            await _check(conn)
            n = await conn.fetchval("SELECT count(*) FROM operation")
            await generate_to_db(40, 4, seed=6, url=url, truth_dir=Path(tmp), show_progress=False)
            assert await conn.fetchval("SELECT count(*) FROM operation") > n  # the trigger's path
            await _check(conn)
        finally:
            await conn.close()

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(tmp))
