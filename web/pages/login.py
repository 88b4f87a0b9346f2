"""/login: demo login as a client picked from a searchable list, or as the analyst."""

from __future__ import annotations

import reflex as rx

from web.components.common import empty_state, error_box, loading, section
from web.components.layout import page
from web.state.login import LoginState


def client_item(row) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(row.title, weight="bold"),
                rx.text(row.details, size="1", color_scheme="gray"),
                spacing="0",
            ),
            rx.spacer(),
            rx.button(LoginState.t["login_as"], on_click=LoginState.login(row.id), size="2"),
            align="center",
            gap="2",
        ),
        class_name="client-item",
        id="client-" + row.id,
        width="100%",
    )


def login_page() -> rx.Component:
    clients = section(
        LoginState.t["login_title"],
        rx.text(LoginState.t["login_subtitle"], size="2", color_scheme="gray"),
        rx.input(
            rx.input.slot(rx.icon("search")),
            placeholder=LoginState.t["search_placeholder"],
            value=LoginState.search,
            on_change=LoginState.set_search.debounce(300),
            id="client-search",
            width="100%",
        ),
        error_box(LoginState.login_error, box_id="login-error"),
        error_box(LoginState.clients_error, on_retry=LoginState.reload_clients, box_id="api-error"),
        loading(LoginState.clients_loading),
        rx.cond(
            (LoginState.clients.length() == 0)
            & ~LoginState.clients_loading
            & (LoginState.clients_error == ""),
            empty_state(LoginState.t["no_clients"]),
        ),
        rx.grid(
            rx.foreach(LoginState.clients, client_item),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="2",
            width="100%",
            id="client-list",
        ),
        section_id="login-clients",
    )
    analyst = section(
        LoginState.t["analyst_title"],
        rx.form(
            rx.flex(
                rx.input(
                    type="password",
                    placeholder=LoginState.t["analyst_password"],
                    value=LoginState.analyst_password,
                    on_change=LoginState.set_analyst_password,
                    id="analyst-password",
                    flex="1",
                    min_width="12em",
                ),
                rx.button(LoginState.t["analyst_login"], type="submit", id="analyst-login"),
                gap="2",
                wrap="wrap",
            ),
            on_submit=lambda _: LoginState.analyst_login(),
            width="100%",
        ),
        error_box(LoginState.analyst_error, box_id="analyst-error"),
        rx.hstack(
            rx.text(LoginState.t["new_client_q"], size="2"),
            rx.link(LoginState.t["nav_register"], href="/register", id="to-register", size="2"),
        ),
        section_id="login-analyst",
    )
    return page("guest", clients, analyst, page_id="page-login")
