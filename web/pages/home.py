"""/: the client's products and offers (accept / decline / not now)."""

from __future__ import annotations

import reflex as rx

from web.components.common import empty_state, error_box, info_box, loading, section
from web.components.layout import page
from web.components.offers import offer_card
from web.state.home import HomeState


def holding_item(h) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.card(
        rx.vstack(
            rx.text(h.name, weight="bold", size="2"),
            rx.text(
                h.category,
                rx.cond(h.since != "", " · " + HomeState.t["since"] + " " + h.since, ""),
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        class_name="holding-item",
        size="1",
    )


def home_page() -> rx.Component:
    products = section(
        HomeState.t["my_products"],
        error_box(HomeState.client_error, on_retry=HomeState.reload, box_id="client-error"),
        rx.cond(
            HomeState.holdings.length() > 0,
            rx.grid(
                rx.foreach(HomeState.holdings, holding_item),
                columns=rx.breakpoints(initial="2", sm="3", lg="4"),
                spacing="2",
                width="100%",
                id="holdings",
            ),
            rx.cond(
                HomeState.client_error == "", empty_state(HomeState.t["no_products"], box_id="no-holdings")
            ),
        ),
        section_id="my-products",
    )
    offers = section(
        HomeState.t["offers_title"],
        loading(HomeState.offers_loading),
        error_box(HomeState.offers_error, on_retry=HomeState.reload, box_id="offers-error"),
        rx.cond(
            HomeState.has_offers,
            rx.grid(
                rx.foreach(HomeState.offer_cards, lambda c: offer_card(c, HomeState.respond)),
                columns=rx.breakpoints(initial="1", md="2", lg="3"),
                spacing="3",
                width="100%",
                id="offers",
            ),
            rx.cond(
                ~HomeState.offers_loading & (HomeState.offers_error == ""),
                rx.vstack(
                    empty_state(HomeState.t["no_offers"], box_id="no-offers"),
                    info_box(HomeState.no_contact_reason, box_id="no-contact-reason", color="gray"),
                    width="100%",
                ),
            ),
        ),
        section_id="offers-section",
    )
    return page(
        "client",
        rx.heading(HomeState.t["hello"], " ", HomeState.client_title, size="6", id="home-title"),
        offers,
        products,
        page_id="page-home",
    )
