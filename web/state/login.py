"""Log in: a searchable list of clients (demo login) and the analyst's password."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web import api_client
from web.state.base import AppState, error_text
from web.views import bank

LIST_SIZE = 20


class LoginState(AppState):
    search: str = ""
    clients_raw: list[dict[str, Any]] = []
    clients_loading: bool = False
    clients_error: str = ""
    login_error: str = ""
    analyst_password: str = ""
    analyst_error: str = ""

    @rx.var
    def clients(self) -> list[bank.ClientRow]:
        return bank.client_rows(self.clients_raw, self.lang)

    @rx.event
    async def on_load(self):  # type: ignore[no-untyped-def]
        self.login_error = ""
        self.clients_loading = True
        yield
        await self.load_clients()

    async def load_clients(self) -> None:
        self.clients_loading = True
        try:
            self.clients_raw = await api_client.GraphQLClient().clients(
                self.search.strip() or None, LIST_SIZE
            )
            self.clients_error = ""
        except api_client.ApiError as exc:
            self.clients_raw = []
            self.clients_error = error_text(exc, self.lang)
        self.clients_loading = False

    @rx.event
    async def set_search(self, value: str) -> None:
        self.search = value
        await self.load_clients()

    @rx.event
    async def reload_clients(self) -> None:
        await self.load_clients()

    @rx.event
    async def login(self, client_id: str):  # type: ignore[no-untyped-def]
        try:
            auth = await api_client.GraphQLClient().demo_login(str(client_id))
        except api_client.ApiError as exc:
            self.login_error = error_text(exc, self.lang)
            return None
        self.start_session(auth)
        if not self.client_id:
            self.client_id = str(client_id)
        self.login_error = ""
        return rx.redirect("/")

    @rx.event
    def set_analyst_password(self, value: str) -> None:
        self.analyst_password = value

    @rx.event
    async def analyst_login(self):  # type: ignore[no-untyped-def]
        try:
            auth = await api_client.GraphQLClient().analyst_login(self.analyst_password)
        except api_client.ApiError as exc:
            self.analyst_error = error_text(exc, self.lang)
            return None
        self.start_session(auth)
        self.analyst_password = ""
        self.analyst_error = ""
        return rx.redirect("/analytics")
