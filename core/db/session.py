"""Async engine and session factories (SQLAlchemy 2 + asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db.urls import plain_url, resolve_database_url, sqlalchemy_url
from core.settings import Settings, get_settings


def database_url(settings: Settings | None = None) -> str:
    return resolve_database_url(settings or get_settings())


def make_engine(url: str | None = None, **kwargs: object) -> AsyncEngine:
    url = url or database_url()
    return create_async_engine(sqlalchemy_url(url), pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def raw_connection(url: str | None = None) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection, for COPY and bulk SQL where the ORM would be slow."""
    conn = await asyncpg.connect(plain_url(url or database_url()))
    try:
        yield conn
    finally:
        await conn.close()
