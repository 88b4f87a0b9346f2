"""The page frame: a header with navigation, the language switch, the bell and log out."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.common import CONTENT_WIDTH
from web.state.base import AppState
from web.state.client import ClientState


def lang_switch() -> rx.Component:
    return rx.button(
        AppState.t["lang_toggle"],
        on_click=AppState.toggle_lang,
        variant="outline",
        size="1",
        id="lang-toggle",
        aria_label="language",
    )


def nav_link(text: Any, href: str, link_id: str) -> rx.Component:
    return rx.link(text, href=href, id=link_id, size="2", weight="medium", underline="hover")


def notification_bell() -> rx.Component:
    """The bell with the unread count; its popover lists the notifications (live ones first)."""
    item = lambda n: rx.box(  # noqa: E731
        rx.hstack(
            rx.text(n.title, weight="bold", size="2"),
            rx.spacer(),
            rx.text(n.when, size="1", color_scheme="gray"),
            width="100%",
        ),
        rx.text(n.body, size="2"),
        rx.cond(
            n.unread,
            rx.button(
                ClientState.t["mark_read"],
                size="1",
                variant="ghost",
                on_click=ClientState.mark_read(n.id),
            ),
        ),
        class_name="notification-item",
        padding_y="0.5em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
    )
    # The subscription starts when the bell mounts (every client page), not from on_load:
    # Reflex cancels an on_load chain's work, background tasks included, on the next navigation.
    return rx.box(bell_popover(item), on_mount=ClientState.listen, id="bell-box")


def bell_popover(item) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.popover.root(
        rx.popover.trigger(
            rx.button(
                rx.icon("bell", size=18),
                rx.cond(
                    ClientState.unread > 0,
                    rx.badge(ClientState.unread, color_scheme="red", variant="solid", id="bell-count"),
                ),
                variant="ghost",
                id="bell",
                aria_label="notifications",
            )
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.heading(ClientState.t["notifications"], size="3"),
                    rx.spacer(),
                    rx.badge(
                        rx.cond(ClientState.live, ClientState.t["live"], ClientState.t["live_off"]),
                        color_scheme=rx.cond(ClientState.live, "green", "gray"),
                        id="live-badge",
                    ),
                    width="100%",
                ),
                rx.cond(
                    ClientState.notifications.length() > 0,
                    rx.scroll_area(
                        rx.vstack(rx.foreach(ClientState.notifications, item), width="100%"),
                        max_height="22rem",
                        type="auto",
                    ),
                    rx.text(ClientState.t["no_notifications"], size="2", color_scheme="gray"),
                ),
                width="100%",
                id="notification-list",
            ),
            width="min(24rem, 92vw)",
        ),
    )


def live_banner() -> rx.Component:
    """The newest live notification, shown without reloading the page."""
    return rx.cond(
        ClientState.latest_live != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("bell-ring")),
            rx.hstack(
                rx.callout.text(ClientState.latest_live, id="live-notification"),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("x", size=14), size="1", variant="ghost", on_click=ClientState.dismiss_banner
                ),
                width="100%",
                align="center",
            ),
            color_scheme="green",
            width="100%",
        ),
    )


def header(kind: str) -> rx.Component:
    """kind: "client" (bank pages), "analyst" or "guest"."""
    links: list[rx.Component]
    right: list[rx.Component] = [lang_switch()]
    if kind == "client":
        links = [
            nav_link(AppState.t["nav_home"], "/", "nav-home"),
            nav_link(AppState.t["nav_history"], "/history", "nav-history"),
        ]
        right = [
            rx.text(ClientState.client_title, size="2", color_scheme="gray", id="client-title"),
            notification_bell(),
            lang_switch(),
            rx.button(AppState.t["logout"], on_click=AppState.logout, size="1", variant="soft", id="logout"),
        ]
    elif kind == "analyst":
        links = [nav_link(AppState.t["nav_analytics"], "/analytics", "nav-analytics")]
        right.append(
            rx.button(AppState.t["logout"], on_click=AppState.logout, size="1", variant="soft", id="logout")
        )
    else:
        links = [
            nav_link(AppState.t["nav_login"], "/login", "nav-login"),
            nav_link(AppState.t["nav_register"], "/register", "nav-register"),
        ]
    return rx.box(
        rx.flex(
            rx.hstack(
                rx.icon("landmark", size=22, color=rx.color("accent", 10)),
                rx.heading(AppState.t["brand"], size="4", white_space="nowrap"),
                align="center",
                margin_right="1.5em",
            ),
            rx.hstack(*links, spacing="4", align="center", wrap="wrap"),
            rx.spacer(),
            rx.hstack(*right, spacing="3", align="center"),
            wrap="wrap",
            gap="3",
            align="center",
            max_width=CONTENT_WIDTH,
            margin_x="auto",
            width="100%",
        ),
        padding_x="1em",
        padding_y="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
    )


def page(kind: str, *children: rx.Component, page_id: str) -> rx.Component:
    banner = [live_banner()] if kind == "client" else []
    return rx.box(
        header(kind),
        rx.vstack(
            *banner,
            *children,
            spacing="4",
            width="100%",
            max_width=CONTENT_WIDTH,
            margin_x="auto",
            padding=rx.breakpoints(initial="0.75em", sm="1.5em"),
            align="stretch",
        ),
        id=page_id,
        width="100%",
        min_height="100vh",
    )
