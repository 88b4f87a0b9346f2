"""The RecSys31 web app: the bank app for clients and the analytics panel for analysts.

A client of the GraphQL API only (web/api_client.py); pages in web/pages, states in
web/state, components in web/components.
"""

from __future__ import annotations

import logging

import reflex as rx

from web.pages.analytics import analytics_page
from web.pages.history import history_page
from web.pages.home import home_page
from web.pages.login import login_page
from web.pages.register import register_page
from web.state.analytics import AnalyticsState
from web.state.history import HistoryState
from web.state.home import HomeState
from web.state.login import LoginState

_log = logging.getLogger("web")
if not _log.handlers:  # the app's own events (subscriptions) in the server's output
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)

app = rx.App(
    html_lang="ru",
    head_components=[rx.el.meta(name="viewport", content="width=device-width, initial-scale=1")],
)
app.add_page(home_page, route="/", title="RecSys31 · Bank", on_load=HomeState.on_load)
app.add_page(login_page, route="/login", title="RecSys31 · Login", on_load=LoginState.on_load)
app.add_page(history_page, route="/history", title="RecSys31 · History", on_load=HistoryState.on_load)
app.add_page(register_page, route="/register", title="RecSys31 · Register")
app.add_page(analytics_page, route="/analytics", title="RecSys31 · Analytics", on_load=AnalyticsState.on_load)
