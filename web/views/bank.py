"""The bank pages' rows: clients to log in as, products held, notifications, operations."""

from __future__ import annotations

import dataclasses
from typing import Any

from web.i18n import label, text
from web.views.formatting import in_language, money, product_name, short_date, short_datetime


@dataclasses.dataclass
class ClientRow:
    id: str = ""
    title: str = ""
    details: str = ""


@dataclasses.dataclass
class HoldingView:
    code: str = ""
    name: str = ""
    category: str = ""
    since: str = ""


@dataclasses.dataclass
class NotificationView:
    id: str = ""
    title: str = ""
    body: str = ""
    when: str = ""
    unread: bool = True


@dataclasses.dataclass
class OperationRow:
    id: str = ""
    date: str = ""
    amount: str = ""
    negative: bool = False
    category: str = ""
    description: str = ""


def client_rows(clients: list[dict[str, Any]], lang: str) -> list[ClientRow]:
    rows = []
    for c in clients:
        parts = []
        if c.get("age") is not None:
            parts.append(f"{text(lang, 'age')}: {c['age']}")
        if c.get("segment"):
            parts.append(label(lang, "segment", c["segment"]))
        if c.get("income") is not None:
            parts.append(f"{float(c['income']):,.0f} €".replace(",", " "))
        parts.append(f"{text(lang, 'products_count')}: {c.get('nProducts', 0)}")
        rows.append(ClientRow(id=str(c["id"]), title=f"#{c['id']}", details=" · ".join(parts)))
    return rows


def holding_views(client: dict[str, Any] | None, lang: str) -> list[HoldingView]:
    if not client:
        return []
    out = []
    for h in client.get("holdings") or []:
        p = h.get("product") or {}
        out.append(
            HoldingView(
                code=str(p.get("code", "")),
                name=product_name(p, lang),
                category=label(lang, "product_category", p.get("category")),
                since=short_date(h.get("since")),
            )
        )
    return out


def notification_views(items: list[dict[str, Any]], lang: str = "ru") -> list[NotificationView]:
    return [
        NotificationView(
            id=str(n.get("id", "")),
            title=str(in_language(n, "title", lang) or ""),
            body=str(in_language(n, "body", lang) or ""),
            when=short_datetime(n.get("createdAt")),
            unread=not n.get("readAt"),
        )
        for n in items
    ]


def merge_notification(
    items: list[dict[str, Any]], new: dict[str, Any], keep: int = 50
) -> list[dict[str, Any]]:
    """`new` first, without a duplicate of the same id, at most `keep` items."""
    rest = [n for n in items if str(n.get("id")) != str(new.get("id"))]
    return [new, *rest][:keep]


def operation_rows(connection: dict[str, Any] | None, lang: str) -> list[OperationRow]:
    rows = []
    for edge in (connection or {}).get("edges") or []:
        node = edge.get("node") or {}
        amount = node.get("amount")
        rows.append(
            OperationRow(
                id=str(node.get("id", "")),
                date=short_date(node.get("occurredAt")),
                amount=money(amount),
                negative=isinstance(amount, int | float) and amount < 0,
                category=label(lang, "category", node.get("category")),
                description=str(node.get("description") or ""),
            )
        )
    return rows
