"""The notification type, shared by the notifications query, a mutation and the subscription."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.db import jsonb
from api.types.enums import LANGUAGE_CODES, Language
from api.types.products import Product, catalog_product_or_none


@strawberry.type(description="A notification's title and body in one language.")
class NotificationText:
    language: Language
    title: str
    body: str


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
    texts: list[NotificationText] = strawberry.field(
        description="title and body in each language the app shows, for its language switch: the "
        "client's language as above, the other from the offer's template translation. Empty for "
        "notifications stored before."
    )

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
            texts=_texts(row),
        )  # fmt: skip


def _texts(row: Any) -> list[NotificationText]:
    """From a stored row (language, payload.translations) or a notifications-topic message
    (language, translations)."""
    translations = row.get("translations")
    if translations is None:
        payload = jsonb(row.get("payload"))
        translations = payload.get("translations") if isinstance(payload, dict) else None
    own = row.get("language")
    if not translations or own not in LANGUAGE_CODES:
        return []
    out = [NotificationText(language=Language(own), title=str(row["title"]), body=str(row["body"]))]
    for language in LANGUAGE_CODES:
        t = translations.get(language)
        if language != own and isinstance(t, dict):
            out.append(
                NotificationText(
                    language=Language(language), title=str(t.get("title", "")), body=str(t.get("body", ""))
                )
            )
    return out


NOTIFICATION_COLUMNS = (
    "id, client_id, created_at, kind, title, body, product_code, read_at, language, payload"
)
