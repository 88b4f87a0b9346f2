"""Register (cold start): the questionnaire, validated here and again by the API;
`registerClient` creates the client, logs in and returns the first offers."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web import api_client
from web.i18n import label
from web.state.base import AppState, error_text
from web.views import formatting
from web.vocab import CHANNELS, MAX_AGE, MIN_AGE, PROVINCE_CODES, PROVINCES, SEGMENTS, SEXES


def validate_registration(
    age: str, sex: str, income: str, segment: str, channel: str, province: str, language: str, consent: bool
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """(errors by field as text keys, the RegisterClientInput)."""
    errors: dict[str, str] = {}
    try:
        age_value = int(str(age).strip())
    except ValueError:
        age_value = -1
    if not MIN_AGE <= age_value <= MAX_AGE:
        errors["age"] = "err_age"
    if sex not in SEXES:
        errors["sex"] = "err_sex"
    income_value = None
    if str(income).strip():
        income_value = formatting.parse_amount(income)
        if income_value is None or income_value < 0:
            errors["income"] = "err_income"
    if segment not in SEGMENTS:
        errors["segment"] = "err_segment"
    if channel and channel not in CHANNELS:
        errors["channel"] = "err_channel"
    if province and province not in PROVINCE_CODES:
        errors["province"] = "err_province"
    if errors:
        return errors, None
    return {}, {
        "age": age_value,
        "sex": sex,
        "income": income_value,
        "segment": segment,
        "joinChannel": channel or None,
        "provinceCode": province or None,
        "language": "EN" if language == "EN" else "RU",
        "marketingConsent": bool(consent),
    }


class RegisterState(AppState):
    age: str = ""
    sex: str = ""
    income: str = ""
    segment: str = ""
    channel: str = "KHE"
    province: str = "28"
    language: str = "RU"
    consent: bool = True
    errors: dict[str, str] = {}
    submitting: bool = False
    submit_error: str = ""

    @rx.var
    def error_texts(self) -> dict[str, str]:
        out = dict.fromkeys(("age", "sex", "income", "segment", "channel", "province"), "")
        out.update({field: self.t.get(key, key) for field, key in self.errors.items()})
        return out

    @rx.var
    def sex_options(self) -> list[list[str]]:
        return [[s, self.t[f"sex_{s}"]] for s in SEXES]

    @rx.var
    def segment_options(self) -> list[list[str]]:
        return [[s, label(self.lang, "segment", s)] for s in SEGMENTS]

    @rx.var
    def channel_options(self) -> list[list[str]]:
        return [[c, c] for c in CHANNELS]

    @rx.var
    def province_options(self) -> list[list[str]]:
        return [[code, f"{code} · {name}"] for code, name in PROVINCES]

    @rx.var
    def language_options(self) -> list[list[str]]:
        return [[code, label(self.lang, "language", code)] for code in ("RU", "EN")]

    @rx.event
    def set_field(self, field: str, value: str) -> None:
        if field in ("age", "sex", "income", "segment", "channel", "province", "language"):
            setattr(self, field, value)

    @rx.event
    def set_consent(self, value: bool) -> None:
        self.consent = bool(value)

    @rx.event
    async def submit(self):  # type: ignore[no-untyped-def]
        from web.state.home import HomeState

        self.submit_error = ""
        errors, data = validate_registration(
            self.age,
            self.sex,
            self.income,
            self.segment,
            self.channel,
            self.province,
            self.language,
            self.consent,
        )
        self.errors = errors
        if data is None:
            self.submit_error = self.t["err_form"]
            return
        self.submitting = True
        yield
        try:
            payload = await api_client.GraphQLClient().register_client(data)
        except api_client.ApiError as exc:
            self.submit_error = error_text(exc, self.lang)
            self.submitting = False
            return
        client = payload.get("client") or {}
        self.start_session({"token": payload.get("token"), "role": "CLIENT", "clientId": client.get("id")})
        self.lang = "en" if data["language"] == "EN" else "ru"
        home = await self.get_state(HomeState)
        home.client = client
        home.recommendation = payload.get("recommendation") or {}
        home.welcome = True
        self.submitting = False
        self.age, self.income, self.errors = "", "", {}
        yield rx.redirect("/")
