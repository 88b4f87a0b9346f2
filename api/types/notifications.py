"""The notification type, shared by the notifications query, a mutation and the subscription."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.types.products import Product, catalog_product_or_none


@strawberry.type
class Notification:
    id: strawberry.ID
    client_id: strawberry.ID
    created_at: datetime
    kind: str
    title: str
    body: str
    product: Product | None
    read_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> Notification:
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        return cls(
            id=strawberry.ID(str(row["id"] if "id" in row else row["notification_id"])),
            client_id=strawberry.ID(str(row["client_id"])), created_at=created, kind=str(row["kind"]),
            title=str(row["title"]), body=str(row["body"]),
            product=catalog_product_or_none(row.get("product_code")), read_at=row.get("read_at"),
        )  # fmt: skip


NOTIFICATION_COLUMNS = "id, client_id, created_at, kind, title, body, product_code, read_at"
