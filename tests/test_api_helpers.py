"""Shared set-up of the API tests: a small trained population and an app over it."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette

from api.app import create_app
from api.config import ApiConfig
from core.settings import Settings

SECRET = "test-secret-" + "x" * 40
PARTNER_KEY = "partner-key-123"
ORIGIN = "http://localhost:3000"
FAST_UPLIFT = {
    "min_rows": 80,
    "min_conversions": 2,
    "learner": "t",
    "n_estimators": 20,
    "max_depth": 3,
    "threads": 1,
}


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "jwt_secret": SECRET,
        "jwt_ttl_minutes": 30,
        "demo_login": True,
        "partner_api_keys": PARTNER_KEY,
        "cors_origins": ORIGIN,
    }
    return Settings(**{**base, **overrides})


def config(**overrides: Any) -> ApiConfig:
    base: dict[str, Any] = {"kafka": False, "rate_per_s": 10_000, "rate_burst": 10_000}
    return ApiConfig(**{**base, **overrides})


def make_app(db_url: str, settings_kw: dict[str, Any] | None = None, **config_kw: Any) -> Starlette:
    return create_app(settings(**(settings_kw or {})), config(**config_kw), db_url=db_url)


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


async def gql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    api_key: str | None = None,
    status: int = 200,
) -> dict[str, Any]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if api_key:
        headers["X-API-Key"] = api_key
    headers["Content-Type"] = "application/json"
    # "__1e400__" stands for a number literal JSON allows but Python cannot encode (infinity).
    body = json.dumps({"query": query, "variables": variables or {}}).replace('"__1e400__"', "1e400")
    resp = await http.post("/graphql", content=body.encode(), headers=headers)
    assert resp.status_code == status, resp.text
    return dict(resp.json())


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("errors"), json.dumps(result.get("errors"), indent=1)
    return dict(result["data"])


def code(result: dict[str, Any]) -> str:
    errors = result.get("errors") or []
    assert errors, f"expected an error, got {result}"
    return str(errors[0]["extensions"]["code"])


async def counts(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}
    finally:
        await conn.close()
