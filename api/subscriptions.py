"""The Subscription root: a client's notifications as the worker sends them (api.hub)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.auth import Role as RoleValue
from api.context import Info, parse_id
from api.errors import BadInput, Forbidden
from api.types.notifications import Notification


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Notifications of the logged-in client as they are sent (token in the "
        'connection_init payload: {"Authorization": "Bearer <token>"}); analysts pass clientId.'
    )
    async def notifications(
        self, info: Info, client_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Notification, None]:
        principal = info.context.principal
        if principal.role is RoleValue.CLIENT and principal.client_id is not None:
            cid = principal.client_id
            if client_id is not None and parse_id(client_id, "clientId") != cid:
                raise Forbidden("this client's notifications are not yours to see")
        elif principal.role is RoleValue.ANALYST:
            if client_id is None:
                raise BadInput("clientId", "analysts name the client to follow")
            cid = parse_id(client_id, "clientId")
        else:
            principal.require(RoleValue.CLIENT, RoleValue.ANALYST)
            return
        async with info.context.state.hub.subscribe(cid) as queue:
            while True:
                message = await queue.get()
                yield Notification.of(message)
