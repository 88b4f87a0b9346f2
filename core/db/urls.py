"""Turning whatever the operator gave (or the embedded server) into driver-specific URLs.

One canonical form is kept: `postgresql://user:pass@host:port/db?host=/socket/dir`. The
SQLAlchemy engine wants `postgresql+asyncpg://`, raw asyncpg wants plain `postgresql://`.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from core.settings import Settings

T = TypeVar("T")

_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg2", "postgresql+psycopg")


def _split(url: str):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return parts


def plain_url(url: str) -> str:
    """`postgresql://...` for asyncpg.connect / psql."""
    parts = _split(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def sqlalchemy_url(url: str) -> str:
    """`postgresql+asyncpg://...` for SQLAlchemy's async engine."""
    parts = _split(url)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


def with_database(url: str, database: str) -> str:
    """Same server, another database name."""
    parts = _split(url)
    return urlunsplit(parts._replace(path="/" + database))


def database_name(url: str) -> str:
    return _split(url).path.lstrip("/") or "postgres"


_resolved: dict[str, str] = {}


def resolve_database_url(settings: Settings) -> str:
    """The database URL to use: DATABASE_URL, or the embedded server's `recsys` database.

    With the embedded server the database is created on first use.
    """
    if settings.database_url:
        return plain_url(settings.database_url)
    key = str(settings.home)
    if key not in _resolved:
        from core.db.embedded import start_embedded

        admin = start_embedded(settings.home)
        ensure_database(admin, settings.database_name)
        _resolved[key] = with_database(plain_url(admin), settings.database_name)
    return _resolved[key]


def ensure_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE `name` if it does not exist (through a short-lived asyncpg connection)."""
    import asyncpg

    async def _create() -> None:
        conn = await asyncpg.connect(plain_url(admin_url))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_sync(_create())


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when a loop is already running
    in this thread (e.g. inside an async test): then it runs in a worker thread."""
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
