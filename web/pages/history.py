"""/history: operations (cursor pages, filters) and the add-an-operation form."""

from __future__ import annotations

import reflex as rx

from web.components.common import empty_state, error_box, field, info_box, loading, native_select, section
from web.components.layout import page
from web.state.history import HistoryState

S = HistoryState


def operation_row(op) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.table.row(
        rx.table.cell(op.date, white_space="nowrap"),
        rx.table.cell(op.category),
        rx.table.cell(op.description),
        rx.table.cell(
            rx.text(op.amount, color_scheme=rx.cond(op.negative, "red", "green"), weight="medium"),
            text_align="right",
            white_space="nowrap",
        ),
        class_name="operation-row",
    )


def filters() -> rx.Component:
    return rx.flex(
        rx.box(
            field(
                S.t["filter_category"],
                native_select(
                    S.category_options,
                    S.filter_category,
                    S.set_filter_category,
                    "filter-category",
                    placeholder=S.t["all_categories"],
                ),
            ),
            min_width="12em",
            flex="1",
        ),
        rx.box(
            field(
                S.t["date_from"],
                rx.input(type="date", value=S.filter_from, on_change=S.set_filter_from, id="filter-from"),
            ),
            flex="1",
            min_width="9em",
        ),
        rx.box(
            field(
                S.t["date_to"],
                rx.input(type="date", value=S.filter_to, on_change=S.set_filter_to, id="filter-to"),
            ),
            flex="1",
            min_width="9em",
        ),
        rx.hstack(
            rx.button(S.t["apply"], on_click=S.apply_filters, id="apply-filters"),
            rx.button(S.t["reset"], on_click=S.reset_filters, variant="soft", color_scheme="gray"),
            align="end",
        ),
        gap="3",
        wrap="wrap",
        align="end",
        width="100%",
    )


def operations_section() -> rx.Component:
    return section(
        S.t["history_title"],
        filters(),
        error_box(S.filter_error, box_id="filter-error"),
        error_box(S.ops_error, box_id="ops-error"),
        loading(S.ops_loading),
        rx.cond(
            S.operation_rows.length() > 0,
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell(S.t["date"]),
                            rx.table.column_header_cell(S.t["category"]),
                            rx.table.column_header_cell(S.t["description"]),
                            rx.table.column_header_cell(S.t["amount"], text_align="right"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.operation_rows, operation_row)),
                    width="100%",
                    size="1",
                    id="operations",
                ),
                overflow_x="auto",
                width="100%",
            ),
            rx.cond(~S.ops_loading & (S.ops_error == ""), empty_state(S.t["no_operations"], box_id="no-ops")),
        ),
        rx.flex(
            rx.button(
                S.t["prev_page"], on_click=S.prev_page, disabled=~S.has_prev, variant="soft", id="prev-page"
            ),
            rx.text(S.page_number, " · ", S.t["total"], ": ", S.total_count, size="2", id="page-info"),
            rx.button(
                S.t["next_page"], on_click=S.next_page, disabled=~S.has_next, variant="soft", id="next-page"
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        section_id="operations-section",
    )


def add_form() -> rx.Component:
    errors = S.form_error_texts
    return section(
        S.t["add_operation"],
        rx.form(
            rx.grid(
                field(
                    S.t["amount"],
                    rx.input(
                        value=S.form_amount,
                        on_change=S.set_form_amount,
                        id="op-amount",
                        input_mode="decimal",
                        placeholder="-42.50",
                    ),
                    errors["amount"],
                    hint=S.t["amount_hint"],
                ),
                field(
                    S.t["category"],
                    native_select(
                        S.category_options,
                        S.form_category,
                        S.set_form_category,
                        "op-category",
                        placeholder=S.t["select"],
                    ),
                    errors["category"],
                ),
                field(
                    S.t["date"],
                    rx.input(type="date", value=S.form_date, on_change=S.set_form_date, id="op-date"),
                    errors["date"],
                ),
                field(
                    S.t["description"],
                    rx.input(
                        value=S.form_description,
                        on_change=S.set_form_description,
                        id="op-description",
                        max_length=200,
                    ),
                    errors["description"],
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.button(S.t["add"], type="submit", loading=S.submitting, id="op-submit", margin_top="0.75em"),
            on_submit=lambda _: S.add_operation(),
            width="100%",
        ),
        error_box(S.submit_error, box_id="op-error"),
        info_box(S.added_message, box_id="op-added", color="green"),
        section_id="add-operation",
    )


def change_row(c) -> rx.Component:  # type: ignore[no-untyped-def]
    color = rx.match(
        c.status, ("new", "green"), ("removed", "red"), ("up", "blue"), ("down", "orange"), "gray"
    )
    return rx.table.row(
        rx.table.cell(c.name),
        rx.table.cell(c.before),
        rx.table.cell(c.after),
        rx.table.cell(rx.badge(c.status_text, color_scheme=color)),
        class_name="change-row",
    )


def changes_section() -> rx.Component:
    return rx.cond(
        S.watching | S.watched,
        section(
            S.t["changes_title"],
            rx.cond(S.watching, rx.hstack(rx.spinner(), rx.text(S.t["changes_waiting"], size="2"))),
            rx.cond(
                S.watched,
                rx.vstack(
                    rx.cond(~S.offers_changed, rx.text(S.t["changes_none"], size="2", id="changes-none")),
                    rx.cond(
                        S.changes.length() > 0,
                        rx.table.root(
                            rx.table.header(
                                rx.table.row(
                                    rx.table.column_header_cell(S.t["product"]),
                                    rx.table.column_header_cell(S.t["before"]),
                                    rx.table.column_header_cell(S.t["after"]),
                                    rx.table.column_header_cell(""),
                                )
                            ),
                            rx.table.body(rx.foreach(S.changes, change_row)),
                            size="1",
                            width="100%",
                        ),
                    ),
                    width="100%",
                    id="changes-done",
                ),
            ),
            section_id="offer-changes",
        ),
    )


def history_page() -> rx.Component:
    return page(
        "client",
        rx.grid(
            rx.vstack(add_form(), changes_section(), width="100%", spacing="4"),
            operations_section(),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        page_id="page-history",
    )
