"""The schema's enums: roles, offer answers, strategies, languages.

Their own module because types, queries and mutations all take or return them.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from api.auth import Role as RoleValue

Role = strawberry.enum(RoleValue, name="Role", description="Who is calling.")


@strawberry.enum(description="A client's answer to an offer.")
class OfferResponse(Enum):
    ACCEPT = "accept"
    DECLINE = "decline"
    DISMISS = "dismiss"


@strawberry.enum(description="How offers are chosen: the decision layer (default) or one scorer alone.")
class Strategy(Enum):
    UPLIFT_RULES = "uplift_rules"
    HYBRID = "hybrid"
    RULES = "rules"
    CF = "cf"
    POPULARITY = "popularity"
    LLM = "llm"


@strawberry.enum
class Language(Enum):
    RU = "ru"
    EN = "en"


LANGUAGE_CODES = tuple(lang.value for lang in Language)  # in the order texts list them
