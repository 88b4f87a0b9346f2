"""The GraphQL schema: types, queries, mutations and the notifications subscription.

Resolvers stay thin: they parse and authorise (api.auth.Principal), then read through the
DataLoaders / the pool or call a write use case of core.services.commands. Roles and what
each may do are listed in docs/API.md.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import math
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.scalars import JSON

from api import scoring
from api.auth import ANONYMOUS, Principal
from api.auth import Role as RoleValue
from api.config import ApiConfig
from api.db import jsonb
from api.errors import BadInput, ErrorsAndMetrics, Forbidden, NotFound, Unauthenticated, is_not_found
from api.loaders import Loaders
from api.state import AppState
from core.catalog import ProductSpec, load_catalog
from core.domain import OPERATION_CATEGORIES
from core.services import commands

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


# --- context ----------------------------------------------------------------------------------


@dataclass
class Context:
    state: AppState
    principal: Principal
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.state.db)


Info = strawberry.Info[Context, None]


def _parse_id(value: Any, field_name: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise BadInput(field_name, "must be a numeric id") from None
    if not 0 < number < 2**63:
        raise BadInput(field_name, "must be a positive id")
    return number


def _page(first: int | None, field_name: str, config: ApiConfig, default: int = 20) -> int:
    first = default if first is None else first
    if not 1 <= first <= config.max_page:
        raise BadInput(field_name, f"must be from 1 to {config.max_page}")
    return first


# --- types ------------------------------------------------------------------------------------


@strawberry.type(description="A catalog entry: a bank product or a partner offer.")
class Product:
    code: str
    kind: str = strawberry.field(description="bank | partner")
    category: str
    name_ru: str
    name_en: str
    is_credit: bool
    min_age: int | None
    max_age: int | None
    description_ru: str
    description_en: str

    @classmethod
    def of(cls, spec: ProductSpec) -> Product:
        return cls(
            code=spec.code, kind=spec.kind, category=spec.category, name_ru=spec.name_ru,
            name_en=spec.name_en, is_credit=spec.is_credit, min_age=spec.min_age, max_age=spec.max_age,
            description_ru=spec.description_ru, description_en=spec.description_en,
        )  # fmt: skip


def _product(code: str) -> Product:
    return Product.of(load_catalog()[code])


def _product_or_none(code: str | None) -> Product | None:
    if code is None or code not in load_catalog().codes:
        return None
    return _product(code)


@strawberry.type
class Holding:
    product: Product
    since: date | None = strawberry.field(description="Month the product was (last) taken up.")


def _holdings(rows: list[dict[str, Any]]) -> list[Holding]:
    codes = load_catalog().codes
    return [
        Holding(product=_product(r["product_code"]), since=r["since"])
        for r in rows
        if r["product_code"] in codes
    ]


@strawberry.type
class Operation:
    id: strawberry.ID
    occurred_at: datetime
    amount: float
    category: str
    description: str | None

    @classmethod
    def of(cls, row: Any) -> Operation:
        return cls(
            id=strawberry.ID(str(row["id"])), occurred_at=row["occurred_at"], amount=float(row["amount"]),
            category=row["category"], description=row["description"],
        )  # fmt: skip


@strawberry.type
class OperationEdge:
    cursor: str
    node: Operation


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def _cursor(occurred_at: datetime, op_id: int) -> str:
    return base64.urlsafe_b64encode(f"{occurred_at.isoformat()}|{op_id}".encode()).decode()


def _uncursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        when, op_id = text.split("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError("naive")
        return at, int(op_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadInput("after", "not a cursor of this connection") from None


@strawberry.type
class OperationConnection:
    edges: list[OperationEdge]
    page_info: PageInfo
    _count_sql: strawberry.Private[str]
    _count_args: strawberry.Private[list[Any]]

    @strawberry.field(description="Operations matching the filters (all pages).")
    async def total_count(self, info: Info) -> int:
        return int(await info.context.state.db.fetchval(self._count_sql, *self._count_args))


@strawberry.type
class Client:
    id: strawberry.ID
    age: int | None
    sex: str | None
    income: float | None
    segment: str | None
    join_channel: str | None
    province_code: str | None
    language: Language
    marketing_consent: bool
    contact_opt_out: bool
    registered_at: datetime | None
    _id: strawberry.Private[int]

    @classmethod
    def of(cls, row: dict[str, Any]) -> Client:
        return cls(
            id=strawberry.ID(str(row["id"])), age=row["age"], sex=row["sex"], income=row["income"],
            segment=row["segment"], join_channel=row["join_channel"],
            province_code=None if row["province_code"] is None else str(row["province_code"]),
            language=Language.EN if row["language"] == "en" else Language.RU,
            marketing_consent=bool(row["marketing_consent"]), contact_opt_out=bool(row["contact_opt_out"]),
            registered_at=row["registered_at"], _id=int(row["id"]),
        )  # fmt: skip

    @strawberry.field(description="Products held in the client's latest snapshot month.")
    async def holdings(self, info: Info) -> list[Holding]:
        return _holdings(await info.context.loaders.holdings.load(self._id))

    @strawberry.field(description="Operations, newest first; dateTo is inclusive (UTC days).")
    async def operations(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        category: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
    ) -> OperationConnection:
        first = _page(first, "first", info.context.state.config)
        where: list[str] = ["client_id = $1"]
        args: list[Any] = [self._id]
        if category is not None:
            if category not in OPERATION_CATEGORIES:
                raise BadInput("category", f"unknown category; one of: {', '.join(OPERATION_CATEGORIES)}")
            args.append(category)
            where.append(f"category = ${len(args)}::operation_category")
        if date_from is not None:
            args.append(datetime.combine(date_from, time(), UTC))
            where.append(f"occurred_at >= ${len(args)}")
        if date_to is not None:
            args.append(datetime.combine(date_to + timedelta(days=1), time(), UTC))
            where.append(f"occurred_at < ${len(args)}")
        if date_from is not None and date_to is not None and date_to < date_from:
            raise BadInput("dateTo", "must not be before dateFrom")
        count_sql = f"SELECT count(*) FROM operation WHERE {' AND '.join(where)}"
        count_args = list(args)
        if after is not None:
            at, op_id = _uncursor(after)
            args += [at, op_id]
            where.append(f"(occurred_at, id) < (${len(args) - 1}, ${len(args)})")
        args.append(first + 1)
        rows = await info.context.state.db.fetch(
            "SELECT id, occurred_at, amount::float8 AS amount, category::text AS category, description "
            f"FROM operation WHERE {' AND '.join(where)} "
            f"ORDER BY occurred_at DESC, id DESC LIMIT ${len(args)}",
            *args,
        )
        page = rows[:first]
        edges = [OperationEdge(cursor=_cursor(r["occurred_at"], r["id"]), node=Operation.of(r)) for r in page]
        return OperationConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
            _count_sql=count_sql,
            _count_args=count_args,
        )


@strawberry.type
class Reason:
    feature: str
    contribution: float
    text: str | None = None


@strawberry.type
class Offer:
    product: Product
    rank: int
    probability: float = strawberry.field(description="Take-up probability without an offer (p_take).")
    uplift: float | None = strawberry.field(
        description="P(take | offer) - P(take | no offer); null: no model."
    )
    expected_value: float = strawberry.field(description="EUR the offer is expected to earn.")
    reason_codes: list[str]
    reasons: list[Reason] = strawberry.field(description="Top model features behind the score.")
    reason_texts: list[str] = strawberry.field(description="Reason codes in words, client's language.")
    explanation: str
    explanation_source: str = strawberry.field(description="template | openai | yandex | cache")
    propensity: float | None = strawberry.field(description="Logged probability the policy shows this offer.")
    exploration: bool
    _client_id: strawberry.Private[int]
    _recommendation_id: strawberry.Private[int | None]

    @strawberry.field(description="The client's answer to this offer, if any.")
    async def response(self, info: Info) -> OfferResponse | None:
        if self._recommendation_id is None:
            return None
        answers = await info.context.loaders.responses.load((self._client_id, self._recommendation_id))
        value = answers.get(self.product.code)
        return OfferResponse(value) if value else None


def _explanation(item: dict[str, Any]) -> str:
    if item.get("explanation"):
        return str(item["explanation"])
    texts = [str(t).rstrip(". ") for t in item.get("reason_texts") or [] if t]
    return ". ".join(texts) + "." if texts else ""


def _offer(item: dict[str, Any], client_id: int, rec_id: int | None) -> Offer | None:
    code = item.get("product_code")
    if code not in load_catalog().codes:
        return None
    uplift = item.get("uplift")
    propensity = item.get("propensity")
    return Offer(
        product=_product(code),
        rank=int(item.get("rank") or 0),
        probability=float(item.get("p_take") or 0.0),
        uplift=None if uplift is None or not math.isfinite(float(uplift)) else float(uplift),
        expected_value=float(item.get("expected_value") or 0.0),
        reason_codes=[str(c) for c in item.get("reason_codes") or []],
        reasons=[
            Reason(feature=str(r[0]), contribution=float(r[1]))
            for r in item.get("reasons") or []
            if len(r) >= 2
        ],
        reason_texts=[str(t) for t in item.get("reason_texts") or []],
        explanation=_explanation(item),
        explanation_source=str(item.get("explanation_source") or "template"),
        propensity=None if propensity is None else float(propensity),
        exploration=bool(item.get("exploration", False)),
        _client_id=client_id,
        _recommendation_id=rec_id,
    )


@strawberry.type
class Recommendation:
    id: strawberry.ID | None
    client_id: strawberry.ID
    strategy: Strategy
    model_version: str | None
    created_at: datetime | None
    offers: list[Offer] = strawberry.field(description="Best offer first, then the alternatives.")
    no_contact_reason: str | None


_STORED_STRATEGY = {"uplift+rules": Strategy.UPLIFT_RULES, **{s.value: s for s in Strategy}}


def _recommendation(
    client_id: int,
    items: list[dict[str, Any]],
    *,
    rec_id: int | None,
    strategy: Strategy,
    model_version: str | None,
    created_at: datetime | None,
    no_contact_reason: str | None = None,
) -> Recommendation:
    offers = [o for o in (_offer(i, client_id, rec_id) for i in items) if o is not None]
    offers.sort(key=lambda o: o.rank)
    if not offers and no_contact_reason is None and rec_id is not None:
        no_contact_reason = "NO_OFFER"
    return Recommendation(
        id=None if rec_id is None else strawberry.ID(str(rec_id)),
        client_id=strawberry.ID(str(client_id)),
        strategy=strategy,
        model_version=model_version,
        created_at=created_at,
        offers=offers,
        no_contact_reason=no_contact_reason,
    )


def _stored(row: Any) -> Recommendation:
    return _recommendation(
        int(row["client_id"]),
        jsonb(row["items"]) or [],
        rec_id=int(row["id"]),
        strategy=_STORED_STRATEGY.get(row["strategy"], Strategy.UPLIFT_RULES),
        model_version=row["model_version"],
        created_at=row["created_at"],
    )


def _computed(client_id: int, result: dict[str, Any]) -> Recommendation:
    return _recommendation(
        client_id,
        result["offers"],
        rec_id=result.get("recommendation_id"),
        strategy=Strategy.UPLIFT_RULES,
        model_version=result.get("model_version"),
        created_at=datetime.now(UTC),
        no_contact_reason=result.get("no_contact_reason"),
    )


REC_COLUMNS = "id, client_id, created_at, strategy, model_version, items"


@strawberry.type
class Notification:
    id: strawberry.ID
    client_id: strawberry.ID
    created_at: datetime
    kind: str
    title: str
    body: str
    product: Product | None
    read_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> Notification:
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        return cls(
            id=strawberry.ID(str(row["id"] if "id" in row else row["notification_id"])),
            client_id=strawberry.ID(str(row["client_id"])), created_at=created, kind=str(row["kind"]),
            title=str(row["title"]), body=str(row["body"]), product=_product_or_none(row.get("product_code")),
            read_at=row.get("read_at"),
        )  # fmt: skip


NOTIFICATION_COLUMNS = "id, client_id, created_at, kind, title, body, product_code, read_at"


@strawberry.type
class StrategyMetrics:
    strategy: str
    metrics: JSON


@strawberry.type
class ModelComparison:
    version: str | None
    created_at: datetime | None
    strategies: list[StrategyMetrics]
    uplift: JSON | None
    policy: JSON | None
    window: JSON | None
    test: JSON | None


@strawberry.type
class ProductProfile:
    product_code: str
    holders: int
    profile: JSON


@strawberry.type
class ProductProbability:
    product: Product
    probability: float
    held: bool
    eligible: bool


@strawberry.type(description="Aggregated offer log of one product (no personal data).")
class OfferStats:
    product: Product
    shown: int
    accepted: int
    declined: int
    dismissed: int
    converted: int


@strawberry.type
class ClientSummary:
    id: strawberry.ID
    age: int | None
    segment: str | None
    income: float | None
    n_products: int
    _id: strawberry.Private[int]

    @strawberry.field
    async def holdings(self, info: Info) -> list[Holding]:
        return _holdings(await info.context.loaders.holdings.load(self._id))


@strawberry.type
class AuthPayload:
    token: str
    role: Role  # type: ignore[valid-type]
    client_id: strawberry.ID | None
    expires_at: datetime


@strawberry.type
class RegisterPayload:
    client: Client
    token: str
    recommendation: Recommendation


@strawberry.input
class RegisterClientInput:
    age: int
    sex: str = strawberry.field(description="H | V")
    income: float | None = None
    segment: str = strawberry.field(description="top | individual | student")
    join_channel: str | None = None
    province_code: str | None = None
    language: Language | None = Language.RU
    marketing_consent: bool | None = True


@strawberry.input
class AddOperationInput:
    client_id: strawberry.ID
    amount: float = strawberry.field(description="EUR, signed: inflows positive; non-zero, |amount| <= 1e7")
    category: str = strawberry.field(description="one of core.domain.OPERATION_CATEGORIES")
    occurred_at: datetime | None = strawberry.field(default=None, description="default now")
    description: str | None = None


# --- helpers ----------------------------------------------------------------------------------


async def _client(info: Info, client_id: int) -> Client:
    row = await info.context.loaders.clients.load(client_id)
    if row is None:
        raise NotFound(f"client {client_id} not found")
    return Client.of(row)


async def _fresh_client(info: Info, client_id: int) -> Client:
    for loader in (info.context.loaders.clients, info.context.loaders.holdings):
        with contextlib.suppress(KeyError):  # not loaded yet in this request
            loader.clear(client_id)
    return await _client(info, client_id)


def _catalog_code(code: str, field_name: str = "productCode") -> str:
    if code not in load_catalog().codes:
        raise BadInput(field_name, "unknown product code")
    return code


async def _latest_recommendation(info: Info, client_id: int) -> Any:
    return await info.context.state.db.fetchrow(
        f"SELECT {REC_COLUMNS} FROM recommendation WHERE client_id = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        client_id,
    )


async def _decide(info: Info, client_id: int) -> Recommendation:
    state = info.context.state
    models = await state.models.get()
    if models is None:
        raise NotFound("no trained model set: run `recsys train` first")
    result = await scoring.in_thread(
        scoring.decide_and_store, state.db.url, models, client_id, state.explainer
    )
    return _computed(client_id, result)


def _demo_or(principal: Principal, state: AppState) -> None:
    """clients list: analysts; with demo login on, anyone but partners (the login picker)."""
    if principal.role is RoleValue.ANALYST:
        return
    if state.settings.demo_login and principal.role is not RoleValue.PARTNER:
        return
    principal.require(RoleValue.ANALYST)


# --- root types -------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field(description="The catalog (anyone); kind: bank | partner.")
    def products(self, kind: str | None = None) -> list[Product]:
        if kind is not None and kind not in ("bank", "partner"):
            raise BadInput("kind", "bank or partner")
        return [Product.of(p) for p in load_catalog().products if kind is None or p.kind == kind]

    @strawberry.field(description="The logged-in client (null for other roles).")
    async def me(self, info: Info) -> Client | None:
        principal = info.context.principal
        if principal.anonymous:
            raise Unauthenticated()
        if principal.role is not RoleValue.CLIENT or principal.client_id is None:
            return None
        return await _client(info, principal.client_id)

    @strawberry.field(description="A client: own id for clients, any id for analysts.")
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        client_id = _parse_id(id, "id")
        info.context.principal.require_client(client_id)
        return await _client(info, client_id)

    @strawberry.field(
        description="Offers for a client. UPLIFT_RULES (default): the latest stored decision, made "
        "now when there is none. Other strategies (analysts): computed on demand, not stored."
    )
    async def recommendations(
        self, info: Info, client_id: strawberry.ID, strategy: Strategy | None = Strategy.UPLIFT_RULES
    ) -> Recommendation:
        strategy = strategy or Strategy.UPLIFT_RULES
        cid = _parse_id(client_id, "clientId")
        principal = info.context.principal
        principal.require_client(cid)
        if strategy is not Strategy.UPLIFT_RULES:
            principal.require(RoleValue.ANALYST)
            return await _by_strategy(info, cid, strategy)
        row = await _latest_recommendation(info, cid)
        if row is not None:
            return _stored(row)
        await _client(info, cid)  # NOT_FOUND before any model work
        return await _decide(info, cid)

    @strawberry.field(description="A client's notifications, newest first.")
    async def notifications(
        self, info: Info, client_id: strawberry.ID, first: int | None = 20, unread_only: bool | None = False
    ) -> list[Notification]:
        cid = _parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        first = _page(first, "first", info.context.state.config)
        unread = " AND read_at IS NULL" if unread_only else ""
        rows = await info.context.state.db.fetch(
            f"SELECT {NOTIFICATION_COLUMNS} FROM notification WHERE client_id = $1{unread} "
            "ORDER BY created_at DESC, id DESC LIMIT $2",
            cid,
            first,
        )
        return [Notification.of(dict(r)) for r in rows]

    @strawberry.field(
        description="Clients by id prefix or segment (analysts); with demo login on, the login picker."
    )
    async def clients(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = 20,
        after: strawberry.ID | None = None,
    ) -> list[ClientSummary]:
        _demo_or(info.context.principal, info.context.state)
        first = _page(first, "first", info.context.state.config)
        where: list[str] = ["true"]
        args: list[Any] = []
        if after is not None:
            args.append(_parse_id(after, "after"))
            where.append(f"c.id > ${len(args)}")
        if search is not None and search.strip():
            text = search.strip()
            if len(text) > 50:
                raise BadInput("search", "at most 50 characters")
            if text.isdigit():
                args.append(text + "%")
                where.append(f"c.id::text LIKE ${len(args)}")
            else:
                args.append(text.lower())
                where.append(f"(lower(c.segment) = ${len(args)} OR lower(c.province_name) = ${len(args)})")
        args.append(first)
        rows = await info.context.state.db.fetch(
            "SELECT c.id, c.age, c.segment, c.income::float8 AS income, "
            "(SELECT count(*) FROM holding h WHERE h.client_id = c.id AND h.month = "
            "(SELECT max(month) FROM holding m WHERE m.client_id = c.id)) AS n_products "
            f"FROM client c WHERE {' AND '.join(where)} ORDER BY c.id LIMIT ${len(args)}",
            *args,
        )
        return [
            ClientSummary(
                id=strawberry.ID(str(r["id"])),
                age=r["age"],
                segment=r["segment"],
                income=r["income"],
                n_products=int(r["n_products"]),
                _id=int(r["id"]),
            )  # fmt: skip
            for r in rows
        ]

    @strawberry.field(description="Strategy comparison of the latest evaluation run (analysts, partners).")
    async def model_comparison(self, info: Info) -> ModelComparison | None:
        info.context.principal.require(RoleValue.ANALYST, RoleValue.PARTNER)
        row = await info.context.state.db.fetchrow(
            "SELECT version, created_at, metrics FROM model_run WHERE kind = 'evaluation' "
            "ORDER BY created_at DESC, id DESC LIMIT 1"
        )
        if row is None:
            return None
        metrics = jsonb(row["metrics"]) or {}
        strategies = metrics.get("strategies") or {}
        return ModelComparison(
            version=row["version"],
            created_at=row["created_at"],
            strategies=[StrategyMetrics(strategy=k, metrics=v) for k, v in strategies.items()],
            uplift=metrics.get("uplift"),
            policy=metrics.get("policy"),
            window=metrics.get("window"),
            test=metrics.get("test"),
        )

    @strawberry.field(
        description="Median client profile of each product's holders and recent adopters (analysts, "
        "partners; partners see no group of fewer clients than the configured minimum)."
    )
    async def product_profiles(self, info: Info, product_code: str | None = None) -> list[ProductProfile]:
        principal = info.context.principal
        principal.require(RoleValue.ANALYST, RoleValue.PARTNER)
        if product_code is not None:
            _catalog_code(product_code)
        state = info.context.state
        profiles = await _profiles(state)
        out = []
        for code, profile in profiles["profiles"].items():
            if product_code is not None and code != product_code:
                continue
            profile = {"cutoff": profiles["cutoff"], **profile}
            if principal.role is RoleValue.PARTNER:
                profile = _k_anonymous(profile, state.config.partner_min_group)
            holders = int((profile.get("holders") or {}).get("clients", 0))
            out.append(ProductProfile(product_code=code, holders=holders, profile=profile))
        return out

    @strawberry.field(description="A client's take-up probability per product (analysts).")
    async def client_probabilities(self, info: Info, client_id: strawberry.ID) -> list[ProductProbability]:
        cid = _parse_id(client_id, "clientId")
        info.context.principal.require(RoleValue.ANALYST)
        await _client(info, cid)
        state = info.context.state
        models = await state.models.get()
        if models is None:
            raise NotFound("no trained model set: run `recsys train` first")
        rows = await scoring.in_thread(scoring.client_probabilities, state.db.url, models, cid)
        return [
            ProductProbability(
                product=_product(r["product_code"]),
                probability=r["probability"],
                held=r["held"],
                eligible=r["eligible"],
            )  # fmt: skip
            for r in rows
        ]

    @strawberry.field(
        description="Offers shown and answered per product (analysts; partners: partner offers)."
    )
    async def offer_stats(self, info: Info, product_code: str | None = None) -> list[OfferStats]:
        principal = info.context.principal
        principal.require(RoleValue.ANALYST, RoleValue.PARTNER)
        catalog = load_catalog()
        codes = [
            p.code for p in catalog.products if principal.role is RoleValue.ANALYST or p.kind == "partner"
        ]
        if product_code is not None:
            _catalog_code(product_code)
            if product_code not in codes:
                raise Forbidden("partners see partner offers only")
            codes = [product_code]
        rows = await info.context.state.db.fetch(
            "SELECT product_code, count(*) AS shown, "
            "count(*) FILTER (WHERE response = 'accept') AS accepted, "
            "count(*) FILTER (WHERE response = 'decline') AS declined, "
            "count(*) FILTER (WHERE response = 'dismiss') AS dismissed, "
            "count(*) FILTER (WHERE converted) AS converted FROM offer_log "
            "WHERE arm = 'treatment' AND product_code = ANY($1::text[]) GROUP BY product_code",
            codes,
        )
        by_code = {r["product_code"]: r for r in rows}
        return [
            OfferStats(
                product=_product(code),
                **{
                    k: int(by_code[code][k]) if code in by_code else 0
                    for k in ("shown", "accepted", "declined", "dismissed", "converted")
                },
            )  # fmt: skip
            for code in codes
        ]


async def _by_strategy(info: Info, client_id: int, strategy: Strategy) -> Recommendation:
    row = await _client(info, client_id)
    state = info.context.state
    models = await state.models.get()
    if models is None:
        raise NotFound("no trained model set: run `recsys train` first")
    language = "en" if row.language is Language.EN else "ru"
    try:
        offers = await scoring.in_thread(
            scoring.strategy_offers, state.db.url, models, client_id, strategy.value, language
        )
    except scoring.StrategyUnavailable as exc:
        raise BadInput("strategy", str(exc)) from None
    return _recommendation(
        client_id, offers, rec_id=None, strategy=strategy, model_version=models.version,
        created_at=datetime.now(UTC), no_contact_reason=None if offers else "NO_ELIGIBLE_OFFER",
    )  # fmt: skip


async def _profiles(state: AppState) -> dict[str, Any]:
    cache = state.profiles
    if cache.fresh():
        return cache.value  # type: ignore[no-any-return]
    async with cache.lock:
        if not cache.fresh():
            from core.services.analytics import product_profiles

            try:
                cache.put(await scoring.in_thread(product_profiles, state.db.url))
            except LookupError as exc:
                if not is_not_found(exc):
                    raise
                return {"cutoff": None, "profiles": {}}
    return cache.value  # type: ignore[no-any-return]


def _k_anonymous(profile: dict[str, Any], k: int) -> dict[str, Any]:
    out = dict(profile)
    for group in ("holders", "recent_adopters"):
        summary = out.get(group)
        if isinstance(summary, dict) and int(summary.get("clients", 0)) < k:
            out[group] = {"clients": int(summary.get("clients", 0)), "suppressed": True}
    return out


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Demo only (DEMO_LOGIN): a client token for any client id.")
    async def demo_login(self, info: Info, client_id: strawberry.ID) -> AuthPayload:
        state = info.context.state
        if not state.settings.demo_login:
            raise Forbidden("demo login is disabled (DEMO_LOGIN=false)")
        cid = _parse_id(client_id, "clientId")
        await _client(info, cid)
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
            recommendation = await _decide(info, client_id)
        except (NotFound, LookupError) as exc:
            if isinstance(exc, LookupError) and not is_not_found(exc):
                raise
            recommendation = _recommendation(
                client_id, [], rec_id=None, strategy=Strategy.UPLIFT_RULES, model_version=None,
                created_at=datetime.now(UTC), no_contact_reason=f"NO_MODEL: {exc}",
            )  # fmt: skip
        token, _ = state.auth.issue(RoleValue.CLIENT, client_id)
        return RegisterPayload(
            client=await _client(info, client_id), token=token, recommendation=recommendation
        )

    @strawberry.mutation(description="Add an operation (transaction) to a client's history.")
    async def add_operation(self, info: Info, input: AddOperationInput) -> Operation:
        cid = _parse_id(input.client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            row = await commands.add_operation(
                conn, cid, input.amount, input.category, input.occurred_at, input.description
            )
        return Operation.of(row)

    @strawberry.mutation(description="The client takes a product up (latest snapshot month).")
    async def take_product(self, info: Info, client_id: strawberry.ID, product_code: str) -> Client:
        cid = _parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            await commands.take_product(conn, cid, product_code)
        return await _fresh_client(info, cid)

    @strawberry.mutation(description="The client drops a product it holds.")
    async def drop_product(self, info: Info, client_id: strawberry.ID, product_code: str) -> Client:
        cid = _parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            await commands.drop_product(conn, cid, product_code)
        return await _fresh_client(info, cid)

    @strawberry.mutation(
        description="Answer an offer of the latest recommendation (accept records the answer only)."
    )
    async def respond_to_offer(
        self, info: Info, client_id: strawberry.ID, product_code: str, response: OfferResponse
    ) -> Recommendation:
        cid = _parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        async with info.context.state.db.connection() as conn:
            rec_id = await commands.respond_to_offer(conn, cid, product_code, response.value)
        row = await info.context.state.db.fetchrow(
            f"SELECT {REC_COLUMNS} FROM recommendation WHERE id = $1", rec_id
        )
        return _stored(row)

    @strawberry.mutation
    async def mark_notification_read(self, info: Info, id: strawberry.ID) -> Notification:
        nid = _parse_id(id, "id")
        owner = await info.context.state.db.fetchval("SELECT client_id FROM notification WHERE id = $1", nid)
        principal = info.context.principal
        if owner is None:
            principal.require(RoleValue.CLIENT, RoleValue.ANALYST)
            raise NotFound(f"notification {nid} not found")
        principal.require_client(int(owner))
        async with info.context.state.db.connection() as conn:
            row = await commands.mark_notification_read(conn, nid)
        return Notification.of(row)


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
            if client_id is not None and _parse_id(client_id, "clientId") != cid:
                raise Forbidden("this client's notifications are not yours to see")
        elif principal.role is RoleValue.ANALYST:
            if client_id is None:
                raise BadInput("clientId", "analysts name the client to follow")
            cid = _parse_id(client_id, "clientId")
        else:
            principal.require(RoleValue.CLIENT, RoleValue.ANALYST)
            return
        async with info.context.state.hub.subscribe(cid) as queue:
            while True:
                message = await queue.get()
                yield Notification.of(message)


# --- schema -----------------------------------------------------------------------------------


class SafeParserCache(ParserCache):
    """ParserCache that leaves invalid documents to strawberry's own parsing, which reports the
    syntax error as a GraphQL error (a parse error raised inside the extension would not be)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        yield


class Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Logging happens in ErrorsAndMetrics (unexpected errors only, with tracebacks)."""


def build_schema(config: ApiConfig | None = None) -> Schema:
    config = config or ApiConfig()
    # The depth and alias rules are built once (QueryDepthLimiter / MaxAliasesLimiter's own
    # validators), so the validation cache sees the same rules on every request.
    limits = [
        *QueryDepthLimiter(max_depth=config.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=config.max_aliases).validation_rules,
    ]
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            ErrorsAndMetrics,
            # Factories, not instances: one extension object per request (no shared state).
            partial(MaxTokensLimiter, max_token_count=config.max_tokens),
            partial(AddValidationRules, limits),
            # Parsing and validating the same document again costs more than running it;
            # both caches are bounded LRUs keyed by the query text (and the limits).
            partial(SafeParserCache, maxsize=256),
            partial(ValidationCache, maxsize=256),
        ],
    )
    roots = (schema._schema.query_type, schema._schema.mutation_type, schema._schema.subscription_type)
    ErrorsAndMetrics.known_fields = {name for root in roots if root is not None for name in root.fields}
    return schema


def sdl() -> str:
    """The schema in SDL, as `recsys api schema` prints it and schema.graphql holds it."""
    return build_schema().as_str() + "\n"


def context_for(state: AppState, request: Any, response: Any, principal: Principal | None = None) -> Context:
    return Context(state=state, principal=principal or ANONYMOUS, request=request, response=response)


__all__ = ["Context", "Schema", "build_schema", "context_for", "sdl"]
