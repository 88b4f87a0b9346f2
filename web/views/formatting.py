"""Formatting shared by the views: product names, percentages, money, dates, and the
parsing of form input. Pure functions."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any


def product_name(product: dict[str, Any] | None, lang: str) -> str:
    if not product:
        return "—"
    name = product.get("nameEn") if lang == "en" else product.get("nameRu")
    return str(name or product.get("nameRu") or product.get("nameEn") or product.get("code") or "—")


def pct(value: Any, digits: int = 1, signed: bool = False) -> str:
    if value is None or not isinstance(value, int | float) or math.isnan(float(value)):
        return "—"
    fmt = f"{{:{'+' if signed else ''}.{digits}f}}%"
    return fmt.format(float(value) * 100)


def money(value: Any) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value):+,.2f}".replace(",", " ")
    except (TypeError, ValueError):
        return str(value)


def short_date(value: Any) -> str:
    """'2016-05-28' from a Date or DateTime string (ISO); the input when unparseable."""
    if not value:
        return ""
    raw = str(value)
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return raw[:10]


def short_datetime(value: Any) -> str:
    if not value:
        return ""
    raw = str(value)
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return raw[:16]


def parse_amount(raw: str) -> float | None:
    try:
        value = float(str(raw).strip().replace(" ", "").replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        return None


def in_language(item: dict[str, Any], field: str, lang: str) -> Any:
    """An offer's or notification's `field` in the app's language, from its `texts` (the API
    gives both languages, so the language switch needs no new request), else the plain
    field: the client's language (stored before texts were kept in both)."""
    for t in item.get("texts") or []:
        if str(t.get("language", "")).lower() == lang and t.get(field) is not None:
            return t[field]
    return item.get(field)
