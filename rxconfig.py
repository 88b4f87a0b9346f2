"""Reflex configuration for the bank-app web UI (web/), a client of the GraphQL API only."""

import reflex as rx

config = rx.Config(
    app_name="web",
    telemetry_enabled=False,
)
