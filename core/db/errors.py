"""Exceptions that mean "the database is unreachable right now", not "this request is wrong".

One list for every caller that must tell an outage from a bug: the API answers UNAVAILABLE
for these, the worker retries its batch instead of dead-lettering the message.
"""

from __future__ import annotations

import asyncio

import asyncpg

DB_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
