"""Small building blocks: page frame, status messages, labelled form fields, native selects."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.state.base import AppState

CONTENT_WIDTH = "72rem"


def error_box(message: Any, on_retry: Any = None, box_id: str = "error") -> rx.Component:
    """A red callout shown when `message` is not empty, with an optional retry button."""
    children = [rx.callout.icon(rx.icon("triangle-alert")), rx.callout.text(message)]
    box = rx.callout.root(*children, color_scheme="red", role="alert", id=box_id, width="100%")
    if on_retry is not None:
        box = rx.vstack(
            box, rx.button(AppState.t["retry"], on_click=on_retry, variant="soft", size="1"), width="100%"
        )
    return rx.cond(message != "", box)


def info_box(message: Any, box_id: str = "info", color: str = "blue") -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("info")),
            rx.callout.text(message),
            color_scheme=color,
            id=box_id,
            width="100%",
        ),
    )


def empty_state(message: Any, box_id: str = "empty") -> rx.Component:
    return rx.center(
        rx.text(message, color_scheme="gray", size="3"),
        id=box_id,
        padding="1.5em",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
    )


def loading(flag: Any) -> rx.Component:
    return rx.cond(flag, rx.hstack(rx.spinner(size="2"), rx.text(AppState.t["loading"], size="2")))


def field(label: Any, control: rx.Component, error: Any = "", hint: Any = None) -> rx.Component:
    """A form field: label above, control, the validation message below in red."""
    extra = [rx.text(hint, size="1", color_scheme="gray")] if hint is not None else []
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        *extra,
        rx.cond(error != "", rx.text(error, size="1", color_scheme="red", class_name="field-error")),
        spacing="1",
        width="100%",
        align="stretch",
    )


SELECT_STYLE = {
    "height": "var(--space-6)",
    "padding": "0 0.5em",
    "border_radius": "var(--radius-2)",
    "border": f"1px solid {rx.color('gray', 7)}",
    "background": rx.color("gray", 1),
    "color": rx.color("gray", 12),
    "font_size": "var(--font-size-2)",
    "width": "100%",
}


def native_select(
    options: Any, value: Any, on_change: Any, select_id: str, placeholder: Any = None
) -> rx.Component:
    """A plain <select> (phones show their native picker; browser tests can drive it).

    `options` is a Var of [value, label] pairs; `placeholder` adds a first empty option.
    """
    first = [rx.el.option(placeholder, value="")] if placeholder is not None else []
    return rx.el.select(
        *first,
        rx.foreach(options, lambda o: rx.el.option(o[1], value=o[0])),
        value=value,
        on_change=on_change,
        id=select_id,
        style=SELECT_STYLE,
    )


def section(title: Any, *children: rx.Component, section_id: str | None = None) -> rx.Component:
    props: dict[str, Any] = {"id": section_id} if section_id else {}
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%", align="stretch"),
        width="100%",
        **props,
    )
