"""The root state of the app: language, the session (token, role, client id), API access."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web import api_client
from web.i18n import DEFAULT_LANG, texts


def error_text(exc: Exception, lang: str) -> str:
    """What a page says for a failed API call."""
    if isinstance(exc, api_client.ApiTimeout):
        return texts(lang)["api_slow"]
    if isinstance(exc, api_client.ApiUnavailable):
        return texts(lang)["api_down"]
    if isinstance(exc, api_client.ApiError):
        return f"{texts(lang)['api_error']}: {exc.message}"
    return f"{texts(lang)['api_error']}: {type(exc).__name__}: {exc}"


def is_no_model(exc: Exception) -> bool:
    """An API error that means no model was trained/evaluated yet."""
    if not isinstance(exc, api_client.ApiError) or isinstance(exc, api_client.ApiUnavailable):
        return False
    message = exc.message.lower()
    return (exc.code or "").upper() in {"NO_MODEL", "MODEL_NOT_FOUND"} or (
        "model" in message and any(w in message for w in ("no ", "not ", "train"))
    )


class AppState(rx.State):
    """Language and session, shared by every page (the other states are its substates)."""

    lang: str = DEFAULT_LANG
    token: str = ""
    role: str = ""
    client_id: str = ""

    @rx.var
    def t(self) -> dict[str, str]:
        return texts(self.lang)

    @rx.var
    def is_client(self) -> bool:
        return bool(self.token) and self.role == "CLIENT"

    @rx.var
    def is_analyst(self) -> bool:
        return bool(self.token) and self.role == "ANALYST"

    @rx.event
    def toggle_lang(self) -> None:
        self.lang = "en" if self.lang == "ru" else "ru"

    @rx.event
    def set_lang(self, lang: str) -> None:
        self.lang = "en" if lang == "en" else "ru"

    def api(self) -> api_client.GraphQLClient:
        return api_client.GraphQLClient(self.token)

    def start_session(self, auth: dict[str, Any]) -> None:
        self.token = str(auth.get("token") or "")
        self.role = str(auth.get("role") or "")
        self.client_id = str(auth.get("clientId") or "")

    @rx.event
    def logout(self):  # type: ignore[no-untyped-def]
        self.token = ""
        self.role = ""
        self.client_id = ""
        return rx.redirect("/login")

    @rx.event
    def require_client(self):  # type: ignore[no-untyped-def]
        """on_load guard of the bank pages."""
        if not (self.token and self.role == "CLIENT" and self.client_id):
            return rx.redirect("/login")
        return None

    @rx.event
    def require_analyst(self):  # type: ignore[no-untyped-def]
        if not (self.token and self.role == "ANALYST"):
            return rx.redirect("/login")
        return None
