"""The Query root: catalog, clients, recommendations, notifications and the analyst views.

Resolvers stay thin: they parse and authorise (api.auth.Principal), then read through the
DataLoaders / the pool or the scoring thread (api.scoring). Roles are listed in docs/API.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from api import scoring
from api.auth import Principal
from api.auth import Role as RoleValue
from api.context import Info, page_size, parse_id
from api.db import jsonb
from api.errors import BadInput, Forbidden, NotFound, Unauthenticated, is_not_found
from api.lookups import decide_now, latest_recommendation, load_client
from api.response_cache import Served, stored_answer
from api.state import AppState
from api.types.analytics import (
    ModelComparison,
    OfferStats,
    ProductProbability,
    ProductProfile,
    StrategyMetrics,
)
from api.types.clients import Client, ClientSummary
from api.types.enums import Language, Strategy
from api.types.notifications import NOTIFICATION_COLUMNS, Notification
from api.types.offers import Recommendation, recommendation_of, stored_recommendation
from api.types.products import Product, catalog_code, catalog_product
from core.catalog import load_catalog


def _demo_or(principal: Principal, state: AppState) -> None:
    """clients list: analysts; with demo login on, anyone but partners (the login picker)."""
    if principal.role is RoleValue.ANALYST:
        return
    if state.settings.demo_login and principal.role is not RoleValue.PARTNER:
        return
    principal.require(RoleValue.ANALYST)


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
        return await load_client(info, principal.client_id)

    @strawberry.field(description="A client: own id for clients, any id for analysts.")
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        client_id = parse_id(id, "id")
        info.context.principal.require_client(client_id)
        return await load_client(info, client_id)

    @strawberry.field(
        description="Offers for a client. UPLIFT_RULES (default): the latest stored decision, made "
        "now when there is none. Other strategies (analysts): computed on demand, not stored."
    )
    def recommendations(
        self, info: Info, client_id: strawberry.ID, strategy: Strategy | None = Strategy.UPLIFT_RULES
    ) -> Recommendation:
        # Synchronous when the response cache has read the stored row before execution (the
        # common case): no awaitable then reaches graphql-core, whose asynchronous completion
        # cost as much as the rest of the request. Otherwise it returns the coroutine that reads
        # or decides, and graphql-core awaits it (errors and paths are the same either way).
        strategy = strategy or Strategy.UPLIFT_RULES
        cid = parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        if strategy is Strategy.UPLIFT_RULES:
            probe = info.context.probe  # the row the response cache read before execution
            if probe is not None and probe.route.client_id == cid:
                return stored_answer(info.context, probe)
        return _recommendations(info, cid, strategy)  # type: ignore[return-value]

    @strawberry.field(description="A client's notifications, newest first.")
    async def notifications(
        self, info: Info, client_id: strawberry.ID, first: int | None = 20, unread_only: bool | None = False
    ) -> list[Notification]:
        cid = parse_id(client_id, "clientId")
        info.context.principal.require_client(cid)
        first = page_size(first, "first", info.context.state.config)
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
        first = page_size(first, "first", info.context.state.config)
        where: list[str] = ["true"]
        args: list[Any] = []
        if after is not None:
            args.append(parse_id(after, "after"))
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
            "(SELECT max(month) FROM holding m WHERE m.client_id = c.id) AND (c.snapshot_month IS NULL "
            "OR date_trunc('month', h.month) >= date_trunc('month', c.snapshot_month))) AS n_products "
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
            catalog_code(product_code)
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
        cid = parse_id(client_id, "clientId")
        info.context.principal.require(RoleValue.ANALYST)
        await load_client(info, cid)
        state = info.context.state
        models = await state.models.get()
        if models is None:
            raise NotFound("no trained model set: run `recsys train` first")
        rows = await scoring.in_thread(scoring.client_probabilities, state.db.url, models, cid)
        return [
            ProductProbability(
                product=catalog_product(r["product_code"]),
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
            catalog_code(product_code)
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
                product=catalog_product(code),
                **{
                    k: int(by_code[code][k]) if code in by_code else 0
                    for k in ("shown", "accepted", "declined", "dismissed", "converted")
                },
            )  # fmt: skip
            for code in codes
        ]


async def _recommendations(info: Info, cid: int, strategy: Strategy) -> Recommendation:
    """The latest stored decision (made now when there is none), or, for analysts, another
    strategy's offers computed on demand."""
    if strategy is not Strategy.UPLIFT_RULES:
        info.context.principal.require(RoleValue.ANALYST)
        return await _by_strategy(info, cid, strategy)
    row = await latest_recommendation(info, cid)
    if row is not None:
        return _stored(info, cid, row)
    await load_client(info, cid)  # NOT_FOUND before any model work
    return await decide_now(info, cid)


def _stored(info: Info, cid: int, row: Any) -> Recommendation:
    info.context.served = Served(cid, int(row["id"]))  # what the response cache keys it by
    return stored_recommendation(row)


async def _by_strategy(info: Info, client_id: int, strategy: Strategy) -> Recommendation:
    row = await load_client(info, client_id)
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
    return recommendation_of(
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
