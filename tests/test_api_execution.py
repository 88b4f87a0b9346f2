"""The one-pass executor (api.execution) answers exactly as graphql-core does: same data, same
errors and paths, same null propagation; only faster. Small schema, no database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache

from api.execution import PlainFieldsExecutor


@strawberry.enum
class Kind(enum.Enum):
    BANK = "bank"
    PARTNER = "partner"


@strawberry.type
class Product:
    code: str
    kind: Kind
    min_age: int | None


@strawberry.type
class Reason:
    feature: str
    contribution: float


@strawberry.type
class Offer:
    rank: int
    product: Product
    reasons: list[Reason]
    codes: list[str]
    at: datetime | None

    @strawberry.field
    async def answer(self) -> str | None:
        return f"seen {self.rank}"


def offers() -> list[Offer]:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return [
        Offer(
            rank=i,
            product=Product(code=f"p{i}", kind=Kind.BANK if i % 2 else Kind.PARTNER, min_age=None),
            reasons=[Reason(feature="age", contribution=0.5 * i)],
            codes=["A", "B"],
            at=at if i else None,
        )  # fmt: skip
        for i in range(3)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def offers(self) -> list[Offer]:
        return offers()

    @strawberry.field
    def broken(self) -> list[Offer]:
        """A null in a non-null field and a value Int cannot represent, in the second offer."""
        out = offers()
        out[1].product.code = None  # type: ignore[assignment]
        out[2].rank = 2**40
        return out


plain = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutor)
standard = strawberry.Schema(query=Query)

DOCUMENTS = [
    "{ offers { rank at codes product { code kind minAge } reasons { feature contribution } } }",
    "{ offers { r: rank p: product { c: code __typename } __typename } }",
    "{ offers { ...F product { ... on Product { kind } } } } fragment F on Offer { rank codes }",
    "query($s: Boolean!) { offers { rank @skip(if: $s) product @include(if: $s) { code } } }",
    "{ offers { rank answer product { code } } }",  # a resolver among plain fields
    "{ broken { rank product { code kind } } }",
    "{ broken { product { kind } } }",
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("skip", [True, False])
async def test_same_answer_as_graphql_core(document: str, skip: bool) -> None:
    fast = await plain.execute(document, variable_values={"s": skip})
    slow = await standard.execute(document, variable_values={"s": skip})
    assert fast.data == slow.data
    errors = [[(e.message, e.path) for e in r.errors or []] for r in (fast, slow)]
    assert errors[0] == errors[1]


class Recording(PlainFieldsExecutor):
    planned: list[tuple[str, bool]] = []

    def _plan(self, parent_type: Any, grouped_field_set: Any) -> Any:
        plan = super()._plan(parent_type, grouped_field_set)
        self.planned.append((parent_type.name, plan is not None))
        return plan


async def test_plain_objects_take_the_one_pass_path() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=Recording)
    await schema.execute(DOCUMENTS[0])
    assert ("Offer", True) in Recording.planned and ("Query", False) in Recording.planned
    Recording.planned.clear()
    await schema.execute(DOCUMENTS[4])  # Offer.answer has a resolver: Offer is not plain, Product is
    assert ("Offer", False) in Recording.planned and ("Product", True) in Recording.planned
    Recording.planned.clear()
    await schema.execute(DOCUMENTS[0])  # the same text again (parser cache off: a new AST)
    assert ("Offer", True) in Recording.planned


async def test_plans_are_shared_by_requests_of_the_same_document() -> None:
    schema = strawberry.Schema(
        query=Query, execution_context_class=Recording, extensions=[ParserCache(maxsize=8)]
    )
    await schema.execute(DOCUMENTS[0])
    Recording.planned.clear()
    result = await schema.execute(DOCUMENTS[0])
    assert Recording.planned == []  # nothing planned again, Query (not plain) included
    assert result.data == (await standard.execute(DOCUMENTS[0])).data
    for skip in (True, False, True):  # directives: planned per request, right for each value
        document = DOCUMENTS[3]
        fast = await schema.execute(document, variable_values={"s": skip})
        assert fast.data == (await standard.execute(document, variable_values={"s": skip})).data


async def test_errors_keep_their_paths() -> None:
    result = await plain.execute("{ broken { rank product { code } } }")
    assert result.data is None  # a non-null list item nulled: the whole non-null list goes
    assert [e.path for e in result.errors or []] == [["broken", 1, "product", "code"]]
    result = await plain.execute("{ broken { rank } }")
    assert result.data is None and [e.path for e in result.errors or []] == [["broken", 2, "rank"]]
