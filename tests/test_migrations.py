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
