"""Home: the client's products and the recommended offers with accept / decline / not now."""

from __future__ import annotations

import contextlib
from typing import Any

import reflex as rx

from web import api_client
from web.state.base import error_text, is_no_model
from web.state.client import ClientState
from web.views import offers


class HomeState(ClientState):
    recommendation: dict[str, Any] = {}
    offers_loading: bool = False
    offers_error: str = ""
    no_model: bool = False
    responses: dict[str, str] = {}
    welcome: bool = False

    @rx.var
    def offer_cards(self) -> list[offers.OfferCard]:
        return offers.offer_cards(self.recommendation, self.lang, self.responses)

    @rx.var
    def has_offers(self) -> bool:
        return bool((self.recommendation or {}).get("offers"))

    @rx.var
    def no_contact_reason(self) -> str:
        return str((self.recommendation or {}).get("noContactReason") or "")

    @rx.event
    async def on_load(self):  # type: ignore[no-untyped-def]
        if not (self.token and self.role == "CLIENT" and self.client_id):
            yield rx.redirect("/login")
            return
        self.offers_loading = True
        yield
        await self.load_client()
        await self.load_offers()
        self.offers_loading = False

    async def load_offers(self) -> None:
        try:
            self.recommendation = await self.api().recommendations(self.client_id)
            self.responses = {}
            self.offers_error = ""
            self.no_model = False
        except api_client.ApiError as exc:
            self.no_model = is_no_model(exc)
            self.offers_error = error_text(exc, self.lang)

    def show_decision(self, recommendation: dict[str, Any]) -> None:
        """Offers of a newer stored decision (a notification came): shown in place of the old
        ones; answers given on the page stay while the offers are the same."""
        if not recommendation or offers.same_offers(self.recommendation, recommendation):
            return
        self.recommendation = recommendation
        self.responses = {}
        self.offers_error = ""
        self.no_model = False
        self.welcome = False

    @rx.event
    async def reload(self):  # type: ignore[no-untyped-def]
        self.offers_loading = True
        yield
        await self.load_client()
        await self.load_offers()
        self.offers_loading = False

    @rx.event
    async def respond(self, product_code: str, response: str) -> None:
        """ACCEPT / DECLINE / DISMISS one offer; the API answers with the updated offers."""
        if response not in ("ACCEPT", "DECLINE", "DISMISS"):
            return
        try:
            updated = await self.api().respond_to_offer(self.client_id, product_code, response)
        except api_client.ApiError as exc:
            self.offers_error = error_text(exc, self.lang)
            return
        self.offers_error = ""
        self.responses = {**self.responses, product_code: response}
        self.recommendation = offers.keep_responded(self.recommendation, updated, set(self.responses))
        if response == "ACCEPT":
            # "accept" records the answer; taking the product up makes it a holding (partner
            # offers and products the rules refuse stay answered only)
            with contextlib.suppress(api_client.ApiError):
                self.client = await self.api().take_product(self.client_id, product_code)
