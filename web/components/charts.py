"""Charts and tables of the analytics panel, built once: a sized chart box, horizontal bars
with names down the side, and a table of text cells.

Names go on the category axis of horizontal bars: Recharts wraps a tick label between words
at the axis width, so a long product name takes two lines instead of being cut, hidden or
drawn over its neighbour, at laptop and at phone width alike. The legend is plain HTML above
the chart: it wraps on a phone instead of overlapping the bars.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

ACCENT = rx.color("accent", 9)
SECOND = rx.color("amber", 9)
TICK = {"fontSize": 12}
PALETTE = ("#0d9488", "#f59e0b", "#6366f1", "#ef4444", "#22c55e", "#a855f7", "#0ea5e9", "#64748b")


def chart_box(chart: rx.Component, box_id: str, height: Any = "300px") -> rx.Component:
    return rx.box(chart, id=box_id, class_name="chart", width="100%", height=height, min_width="0")


def legend(items: list[tuple[Any, Any]]) -> rx.Component:
    """(colour, name) swatches in a row that wraps."""
    return rx.flex(
        *(
            rx.hstack(
                rx.box(width="0.8em", height="0.8em", background=color, border_radius="2px"),
                rx.text(name, size="2"),
                align="center",
                spacing="1",
            )
            for color, name in items
        ),
        column_gap="var(--space-4)",
        row_gap="var(--space-1)",
        wrap="wrap",
        class_name="chart-legend",
    )


def side_bars(
    data: Any,
    name_key: str,
    axis_width: Any,
    bars: list[tuple[str, Any, Any]],
    *,
    domain: list[int] | None = None,
    ticks: list[int] | None = None,
    reference_x: float | None = None,
    unit: str | None = None,
) -> rx.Component:
    """Horizontal bars, one group per row of `data`: `name_key` down the side (`axis_width`
    px, wrapped), one bar per (data key, colour, name) of `bars`; `reference_x` draws a
    dashed line (zero, the all-clients mark). Put `legend` above when there are several."""
    x_axis: dict[str, Any] = {"type_": "number", "tick": TICK}
    if domain is not None:
        x_axis["domain"] = domain
    if ticks is not None:
        x_axis["ticks"] = ticks
    if unit is not None:
        x_axis["unit"] = unit
    parts: list[rx.Component] = [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(**x_axis),
        rx.recharts.y_axis(data_key=name_key, type_="category", width=axis_width, interval=0, tick=TICK),
    ]
    if reference_x is not None:
        line = rx.recharts.reference_line(x=reference_x, stroke=rx.color("gray", 10), stroke_dasharray="4 4")
        parts.append(line)
    parts.append(rx.recharts.graphing_tooltip())
    for key, color, name in bars:
        parts.append(rx.recharts.bar(data_key=key, fill=color, name=name, is_animation_active=False))
    return rx.recharts.bar_chart(
        *parts,
        data=data,
        layout="vertical",
        margin={"top": 4, "right": 16, "bottom": 4, "left": 4},
        width="100%",
        height="100%",
    )


def text_table(
    header: rx.Component, rows: Any, table_id: str, wrap: bool = False, first_width: str = "25%"
) -> rx.Component:
    """A table of text cells (`rows`: a list-of-lists var) under `header` (a table row).
    wrap=False: cells on one line, the table scrolls sideways on narrow screens (wide
    numeric tables); wrap=True: the table takes the width it is given (fixed layout, the
    first column `first_width`, the others sharing the rest), small type and cells that wrap
    between words (never inside one), so a few columns fit a phone."""
    # Radix puts the <table> inside its own scroll area: the layout goes on it by selector.
    fit = {
        "& table": {"tableLayout": "fixed", "width": "100%"},
        "& th, & td": {
            "fontSize": "var(--font-size-1)",
            "paddingLeft": "2px",
            "paddingRight": "2px",
            "overflowWrap": "normal",
            "wordBreak": "normal",
        },
        "& th": {"fontSize": "11px"},
        "& th:first-child": {"width": first_width},
    }
    space = "normal" if wrap else "nowrap"
    return rx.box(
        rx.table.root(
            rx.table.header(header),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda row: rx.table.row(
                        rx.foreach(row, lambda cell: rx.table.cell(cell, white_space=space))
                    ),
                )
            ),
            size="1",
            id=table_id,
            style=fit if wrap else {},
        ),
        overflow_x="auto",
        width="100%",
        class_name="text-table",
    )
