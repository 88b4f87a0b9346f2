"""/register: the cold-start questionnaire; the new client lands on / with the first offers."""

from __future__ import annotations

import reflex as rx

from web.components.common import error_box, field, native_select, section
from web.components.layout import page
from web.state.register import RegisterState

S = RegisterState


def register_page() -> rx.Component:
    e = S.error_texts
    form = rx.form(
        rx.grid(
            field(
                S.t["age"],
                rx.input(
                    value=S.age,
                    on_change=lambda v: S.set_field("age", v),
                    id="reg-age",
                    input_mode="numeric",
                    placeholder="35",
                ),
                e["age"],
            ),
            field(
                S.t["sex"],
                native_select(
                    S.sex_options,
                    S.sex,
                    lambda v: S.set_field("sex", v),
                    "reg-sex",
                    placeholder=S.t["select"],
                ),
                e["sex"],
            ),
            field(
                rx.fragment(S.t["income"], " (", S.t["optional"], ")"),
                rx.input(
                    value=S.income,
                    on_change=lambda v: S.set_field("income", v),
                    id="reg-income",
                    input_mode="decimal",
                    placeholder="45000",
                ),
                e["income"],
            ),
            field(
                S.t["segment"],
                native_select(
                    S.segment_options,
                    S.segment,
                    lambda v: S.set_field("segment", v),
                    "reg-segment",
                    placeholder=S.t["select"],
                ),
                e["segment"],
            ),
            field(
                S.t["channel"],
                native_select(
                    S.channel_options, S.channel, lambda v: S.set_field("channel", v), "reg-channel"
                ),
                e["channel"],
            ),
            field(
                S.t["province"],
                native_select(
                    S.province_options, S.province, lambda v: S.set_field("province", v), "reg-province"
                ),
                e["province"],
            ),
            field(
                S.t["language"],
                native_select(
                    S.language_options, S.language, lambda v: S.set_field("language", v), "reg-language"
                ),
            ),
            rx.box(
                rx.checkbox(S.t["consent"], checked=S.consent, on_change=S.set_consent, id="reg-consent"),
                padding_top="1.5em",
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.button(
            S.t["register"], type="submit", loading=S.submitting, id="reg-submit", margin_top="1em", size="3"
        ),
        on_submit=lambda _: S.submit(),
        width="100%",
    )
    return page(
        "guest",
        section(
            S.t["register_title"],
            rx.text(S.t["register_subtitle"], size="2", color_scheme="gray"),
            form,
            error_box(S.submit_error, box_id="reg-error"),
            section_id="register-form",
        ),
        page_id="page-register",
    )
