"""Write use cases of the app: each change and its outbox event in one transaction.

The API (and any other caller) stays thin: it authorises, then calls one function here with
an asyncpg connection. Every function validates its input first (the pure functions of
`validation`, raising `ValidationError` that names the offending field), so bad input stores
nothing; then it writes the change and its event (`core.events.add_event`) inside one
transaction, so an event exists exactly when the change does.

Live writes follow the conventions of docs/EVENTS.md: products are taken up or dropped in
the client's latest snapshot month (the serving month), a new client's snapshot month is the
serving month, operations keep their real time.

One module per kind of write (`clients`, `holdings`, `feedback`), the checks in `validation`
and the refusals in `errors`; this package re-exports them all, so callers write
`commands.take_product(...)` without knowing which room it lives in.
"""

from __future__ import annotations

from core.services.commands.clients import add_operation, register_client, require_client, serving_month
from core.services.commands.errors import NotFound, ValidationError
from core.services.commands.feedback import mark_notification_read, respond_to_offer
from core.services.commands.holdings import drop_product, take_product
from core.services.commands.validation import (
    CENT,
    EARLIEST,
    FUTURE_SLACK,
    LANGUAGES,
    MAX_AMOUNT,
    MAX_DESCRIPTION,
    MAX_INCOME,
    SEXES,
    Questionnaire,
    validate_amount,
    validate_category,
    validate_occurred_at,
    validate_product,
    validate_questionnaire,
    validate_response,
    validate_text,
)

__all__ = [
    "CENT",
    "EARLIEST",
    "FUTURE_SLACK",
    "LANGUAGES",
    "MAX_AMOUNT",
    "MAX_DESCRIPTION",
    "MAX_INCOME",
    "SEXES",
    "NotFound",
    "Questionnaire",
    "ValidationError",
    "add_operation",
    "drop_product",
    "mark_notification_read",
    "register_client",
    "require_client",
    "respond_to_offer",
    "serving_month",
    "take_product",
    "validate_amount",
    "validate_category",
    "validate_occurred_at",
    "validate_product",
    "validate_questionnaire",
    "validate_response",
    "validate_text",
]
