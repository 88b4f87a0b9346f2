"""The two ways a write use case refuses: bad input, or a row that does not exist.

Their own module so callers (api.errors maps them to GraphQL error codes) can import them
without the use cases, and every use case module raises the same classes.
"""

from __future__ import annotations


class NotFound(LookupError):
    """A client or notification that does not exist (like core.services.analytics.NotFound,
    defined here so that the write paths do not import the model stack)."""


class ValidationError(ValueError):
    """Input that cannot be stored; `field` names it (snake_case, as in the arguments)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
