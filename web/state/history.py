"""History: operations (cursor pages, filters) and the add-an-operation form; after adding,
the offers are recomputed by the worker and the page shows what changed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, date, datetime
from typing import Any

import reflex as rx

from web import api_client
from web.i18n import label
from web.state.base import error_text
from web.state.client import ClientState
from web.views import bank, formatting, offers
from web.vocab import MAX_OPERATION_AMOUNT, OPERATION_CATEGORIES

PAGE_SIZE = 10
WATCH_S = 40.0  # how long to wait for the recomputed offers after adding an operation
WATCH_POLL_S = 1.5


def validate_operation(
    amount: str, category: str, day: str, description: str, today: date | None = None
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """(errors by field as text keys, the AddOperationInput fields without clientId)."""
    errors: dict[str, str] = {}
    value = formatting.parse_amount(amount)
    if value is None:
        errors["amount"] = "err_amount"
    elif value == 0:
        errors["amount"] = "err_amount_zero"
    elif abs(value) > MAX_OPERATION_AMOUNT:
        errors["amount"] = "err_amount_big"
    if category not in OPERATION_CATEGORIES:
        errors["category"] = "err_category"
    when = formatting.parse_date(day) if day else (today or date.today())
    if when is None or when > (today or date.today()):
        errors["date"] = "err_date"
    if len(description) > 200:
        errors["description"] = "err_description"
    if errors:
        return errors, None
    assert value is not None and when is not None
    now = datetime.now(UTC)
    occurred = now if when == now.date() else datetime(when.year, when.month, when.day, 12, 0, tzinfo=UTC)
    return {}, {
        "amount": round(value, 2),
        "category": category,
        "occurredAt": occurred.isoformat(),
        "description": description.strip() or None,
    }


class HistoryState(ClientState):
    ops: dict[str, Any] = {}
    ops_loading: bool = False
    ops_error: str = ""
    cursors: list[str] = []  # "after" cursor of each page visited past the first
    filter_category: str = ""
    filter_from: str = ""
    filter_to: str = ""
    filter_error: str = ""

    form_amount: str = ""
    form_category: str = ""
    form_date: str = ""
    form_description: str = ""
    form_errors: dict[str, str] = {}
    submitting: bool = False
    added_message: str = ""
    submit_error: str = ""

    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    watching: bool = False
    watched: bool = False

    # --- derived ------------------------------------------------------------------------------

    @rx.var
    def operation_rows(self) -> list[bank.OperationRow]:
        return bank.operation_rows(self.ops, self.lang)

    @rx.var
    def total_count(self) -> int:
        return int((self.ops or {}).get("totalCount") or 0)

    @rx.var
    def has_next(self) -> bool:
        return bool(((self.ops or {}).get("pageInfo") or {}).get("hasNextPage"))

    @rx.var
    def has_prev(self) -> bool:
        return bool(self.cursors)

    @rx.var
    def page_number(self) -> int:
        return len(self.cursors) + 1

    @rx.var
    def category_options(self) -> list[list[str]]:
        return [[c, label(self.lang, "category", c)] for c in OPERATION_CATEGORIES]

    @rx.var
    def form_error_texts(self) -> dict[str, str]:
        out = dict.fromkeys(("amount", "category", "date", "description"), "")
        out.update({field: self.t.get(key, key) for field, key in self.form_errors.items()})
        return out

    @rx.var
    def changes(self) -> list[offers.OfferChange]:
        if not self.watched:
            return []
        return offers.diff_offers(self.before, self.after, self.lang)

    @rx.var
    def offers_changed(self) -> bool:
        return self.watched and not offers.same_offers(self.before, self.after)

    # --- loading --------------------------------------------------------------------------------

    @rx.event
    async def on_load(self):  # type: ignore[no-untyped-def]
        if not (self.token and self.role == "CLIENT" and self.client_id):
            yield rx.redirect("/login")
            return
        if not self.form_date:
            self.form_date = date.today().isoformat()
        self.ops_loading = True
        yield
        await self.load_client()
        await self.load_operations()

    async def load_operations(self) -> None:
        self.ops_loading = True
        try:
            self.ops = await self.api().operations(
                self.client_id,
                first=PAGE_SIZE,
                after=self.cursors[-1] if self.cursors else None,
                category=self.filter_category or None,
                date_from=self.filter_from or None,
                date_to=self.filter_to or None,
            )
            self.ops_error = ""
        except api_client.ApiError as exc:
            self.ops_error = error_text(exc, self.lang)
        self.ops_loading = False

    @rx.event
    async def next_page(self) -> None:
        cursor = ((self.ops or {}).get("pageInfo") or {}).get("endCursor")
        if not self.has_next or not cursor:
            return
        self.cursors = [*self.cursors, str(cursor)]
        await self.load_operations()

    @rx.event
    async def prev_page(self) -> None:
        if not self.cursors:
            return
        self.cursors = self.cursors[:-1]
        await self.load_operations()

    # --- filters --------------------------------------------------------------------------------

    @rx.event
    def set_filter_category(self, value: str) -> None:
        self.filter_category = value if value in OPERATION_CATEGORIES else ""

    @rx.event
    def set_filter_from(self, value: str) -> None:
        self.filter_from = value

    @rx.event
    def set_filter_to(self, value: str) -> None:
        self.filter_to = value

    @rx.event
    async def apply_filters(self) -> None:
        start, end = formatting.parse_date(self.filter_from), formatting.parse_date(self.filter_to)
        if (self.filter_from and start is None) or (self.filter_to and end is None):
            self.filter_error = self.t["err_date"]
            return
        if start and end and start > end:
            self.filter_error = self.t["err_dates"]
            return
        self.filter_error = ""
        self.cursors = []
        await self.load_operations()

    @rx.event
    async def reset_filters(self) -> None:
        self.filter_category, self.filter_from, self.filter_to, self.filter_error = "", "", "", ""
        self.cursors = []
        await self.load_operations()

    # --- the form -------------------------------------------------------------------------------

    @rx.event
    def set_form_amount(self, value: str) -> None:
        self.form_amount = value

    @rx.event
    def set_form_category(self, value: str) -> None:
        self.form_category = value

    @rx.event
    def set_form_date(self, value: str) -> None:
        self.form_date = value

    @rx.event
    def set_form_description(self, value: str) -> None:
        self.form_description = value

    @rx.event
    async def add_operation(self):  # type: ignore[no-untyped-def]
        self.added_message = ""
        self.submit_error = ""
        errors, data = validate_operation(
            self.form_amount, self.form_category, self.form_date, self.form_description
        )
        self.form_errors = errors
        if data is None:
            return
        self.submitting = True
        yield
        api = self.api()
        try:
            before = await api.recommendations(self.client_id)
        except api_client.ApiError:
            before = {}
        try:
            await api.add_operation({"clientId": self.client_id, **data})
        except api_client.ApiError as exc:
            self.submit_error = error_text(exc, self.lang)
            self.submitting = False
            return
        self.submitting = False
        self.added_message = self.t["op_added"]
        self.form_amount, self.form_description = "", ""
        self.before, self.after = before, before
        self.watching, self.watched = True, False
        self.cursors = []
        await self.load_operations()
        yield HistoryState.watch_offers

    @rx.event(background=True)
    async def watch_offers(self):  # type: ignore[no-untyped-def]
        """Poll the offers until they change or a notification arrives (the worker's signal)."""
        async with self:
            token, client_id, before = self.token, self.client_id, dict(self.before)
            seen = self.live_count
        api = api_client.GraphQLClient(token)
        deadline = time.monotonic() + WATCH_S
        latest: dict[str, Any] = before
        while time.monotonic() < deadline:
            await asyncio.sleep(WATCH_POLL_S)
            try:
                latest = await api.recommendations(client_id)
            except api_client.ApiError:
                continue
            async with self:
                if self.token != token:
                    return
                notified = self.live_count > seen
            if notified or not offers.same_offers(before, latest):
                if notified and offers.same_offers(before, latest):
                    # the notification may come a moment before the stored offers change
                    await asyncio.sleep(WATCH_POLL_S)
                    with contextlib.suppress(api_client.ApiError):
                        latest = await api.recommendations(client_id)
                break
        async with self:
            if self.token == token:
                self.after = latest
                self.watching, self.watched = False, True
