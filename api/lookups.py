"""Reads and the decide step that queries and mutations share.

Both resolve clients through the request's DataLoader and both may have to decide offers
now (a client without a stored recommendation, a new client): one place for each.
"""

from __future__ import annotations

import contextlib
from typing import Any

from api import scoring
from api.context import Info
from api.errors import NotFound
from api.types.clients import Client
from api.types.offers import REC_COLUMNS, Recommendation, computed_recommendation


async def load_client(info: Info, client_id: int) -> Client:
    """The client through the request's DataLoader, or NOT_FOUND."""
    row = await info.context.loaders.clients.load(client_id)
    if row is None:
        raise NotFound(f"client {client_id} not found")
    return Client.of(row)


async def reload_client(info: Info, client_id: int) -> Client:
    """The client read again after a write in this request (the loaders may hold the old rows)."""
    for loader in (info.context.loaders.clients, info.context.loaders.holdings):
        with contextlib.suppress(KeyError):  # not loaded yet in this request
            loader.clear(client_id)
    return await load_client(info, client_id)


# The client's newest stored recommendation (REC_COLUMNS); bench/bench_api.py's floor route
# serves the same row, so the two measure the same database work.
LATEST_RECOMMENDATION_SQL = (
    f"SELECT {REC_COLUMNS} FROM recommendation WHERE client_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
)


async def latest_recommendation(info: Info, client_id: int) -> Any:
    """The client's newest stored recommendation row, or None."""
    return await info.context.state.db.fetchrow(LATEST_RECOMMENDATION_SQL, client_id)


async def decide_now(info: Info, client_id: int) -> Recommendation:
    """Decide, explain and store offers for the client now (in the scoring thread)."""
    state = info.context.state
    models = await state.models.get()
    if models is None:
        raise NotFound("no trained model set: run `recsys train` first")
    result = await scoring.in_thread(
        scoring.decide_and_store, state.db.url, models, client_id, state.explainer
    )
    return computed_recommendation(client_id, result)
