"""Per-request DataLoaders: every client, holding list or offer response asked for while one
request resolves is fetched in one query per kind, however many objects the page has."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from api.db import Database
from core.db.holdings_sql import LATEST_HOLDINGS_MONTH

CLIENT_COLUMNS = (
    "id, age, sex, income::float8 AS income, segment, join_channel, province_code, language, "
    "marketing_consent, contact_opt_out, registered_at, snapshot_month"
)

# Holdings now (core.db.holdings_sql: the latest snapshot, none after dropping everything),
# with the month each product was last added (its first held month when the history has no
# add event).
HOLDINGS_SQL = f"""
WITH latest AS ({LATEST_HOLDINGS_MONTH})
SELECT h.client_id, h.product_code,
    coalesce(
        (SELECT max(e.month) FROM product_event e WHERE e.client_id = h.client_id
            AND e.product_code = h.product_code AND e.kind = 'add' AND e.month <= h.month),
        (SELECT min(h2.month) FROM holding h2 WHERE h2.client_id = h.client_id
            AND h2.product_code = h.product_code)
    ) AS since
FROM holding h JOIN latest l ON l.client_id = h.client_id AND l.month = h.month
ORDER BY h.client_id, h.product_code
"""


@dataclass
class Loaders:
    db: Database
    clients: DataLoader[int, dict[str, Any] | None] = field(init=False)
    holdings: DataLoader[int, list[dict[str, Any]]] = field(init=False)
    responses: DataLoader[tuple[int, int], dict[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.clients = DataLoader(load_fn=self._clients)
        self.holdings = DataLoader(load_fn=self._holdings)
        self.responses = DataLoader(load_fn=self._responses)

    async def _clients(self, ids: Sequence[int]) -> list[dict[str, Any] | None]:
        rows = await self.db.fetch(
            f"SELECT {CLIENT_COLUMNS} FROM client WHERE id = ANY($1::bigint[])", list(ids)
        )
        by_id = {r["id"]: dict(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def _holdings(self, ids: Sequence[int]) -> list[list[dict[str, Any]]]:
        rows = await self.db.fetch(HOLDINGS_SQL, list(ids))
        by_id: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_id[r["client_id"]].append(dict(r))
        return [by_id.get(i, []) for i in ids]

    async def _responses(self, keys: Sequence[tuple[int, int]]) -> list[dict[str, str]]:
        """Keys (client id, recommendation id): the client id lets the offer log's
        (client_id, shown_at) index find the rows."""
        rows = await self.db.fetch(
            "SELECT DISTINCT ON (recommendation_id, product_code) recommendation_id, product_code, response "
            "FROM offer_log WHERE client_id = ANY($1::bigint[]) AND recommendation_id = ANY($2::bigint[]) "
            "AND response IS NOT NULL ORDER BY recommendation_id, product_code, id DESC",
            sorted({c for c, _ in keys}),
            sorted({r for _, r in keys}),
        )
        by_id: dict[int, dict[str, str]] = defaultdict(dict)
        for r in rows:
            by_id[r["recommendation_id"]][r["product_code"]] = r["response"]
        return [by_id.get(r, {}) for _, r in keys]
