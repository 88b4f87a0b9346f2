"""/analytics: the analyst's panel (tabs: models, uplift & policies, profiles, client, try)."""

from __future__ import annotations

import reflex as rx

from web.components.common import empty_state, error_box, info_box, loading, native_select, section
from web.components.layout import page
from web.components.offers import offer_card
from web.state.analytics import AnalyticsState

S = AnalyticsState
ACCENT = rx.color("accent", 9)
SECOND = rx.color("amber", 9)
TICK = {"fontSize": 12}
PALETTE = ("#0d9488", "#f59e0b", "#6366f1", "#ef4444", "#22c55e", "#a855f7", "#0ea5e9", "#64748b")


def chart_box(chart: rx.Component, box_id: str, height: str = "300px") -> rx.Component:
    return rx.box(chart, id=box_id, class_name="chart", width="100%", height=height, min_width="0")


def models_tab() -> rx.Component:
    metric_chart = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="strategy", interval=0, angle=-20, text_anchor="end", height=50),
        rx.recharts.y_axis(width=60),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key=S.metric_chart_key, fill=ACCENT, name=S.metric, is_animation_active=False),
        data=S.strategy_rows,
        width="100%",
        height="100%",
    )
    table = rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(S.t["strategy"]),
                    rx.foreach(S.metric_keys, lambda k: rx.table.column_header_cell(k, white_space="nowrap")),
                )
            ),
            rx.table.body(
                rx.foreach(
                    S.metric_table,
                    lambda row: rx.table.row(
                        rx.foreach(row, lambda cell: rx.table.cell(cell, white_space="nowrap"))
                    ),
                )
            ),
            size="1",
            id="metrics-table",
        ),
        overflow_x="auto",
        width="100%",
    )
    return rx.cond(
        S.has_comparison,
        models_body(metric_chart, table),
        empty_state(S.t["no_model"], box_id="no-comparison"),
    )


def models_body(metric_chart: rx.Component, table: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(S.t["model_version"], ": ", S.model_version, size="2"),
            rx.text(S.t["evaluated_at"], ": ", S.evaluated_at, size="2", color_scheme="gray"),
            wrap="wrap",
            spacing="4",
        ),
        section(
            S.t["metrics_chart"],
            rx.box(
                native_select(S.metric_options, S.metric, S.set_metric, "metric-select"),
                max_width="16em",
            ),
            chart_box(metric_chart, "metric-chart"),
        ),
        section(S.t["tab_models"], table),
        width="100%",
        spacing="4",
    )


def uplift_tab() -> rx.Component:
    # Products down the side (names wrap at the axis width), bars across, legend on top: no
    # name is cut or tucked under the legend, at laptop or phone width.
    qini_bars = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", tick=TICK),
        rx.recharts.y_axis(
            data_key="product", type_="category", width=S.qini_axis_width, interval=0, tick=TICK
        ),
        rx.recharts.reference_line(x=0, stroke=rx.color("gray", 9)),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(vertical_align="top", height=32),
        rx.recharts.bar(
            data_key="qini_random", fill=ACCENT, name=S.t["qini_random"], is_animation_active=False
        ),
        rx.recharts.bar(data_key="qini_aipw", fill=SECOND, name=S.t["qini_aipw"], is_animation_active=False),
        data=S.uplift_rows,
        layout="vertical",
        margin={"top": 4, "right": 16, "bottom": 4, "left": 4},
        width="100%",
        height="100%",
    )
    qini_lines = rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="x", type_="number", domain=[0, 1]),
        rx.recharts.y_axis(width=60),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        rx.foreach(
            S.qini_series,
            lambda name, i: rx.recharts.line(
                data_key=name,
                dot=False,
                is_animation_active=False,
                stroke=rx.Var.create(list(PALETTE))[i % 8],
            ),
        ),
        data=S.qini_rows,
        width="100%",
        height="100%",
    )
    policy_chart = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key="policy"),
        rx.recharts.y_axis(width=60),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(
            data_key="incremental", fill=ACCENT, name=S.t["incremental"], is_animation_active=False
        ),
        data=S.policy_rows,
        width="100%",
        height="100%",
    )
    policy_table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(S.t["policy"]),
                rx.table.column_header_cell(S.t["incremental"]),
                rx.table.column_header_cell(S.t["policy_value"]),
                rx.table.column_header_cell(S.t["share_of_oracle"]),
            )
        ),
        rx.table.body(
            rx.foreach(
                S.policy_rows,
                lambda r: rx.table.row(
                    rx.table.cell(r["policy"].to(str)),
                    rx.table.cell(r["incremental"].to(str)),
                    rx.table.cell(r["value"].to(str)),
                    rx.table.cell(rx.cond(r["share_of_oracle"], r["share_of_oracle"].to(str), "—")),
                ),
            )
        ),
        size="1",
        id="policy-table",
    )
    return rx.vstack(
        section(
            S.t["qini_title"],
            rx.cond(
                S.uplift_rows.length() > 0,
                chart_box(qini_bars, "qini-chart", height=S.qini_height),
                empty_state(
                    rx.cond(S.uplift_note != "", S.uplift_note, S.t["uplift_absent"]), box_id="no-uplift"
                ),
            ),
        ),
        rx.cond(S.qini_rows.length() > 0, section(S.t["qini_curves"], chart_box(qini_lines, "qini-curves"))),
        section(
            S.t["policy_title"],
            rx.cond(
                S.policy_rows.length() > 0,
                rx.vstack(
                    chart_box(policy_chart, "policy-chart"),
                    rx.box(policy_table, overflow_x="auto"),
                    width="100%",
                ),
                empty_state(
                    rx.cond(S.policy_note != "", S.policy_note, S.t["policy_absent"]), box_id="no-policy"
                ),
            ),
        ),
        width="100%",
        spacing="4",
    )


def profile_chart() -> rx.Component:
    """Each group's median as a percentile among all clients: one 0-100 axis for ages, months,
    counts and euros alike, 50 (the typical client) marked."""
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", domain=[0, 100], ticks=[0, 25, 50, 75, 100], tick=TICK),
        rx.recharts.y_axis(
            data_key="field", type_="category", width=S.profile_axis_width, interval=0, tick=TICK
        ),
        rx.recharts.reference_line(x=50, stroke=rx.color("gray", 10), stroke_dasharray="4 4"),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(vertical_align="top", height=32),
        rx.recharts.bar(data_key="holders", fill=ACCENT, name=S.t["holders"], is_animation_active=False),
        rx.recharts.bar(
            data_key="recent", fill=SECOND, name=S.t["recent_adopters"], is_animation_active=False
        ),
        data=S.profile_rows,
        layout="vertical",
        margin={"top": 4, "right": 16, "bottom": 4, "left": 4},
        width="100%",
        height="100%",
    )


def profile_values() -> rx.Component:
    head = (S.t["measure"], S.t["holders"], S.t["recent_adopters"], S.t["all_clients"])
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in head))),
            rx.table.body(
                rx.foreach(
                    S.profile_table,
                    lambda row: rx.table.row(
                        rx.foreach(row, lambda cell: rx.table.cell(cell, white_space="nowrap"))
                    ),
                )
            ),
            size="1",
            id="profile-table",
        ),
        overflow_x="auto",
        width="100%",
    )


def profiles_tab() -> rx.Component:
    return section(
        S.t["tab_profiles"],
        error_box(S.profiles_error, box_id="profiles-error"),
        rx.cond(
            S.product_options.length() > 0,
            rx.vstack(
                rx.box(
                    rx.text(S.t["pick_product"], size="2"),
                    native_select(S.product_options, S.product, S.set_product, "product-select"),
                    max_width="24em",
                    width="100%",
                ),
                rx.flex(
                    rx.foreach(S.profile_facts, lambda f: rx.badge(f, variant="soft", size="2")),
                    gap="2",
                    wrap="wrap",
                    id="profile-facts",
                ),
                rx.text(S.t["profile_numeric"], size="2", weight="bold"),
                rx.text(S.t["profile_percentile_note"], size="2", color_scheme="gray"),
                rx.grid(
                    rx.cond(
                        S.profile_rows.length() > 0,
                        chart_box(profile_chart(), "profile-chart", height="460px"),
                    ),
                    rx.vstack(rx.text(S.t["profile_values"], size="2", weight="bold"), profile_values()),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="4",
                    width="100%",
                ),
                width="100%",
            ),
            rx.cond(S.profiles_error == "", empty_state(S.t["no_profiles"], box_id="no-profiles")),
        ),
    )


def client_picker(picker_id: str) -> rx.Component:
    return rx.flex(
        rx.input(
            placeholder=S.t["search_placeholder"],
            value=S.client_search,
            on_change=S.set_client_search.debounce(300),
            id=f"{picker_id}-search",
            min_width="10em",
            flex="1",
        ),
        rx.box(
            native_select(S.client_options, S.picked_client, S.pick_client, f"{picker_id}-select"),
            min_width="14em",
            flex="2",
        ),
        gap="2",
        wrap="wrap",
        width="100%",
    )


def client_tab() -> rx.Component:
    chart = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(type_="number", unit="%"),
        rx.recharts.y_axis(data_key="product", type_="category", width=170),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(
            data_key="probability", fill=ACCENT, name=S.t["probability"], is_animation_active=False
        ),
        data=S.probability_chart,
        layout="vertical",
        width="100%",
        height="100%",
    )
    return section(
        S.t["conversion_title"],
        client_picker("prob-client"),
        rx.button(
            S.t["show"], on_click=S.load_probabilities, loading=S.probabilities_loading, id="show-probs"
        ),
        error_box(S.probabilities_error, box_id="probs-error"),
        rx.cond(
            S.probability_rows.length() > 0,
            rx.vstack(
                chart_box(chart, "prob-chart", height="520px"),
                rx.flex(
                    rx.foreach(
                        S.probability_rows,
                        lambda r: rx.cond(r.held, rx.badge(r.name, " · ", S.t["held"], color_scheme="gray")),
                    ),
                    gap="2",
                    wrap="wrap",
                ),
                width="100%",
            ),
        ),
    )


def try_tab() -> rx.Component:
    column = lambda col: rx.card(  # noqa: E731
        rx.vstack(
            rx.heading(col.title, size="3"),
            rx.cond(col.error != "", rx.text(col.error, color_scheme="red", size="2")),
            rx.cond(col.note != "", rx.text(col.note, color_scheme="gray", size="2")),
            rx.cond(
                col.offers.length() > 0,
                rx.vstack(rx.foreach(col.offers, lambda c: offer_card(c)), width="100%"),
                rx.cond(col.error == "", rx.text(S.t["no_offers"], size="2", color_scheme="gray")),
            ),
            width="100%",
        ),
        class_name="strategy-column",
        width="100%",
    )
    return section(
        S.t["tab_try"],
        client_picker("try-client"),
        rx.text(S.t["pick_strategies"], size="2", weight="bold"),
        rx.flex(
            rx.foreach(
                S.strategy_options,
                lambda o: rx.checkbox(
                    o[1],
                    margin_right="1em",
                    checked=o[2] == "1",
                    on_change=lambda _: S.toggle_strategy(o[0]),
                    id="strategy-" + o[0],
                ),
            ),
            gap="5",
            row_gap="2",
            wrap="wrap",
        ),
        rx.button(S.t["compare"], on_click=S.compare_strategies, loading=S.compare_loading, id="compare"),
        error_box(S.compare_error),
        rx.grid(
            rx.foreach(S.columns, column),
            columns=rx.breakpoints(initial="1", md="2", lg="3"),
            spacing="3",
            width="100%",
            id="strategy-columns",
        ),
    )


def analytics_page() -> rx.Component:
    tabs = rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger(S.t["tab_models"], value="models", id="tab-models"),
            rx.tabs.trigger(S.t["tab_uplift"], value="uplift", id="tab-uplift"),
            rx.tabs.trigger(S.t["tab_profiles"], value="profiles", id="tab-profiles"),
            rx.tabs.trigger(S.t["tab_client"], value="client", id="tab-client"),
            rx.tabs.trigger(S.t["tab_try"], value="try", id="tab-try"),
            wrap="wrap",
        ),
        rx.tabs.content(rx.box(models_tab(), padding_top="1em"), value="models"),
        rx.tabs.content(rx.box(uplift_tab(), padding_top="1em"), value="uplift"),
        rx.tabs.content(rx.box(profiles_tab(), padding_top="1em"), value="profiles"),
        rx.tabs.content(rx.box(client_tab(), padding_top="1em"), value="client"),
        rx.tabs.content(rx.box(try_tab(), padding_top="1em"), value="try"),
        value=S.tab,
        on_change=S.set_tab,
        width="100%",
    )
    return page(
        "analyst",
        rx.flex(
            rx.heading(S.t["analytics_title"], size="6"),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                S.t["refresh"],
                on_click=S.refresh,
                variant="soft",
                loading=S.loading,
                id="refresh",
            ),
            align="center",
            width="100%",
        ),
        error_box(S.error, on_retry=S.refresh, box_id="api-error"),
        rx.cond(S.no_model, info_box(S.t["no_model"], box_id="no-model", color="amber")),
        loading(S.loading),
        rx.cond(S.error == "", tabs),
        page_id="page-analytics",
    )
