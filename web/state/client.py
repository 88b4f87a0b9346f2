"""The logged-in client: profile, holdings and live notifications (GraphQL subscription)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import reflex as rx

from web import api_client
from web.state.base import AppState, error_text
from web.views import bank

LISTEN_POLL_S = 3.0  # how often the listener checks that its session and tab are still there
LISTEN_MAX_S = 4 * 3600.0  # a listener never outlives this (a tab closed without logging out)
TAB_GONE_S = 60.0  # a tab without a websocket this long is closed (reloads reconnect sooner)
RECONNECT_MAX_S = 15.0

log = logging.getLogger("web.notifications")


def _tab_connected(client_token: str) -> bool:
    """Whether the browser tab of this state still has a websocket (True when unknown)."""
    if not client_token:
        return True
    try:
        from reflex.utils.prerequisites import get_and_validate_app

        app = get_and_validate_app().app
        namespace = app.event_namespace
        return namespace is None or client_token in namespace.token_to_sid
    except Exception:
        return True


class ClientState(AppState):
    """What every bank page shows in its header: the client and the notification bell."""

    client: dict[str, Any] = {}
    client_error: str = ""
    notifications_raw: list[dict[str, Any]] = []
    notifications_error: str = ""
    live: bool = False
    latest_live: str = ""
    live_count: int = 0
    _listener_token: str = ""

    @rx.var
    def holdings(self) -> list[bank.HoldingView]:
        return bank.holding_views(self.client, self.lang)

    @rx.var
    def notifications(self) -> list[bank.NotificationView]:
        return bank.notification_views(self.notifications_raw, self.lang)

    @rx.var
    def unread(self) -> int:
        return sum(1 for n in self.notifications_raw if not n.get("readAt"))

    @rx.var
    def client_title(self) -> str:
        return f"#{self.client_id}" if self.client_id else ""

    async def load_client(self) -> None:
        try:
            self.client = await self.api().me() or {}
            self.client_error = ""
        except api_client.ApiError as exc:
            self.client_error = error_text(exc, self.lang)
        try:
            self.notifications_raw = await self.api().notifications(self.client_id, first=20)
            self.notifications_error = ""
        except api_client.ApiError as exc:
            self.notifications_error = error_text(exc, self.lang)

    def receive_notification(self, notification: dict[str, Any]) -> None:
        """A notification pushed by the subscription: newest first, counted, shown in a banner."""
        if not notification or str(notification.get("clientId", self.client_id)) != str(self.client_id):
            return
        self.notifications_raw = bank.merge_notification(self.notifications_raw, notification)
        view = bank.notification_views([notification], self.lang)[0]
        self.latest_live = view.title or view.body
        self.live_count += 1

    async def _follow_decision(self, token: str) -> None:
        """A notification tells the top offer of a new stored decision: the home page's offers
        follow it at once (the latest stored recommendation, the one the notification names),
        so the bell never names an offer the page does not show."""
        try:
            recommendation = await api_client.GraphQLClient(token).recommendations(self.client_id)
        except api_client.ApiError as exc:
            log.warning("offers after a notification: %s", exc)
            return
        from web.state.home import HomeState  # HomeState is a ClientState: imported late

        async with self:
            if self.token == token:
                home = await self.get_state(HomeState)
                home.show_decision(recommendation)

    @rx.event
    async def mark_read(self, notification_id: str) -> None:
        try:
            updated = await self.api().mark_notification_read(notification_id)
        except api_client.ApiError as exc:
            self.notifications_error = error_text(exc, self.lang)
            return
        self.notifications_raw = [
            {**n, "readAt": updated.get("readAt") or "read"}
            if str(n.get("id")) == str(notification_id)
            else n
            for n in self.notifications_raw
        ]

    @rx.event
    def dismiss_banner(self) -> None:
        self.latest_live = ""

    @rx.event(background=True)
    async def listen(self):  # type: ignore[no-untyped-def]
        """Keep a notifications subscription open while this session lasts (reconnecting)."""
        async with self:
            token = self.token
            tab = self.router.session.client_token
            if not token or self.role != "CLIENT":
                return
            if self._listener_token == token:
                log.info("notifications listener of tab %s already running", tab[:8])
                return
            self._listener_token = token
        started = time.monotonic()
        backoff = 1.0
        tab_missing_since: float | None = None

        async def still_wanted() -> bool:
            nonlocal tab_missing_since
            now = time.monotonic()
            if _tab_connected(tab):
                tab_missing_since = None
            elif tab_missing_since is None:
                tab_missing_since = now
            async with self:
                reason = ""
                if self.token != token:
                    reason = "logged out"
                elif tab_missing_since is not None and now - tab_missing_since > TAB_GONE_S:
                    reason = "tab closed"
                elif now - started > LISTEN_MAX_S:
                    reason = "time limit"
                if reason:
                    self.live = False
                    if self._listener_token == token:
                        self._listener_token = ""
                    log.info("notifications listener of client %s stopped: %s", self.client_id, reason)
                return not reason

        try:
            while await still_wanted():
                try:
                    async with api_client.subscribe(api_client.NOTIFICATIONS_SUBSCRIPTION, token) as sub:
                        async with self:
                            self.live = True
                        log.info("notifications listener of tab %s subscribed", tab[:8])
                        backoff = 1.0
                        while True:
                            data = await sub.receive(timeout=LISTEN_POLL_S)
                            if data and data.get("notifications"):
                                async with self:
                                    if self.token != token:
                                        break
                                    self.receive_notification(data["notifications"])
                                await self._follow_decision(token)
                            elif not await still_wanted():
                                return
                except api_client.ApiError as exc:
                    log.warning("notifications subscription failed (%s); retrying in %.0f s", exc, backoff)
                except Exception:
                    log.exception("notifications listener error; retrying in %.0f s", backoff)
                async with self:
                    self.live = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_MAX_S)
        except asyncio.CancelledError:
            log.info("notifications listener of tab %s cancelled", tab[:8])
            raise
        finally:
            with contextlib.suppress(Exception):
                async with self:
                    self.live = False
                    if self._listener_token == token:
                        self._listener_token = ""
