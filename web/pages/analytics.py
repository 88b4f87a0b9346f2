"""/analytics: the analyst's panel (tabs: models, uplift & policies, profiles, client, try)."""

from __future__ import annotations

import reflex as rx

from web.components.charts import ACCENT, PALETTE, SECOND, chart_box, legend, side_bars, text_table
from web.components.common import empty_state, error_box, info_box, loading, native_select, section
from web.components.layout import page
from web.components.offers import offer_card
from web.state.analytics import AnalyticsState

S = AnalyticsState


def models_tab() -> rx.Component:
    metric_chart = side_bars(S.strategy_rows, "strategy", 100, [(S.metric_chart_key, ACCENT, S.metric)])
    header = rx.table.row(
        rx.table.column_header_cell(S.t["strategy"]),
        rx.foreach(S.metric_keys, lambda k: rx.table.column_header_cell(k, white_space="nowrap")),
    )
    table = text_table(header, S.metric_table, "metrics-table")
    return rx.cond(
        S.has_comparison,
        models_body(metric_chart, table),
        empty_state(S.t["no_evaluation"], box_id="no-comparison"),
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
            chart_box(metric_chart, "metric-chart", height=S.strategy_height),
        ),
        section(S.t["tab_models"], table),
        width="100%",
        spacing="4",
    )


def uplift_tab() -> rx.Component:
    qini_bars = side_bars(
        S.uplift_rows,
        "product",
        S.qini_axis_width,
        [("qini_random", ACCENT, S.t["qini_random"]), ("qini_aipw", SECOND, S.t["qini_aipw"])],
        reference_x=0,
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
    policy_chart = side_bars(S.policy_rows, "policy", 100, [("incremental", ACCENT, S.t["incremental"])])
    head = (S.t["policy"], S.t["incremental"], S.t["policy_value"], S.t["share_of_oracle"])
    header = rx.table.row(*(rx.table.column_header_cell(h) for h in head))
    policy_table = text_table(header, S.policy_table, "policy-table", wrap=True)
    return rx.vstack(
        section(
            S.t["qini_title"],
            rx.cond(
                S.uplift_rows.length() > 0,
                rx.vstack(
                    legend([(ACCENT, S.t["qini_random"]), (SECOND, S.t["qini_aipw"])]),
                    chart_box(qini_bars, "qini-chart", height=S.qini_height),
                    width="100%",
                ),
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
                    chart_box(policy_chart, "policy-chart", height=S.policy_height),
                    policy_table,
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
    """Each group's mean percentile rank among all clients: one 0-100 axis for ages, months,
    counts and euros alike, 50 (spread like all clients) marked."""
    return side_bars(
        S.profile_rows,
        "field",
        S.profile_axis_width,
        [("holders", ACCENT, S.t["holders"]), ("recent", SECOND, S.t["recent_adopters"])],
        domain=[0, 100],
        ticks=[0, 25, 50, 75, 100],
        reference_x=50,
    )


def profile_values() -> rx.Component:
    head = (S.t["measure"], S.t["holders"], S.t["recent_adopters"], S.t["all_clients"])
    header = rx.table.row(*(rx.table.column_header_cell(h) for h in head))
    return text_table(header, S.profile_table, "profile-table", wrap=True, first_width="28%")


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
                    spacing="2",
                    wrap="wrap",
                    id="profile-facts",
                ),
                rx.text(S.t["profile_numeric"], size="2", weight="bold"),
                rx.text(S.t["profile_rank_note"], size="2", color_scheme="gray"),
                rx.grid(
                    rx.cond(
                        S.profile_rows.length() > 0,
                        rx.vstack(
                            legend([(ACCENT, S.t["holders"]), (SECOND, S.t["recent_adopters"])]),
                            chart_box(profile_chart(), "profile-chart", height="440px"),
                            width="100%",
                        ),
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
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def client_tab() -> rx.Component:
    chart = side_bars(
        S.probability_chart, "product", 170, [("probability", ACCENT, S.t["probability"])], unit="%"
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
                    spacing="2",
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
            column_gap="var(--space-5)",
            row_gap="var(--space-2)",
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
            style={"flexWrap": "wrap", "overflowX": "visible"},
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
        rx.cond(S.no_model, info_box(S.t["no_evaluation"], box_id="no-model", color="amber")),
        loading(S.loading),
        rx.cond(S.error == "", tabs),
        page_id="page-analytics",
    )
