"""An offer card: product, short explanation, why (top reasons), alternatives, and buttons."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.state.base import AppState


def offer_card(card: Any, on_respond: Any = None) -> rx.Component:
    """`card` is a views.OfferCard var; `on_respond(code, response)` adds the three buttons."""
    actions: list[rx.Component] = []
    if on_respond is not None:
        actions.append(
            rx.cond(
                card.responded,
                rx.badge(card.response_text, color_scheme="gray", size="2", class_name="offer-response"),
                rx.flex(
                    rx.button(
                        AppState.t["accept"],
                        on_click=on_respond(card.code, "ACCEPT"),
                        size="2",
                        class_name="offer-accept",
                    ),
                    rx.button(
                        AppState.t["decline"],
                        on_click=on_respond(card.code, "DECLINE"),
                        size="2",
                        variant="soft",
                        color_scheme="red",
                        class_name="offer-decline",
                    ),
                    rx.button(
                        AppState.t["not_now"],
                        on_click=on_respond(card.code, "DISMISS"),
                        size="2",
                        variant="outline",
                        color_scheme="gray",
                        class_name="offer-dismiss",
                    ),
                    gap="2",
                    wrap="wrap",
                ),
            )
        )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(card.badge, color_scheme=rx.cond(card.is_best, "green", "gray"), variant="soft"),
                rx.spacer(),
                rx.text(card.category, size="1", color_scheme="gray"),
                width="100%",
            ),
            rx.heading(card.name, size="4", class_name="offer-name"),
            rx.text(card.explanation, size="2", class_name="offer-explanation"),
            rx.cond(
                card.reasons.length() > 0,
                rx.box(
                    rx.text(AppState.t["why"], size="1", weight="bold", color_scheme="gray"),
                    rx.unordered_list(
                        rx.foreach(card.reasons, lambda r: rx.list_item(rx.text(r, size="2"))),
                        margin_left="1.2em",
                    ),
                    class_name="offer-reasons",
                ),
            ),
            rx.hstack(
                rx.cond(
                    card.probability != "",
                    rx.text(AppState.t["probability"], ": ", card.probability, size="1", color_scheme="gray"),
                ),
                rx.cond(
                    card.uplift != "",
                    rx.text(AppState.t["uplift"], ": ", card.uplift, size="1", color_scheme="gray"),
                ),
                wrap="wrap",
            ),
            rx.cond(
                card.alternatives != "",
                rx.text(AppState.t["alternatives"], ": ", card.alternatives, size="1", color_scheme="gray"),
            ),
            *actions,
            spacing="2",
            align="stretch",
            width="100%",
        ),
        class_name="offer-card",
        id="offer-" + card.code,
        width="100%",
    )
