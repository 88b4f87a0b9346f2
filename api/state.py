"""Process-wide state of the API: database pool, auth, rate limits, the notification hub and
caches of the serving model set and the median profiles."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.auth import Auth
from api.config import ApiConfig
from api.db import Database
from api.hub import NotificationHub
from api.ratelimit import TokenBuckets
from core.settings import Settings

if TYPE_CHECKING:  # the model stack (pandas, CatBoost, scikit-learn) loads on first use
    from api.response_cache import ResponseCache
    from core.explain.service import Explainer
    from core.services.registry import ModelSet

log = logging.getLogger("api")


class ModelCache:
    """The newest registered model set, loaded once and re-checked every `refresh_s`."""

    def __init__(self, db: Database, refresh_s: float) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self._models: ModelSet | None = None
        self._run_id: int | None = None
        self._checked = -1e18
        self._lock = asyncio.Lock()

    async def get(self) -> ModelSet | None:
        if time.monotonic() - self._checked < self.refresh_s:
            return self._models
        async with self._lock:
            if time.monotonic() - self._checked < self.refresh_s:
                return self._models
            from core.heap import freeze_loaded
            from core.services.registry import KIND, load_model_set

            async with self.db.connection() as conn:
                row = await conn.fetchrow(
                    "SELECT id, artifact_path FROM model_run WHERE kind = $1 "
                    "ORDER BY created_at DESC, id DESC LIMIT 1",
                    KIND,
                )
            if row is not None and row["id"] != self._run_id and row["artifact_path"]:
                path = Path(row["artifact_path"])
                if path.exists():
                    self._models = await asyncio.to_thread(load_model_set, path)
                    freeze_loaded()  # the model set out of full GC passes (core.heap)
                    self._run_id = row["id"]
                    log.info("serving model set %s", self._models.version)
            self._checked = time.monotonic()
            return self._models

    def invalidate(self) -> None:
        self._checked = -1e18


@dataclass
class TimedCache:
    ttl_s: float
    value: Any = None
    at: float = -1e18
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def fresh(self) -> bool:
        return self.value is not None and time.monotonic() - self.at < self.ttl_s

    def put(self, value: Any) -> None:
        self.value, self.at = value, time.monotonic()


@dataclass
class AppState:
    settings: Settings
    config: ApiConfig
    db: Database
    auth: Auth
    hub: NotificationHub
    buckets: TokenBuckets
    models: ModelCache
    profiles: TimedCache
    explainer: Explainer
    responses: ResponseCache | None = None  # api.response_cache; None: off
