"""Reflex configuration for the bank-app web UI (web/), a client of the GraphQL API only.

The GraphQL endpoint the app calls comes from RECSYS_API_URL / API_URL (web/api_client.py);
Reflex's own ports from REFLEX_FRONTEND_PORT / REFLEX_BACKEND_PORT (default 3000 / 8001,
so that `recsys api` keeps 8000).
"""

import reflex as rx

config = rx.Config(
    app_name="web",
    telemetry_enabled=False,
    frontend_port=3000,
    backend_port=8001,
    show_built_with_reflex=False,  # the sticky badge covers the offer buttons on phones
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", radius="medium")),
    ],
)
