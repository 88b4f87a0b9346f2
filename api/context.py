"""The per-request context every resolver receives, and the argument checks they all share.

Apart from the schema so that types, queries, mutations and the subscription can import
`Info` and the id/page checks without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import strawberry

from api.auth import ANONYMOUS, Principal
from api.config import ApiConfig
from api.errors import BadInput
from api.loaders import Loaders
from api.state import AppState

if TYPE_CHECKING:  # api.response_cache reads api.types, which import this module
    from api.response_cache import Probe, Served


@dataclass
class Context:
    state: AppState
    principal: Principal
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    # The response cache's notes (api.response_cache): the stored row read before execution,
    # and the row (and answers) the resolvers served.
    probe: Probe | None = None
    served: Served | None = None
    # Root fields already resolved before execution (api.execution completes them in one pass
    # without calling their resolvers): field name -> a function giving the value.
    root_values: dict[str, Callable[[], Any]] | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.state.db)


Info = strawberry.Info[Context, None]


def parse_id(value: Any, field_name: str) -> int:
    """An ID argument as a positive bigint, or BAD_INPUT naming the field (never a database error)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise BadInput(field_name, "must be a numeric id") from None
    if not 0 < number < 2**63:
        raise BadInput(field_name, "must be a positive id")
    return number


def page_size(first: int | None, field_name: str, config: ApiConfig, default: int = 20) -> int:
    """A page size within the configured limit, so no query can ask for an unbounded list."""
    first = default if first is None else first
    if not 1 <= first <= config.max_page:
        raise BadInput(field_name, f"must be from 1 to {config.max_page}")
    return first


def context_for(state: AppState, request: Any, response: Any, principal: Principal | None = None) -> Context:
    """The context of one request (or one websocket operation); anonymous unless authenticated."""
    return Context(state=state, principal=principal or ANONYMOUS, request=request, response=response)
