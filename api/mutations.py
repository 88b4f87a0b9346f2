"""The Mutation root: demo logins, registration, operations, products, offer answers, reads.

Each write is a use case of core.services.commands (the row and its outbox event in one
transaction); the resolver parses, authorises and shapes the answer.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import strawberry

from api.auth import Role as RoleValue
from api.context import Info, parse_id
from api.errors import Forbidden, NotFound, Unauthenticated, is_not_found
from api.lookups import decide_now, load_client, reload_client
from api.types.clients import Client, Operation
from api.types.enums import Language, OfferResponse, Strategy
from api.types.notifications import Notification
from api.types.offers import REC_COLUMNS, Recommendation, recommendation_of, stored_recommendation
from api.types.payloads import AddOperationInput, AuthPayload, RegisterClientInput, RegisterPayload
from core.services import commands


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Demo only (DEMO_LOGIN): a client token for any client id.")
    async def demo_login(self, info: Info, client_id: strawberry.ID) -> AuthPayload:
        state = info.context.state
        if not state.settings.demo_login:
            raise Forbidden("demo login is disabled (DEMO_LOGIN=false)")
        cid = parse_id(client_id, "clientId")
        await load_client(info, cid)
        token, expires = state.auth.issue(RoleValue.CLIENT, cid)
        return AuthPayload(
            token=token, role=RoleValue.CLIENT, client_id=strawberry.ID(str(cid)), expires_at=expires
        )

    @strawberry.mutation(description="Demo only (DEMO_LOGIN): an analyst token for the demo password.")
    async def analyst_login(self, info: Info, password: str) -> AuthPayload:
        state = info.context.state
        if not state.settings.demo_login:
            raise Forbidden("analyst demo login is disabled (DEMO_LOGIN=false)")
        if not hmac.compare_digest(password.encode(), state.config.analyst_secret().encode()):
            raise Unauthenticated("wrong password")
        token, expires = state.auth.issue(RoleValue.ANALYST)
        return AuthPayload(token=token, role=RoleValue.ANALYST, client_id=None, expires_at=expires)

    @strawberry.mutation(description="A new client from the questionnaire; first offers come back at once.")
    async def register_client(self, info: Info, input: RegisterClientInput) -> RegisterPayload:
        principal = info.context.principal
        if principal.role is RoleValue.PARTNER:
            raise Forbidden("partners cannot register clients")
        q = commands.validate_questionnaire(
            age=input.age, sex=input.sex, segment=input.segment, income=input.income,
            join_channel=input.join_channel, province_code=input.province_code,
            language=(input.language or Language.RU).value,
            marketing_consent=True if input.marketing_consent is None else input.marketing_consent,
        )  # fmt: skip
        state = info.context.state
        models = await state.models.get()
        async with state.db.connection() as conn:
            month = await commands.serving_month(conn, models.serve_cutoff if models else None)
            client_id = await commands.register_client(conn, q, month)
        try:
            recommendation = await decide_now(info, client_id)
        except (NotFound, LookupError) as exc:
            if isinstance(exc, LookupError) and not is_not_found(exc):
                raise
            recommendation = recommendation_of(
                client_id, [], rec_id=None, strategy=Strategy.UPLIFT_RULES, model_version=None,
                created_at=datetime.now(UTC), no_contact_reason=f"NO_MODEL: {exc}",
            )  # fmt: skip
        token, _ = state.auth.issue(RoleValue.CLIENT, client_id)
        return RegisterPayload(
            client=await load_client(info, client_id), token=token, recommendation=recommendation
        )

    @strawberry.mutation(description="Add an operation (transaction) to a client's history.")
    async def add_operation(self, info: Info, input: AddOperationInput) -> Operation:
        cid = parse_id(input.client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            row = await commands.add_operation(
                conn, cid, input.amount, input.category, input.occurred_at, input.description
            )
        return Operation.of(row)

    @strawberry.mutation(description="The client takes a product up (latest snapshot month).")
    async def take_product(self, info: Info, client_id: strawberry.ID, product_code: str) -> Client:
        cid = parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            await commands.take_product(conn, cid, product_code)
        return await reload_client(info, cid)

    @strawberry.mutation(description="The client drops a product it holds.")
    async def drop_product(self, info: Info, client_id: strawberry.ID, product_code: str) -> Client:
        cid = parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            await commands.drop_product(conn, cid, product_code)
        return await reload_client(info, cid)

    @strawberry.mutation(
        description="Answer an offer of the latest recommendation (accept records the answer only)."
    )
    async def respond_to_offer(
        self, info: Info, client_id: strawberry.ID, product_code: str, response: OfferResponse
    ) -> Recommendation:
        cid = parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            rec_id = await commands.respond_to_offer(conn, cid, product_code, response.value)
        row = await info.context.state.db.fetchrow(
            f"SELECT {REC_COLUMNS} FROM recommendation WHERE id = $1", rec_id
        )
        return stored_recommendation(row)

    @strawberry.mutation
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> Notification:
        nid = parse_id(id, "id")
        owner = await info.context.state.db.fetchval("SELECT client_id FROM notification WHERE id = $1", nid)
        principal = info.context.principal
        if owner is None:
            principal.require(RoleValue.CLIENT, RoleValue.ANALYST)
            raise NotFound(f"notification {nid} not found")
        principal.require_client(int(owner))
        async with info.context.state.db.connection() as conn:
            row = await commands.mark_notification_read(conn, nid)
        return Notification.of(row)
