"""Client-side types: the client, its holdings, its operations (a cursor connection), summaries.

Client resolves its holdings and a page of operations itself, through the request's
DataLoaders and pool, so a query selecting them costs nothing when it does not.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import strawberry

from api.context import Info, page_size
from api.errors import BadInput
from api.types.enums import Language
from api.types.products import Product, catalog_product
from core.catalog import load_catalog
from core.domain import OPERATION_CATEGORIES


@strawberry.type
class Holding:
    product: Product
    since: date | None = strawberry.field(description="Month the product was (last) taken up.")


def holdings_of(rows: list[dict[str, Any]]) -> list[Holding]:
    """Holding rows as types; products no longer in the catalog are left out."""
    codes = load_catalog().codes
    return [
        Holding(product=catalog_product(r["product_code"]), since=r["since"])
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
        return holdings_of(await info.context.loaders.holdings.load(self._id))

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
        first = page_size(first, "first", info.context.state.config)
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
class ClientSummary:
    id: strawberry.ID
    age: int | None
    segment: str | None
    income: float | None
    n_products: int
    _id: strawberry.Private[int]

    @strawberry.field
    async def holdings(self, info: Info) -> list[Holding]:
        return holdings_of(await info.context.loaders.holdings.load(self._id))
