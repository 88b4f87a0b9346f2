"""The API's database access: one asyncpg pool per process, with a query counter.

Resolvers read through `Database.fetch*` (counted: tests check that DataLoaders keep a page
of clients at a bounded number of queries); write use cases get a pooled connection from
`Database.connection()` and run their own transaction (core.services.commands).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from core.db.urls import plain_url


def jsonb(value: Any) -> Any:
    """asyncpg returns json/jsonb as text (no codec is set: core code passes JSON text); orjson
    reads a stored recommendation's items in a tenth of json's time."""
    return orjson.loads(value) if isinstance(value, str) else value


async def _reset(conn: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool: no open transaction.

    asyncpg's default reset sends `RESET ALL; UNLISTEN *; pg_advisory_unlock_all() ...` on
    every release: a second round trip for each one-query request. The API keeps no session
    state (no SET, LISTEN, session advisory locks or held cursors; the registration lock is
    transaction-scoped), so ending a transaction left open is all there is to undo.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class Database:
    def __init__(self, url: str, max_size: int = 20) -> None:
        self.url = plain_url(url)
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self.queries = 0

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            # min_size 0: the process starts (and /healthz answers) while the database is down.
            self._pool = await asyncpg.create_pool(
                self.url, min_size=0, max_size=self.max_size, command_timeout=30, reset=_reset
            )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self.pool()
        async with pool.acquire() as conn:
            yield conn

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.queries += 1
        return list(await (await self.pool()).fetch(sql, *args))

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self.queries += 1
        return await (await self.pool()).fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.queries += 1
        return await (await self.pool()).fetchval(sql, *args)
