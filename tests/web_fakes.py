"""A fake RecSys31 GraphQL API at the HTTP boundary (httpx.MockTransport) for the web
state unit tests, plus a helper to reach a state instance without a running app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import reflex as rx


def product(code: str, ru: str, en: str, category: str = "accounts") -> dict[str, Any]:
    return {"code": code, "kind": "bank", "category": category, "nameRu": ru, "nameEn": en, "isCredit": False}


CARD = product("tjcr_fin", "Кредитная карта", "Credit card", "cards")
DEPOSIT = product("dela_fin", "Депозит", "Deposit", "deposits")
PENSION = product("plan_fin", "Пенсионный план", "Pension plan", "pensions")
ACCOUNT = product("cco_fin", "Текущий счёт", "Current account")


def offer(
    p: dict[str, Any], rank: int, probability: float = 0.2, uplift: float | None = 0.05
) -> dict[str, Any]:
    return {
        "product": p,
        "rank": rank,
        "probability": probability,
        "uplift": uplift,
        "expectedValue": 3.5,
        "reasonCodes": ["salary_rise"],
        "reasons": [
            {"feature": "ops_spend_6m", "contribution": 0.1, "text": "траты растут"},
            {"feature": "age", "contribution": 0.4, "text": "возраст"},
        ],
        "reasonTexts": ["Зарплата выросла"],
        "explanation": f"{p['nameRu']}: подходит вам",
        "texts": [  # as web/api_client.py's OFFER asks: both languages, the app shows one
            {
                "language": "RU",
                "explanation": f"{p['nameRu']}: подходит вам",
                "reasonTexts": ["Зарплата выросла"],
            },
            {"language": "EN", "explanation": f"{p['nameEn']}: suits you", "reasonTexts": ["Salary went up"]},
        ],
        "explanationSource": "template",
    }


def recommendation(*offers: dict[str, Any], no_contact: str | None = None) -> dict[str, Any]:
    return {
        "id": "1",
        "clientId": "7",
        "strategy": "UPLIFT_RULES",
        "modelVersion": "v1",
        "createdAt": "2026-01-01T10:00:00+00:00",
        "noContactReason": no_contact,
        "offers": list(offers),
    }


COMPARISON = {
    "version": "v1",
    "createdAt": "2026-01-02T09:30:00+00:00",
    "strategies": [
        {
            "strategy": "hybrid",
            "metrics": {"map@7": 0.018, "ndcg@7": 0.03, "coverage": 0.8, "per_product_recall": {}},
        },
        {"strategy": "popularity", "metrics": {"map@7": 0.019, "ndcg@7": 0.031, "coverage": 0.3}},
    ],
    "uplift": {
        "products": {
            "tjcr_fin": {"rows": 500, "random": {"qini": 0.012}, "targeted_aipw": {"qini": 0.02}},
            "dela_fin": {"rows": 300, "targeted_aipw": {"qini": -0.001}, "mean_predicted_uplift": 0.01},
        }
    },
    "policy": {
        "budget_share": 0.2,
        "candidates": ["tjcr_fin"],
        "uplift": {"incremental_conversions": 41.5, "policy_value_dr": 0.004, "share_of_oracle": 0.6},
        "random": {"incremental_conversions": 10.0, "policy_value_dr": 0.001},
    },
}


class FakeApi:
    """Answers the operations the web app sends; `calls` records (operation, variables, auth)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []
        self.down = False
        self.recommendations: list[dict[str, Any]] = [recommendation(offer(CARD, 1), offer(DEPOSIT, 2))]
        self.errors: dict[str, tuple[str, str]] = {}  # operation -> (message, code)
        self.comparison: dict[str, Any] | None = COMPARISON
        self.operations = [
            {
                "id": str(i),
                "occurredAt": f"2026-01-{i:02d}T12:00:00+00:00",
                "amount": -10.0 * i,
                "category": "groceries",
                "description": f"shop {i}",
            }
            for i in range(1, 26)
        ]

    OPERATIONS = (
        "demoLogin",
        "analystLogin",
        "registerClient",
        "addOperation",
        "respondToOffer",
        "markNotificationRead",
        "takeProduct",
        "clientProbabilities",
        "productProfiles",
        "modelComparison",
        "recommendations",
        "notifications",
        "clients",
        "products",
        "client",
        "me",
    )

    def operation(self, query: str) -> str:
        for name in self.OPERATIONS:
            if f"{name}(" in query or f"{name} {{" in query:
                return name
        raise AssertionError(f"unexpected query {query}")

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content)
        name = self.operation(body["query"])
        variables = body.get("variables") or {}
        self.calls.append((name, variables, request.headers.get("authorization")))
        if name == "analystLogin" and variables.get("p") != "secret":
            self.errors.setdefault(name, ("wrong password", "UNAUTHENTICATED"))
        if name in self.errors:
            message, code = self.errors[name]
            return httpx.Response(
                200, json={"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
            )
        return httpx.Response(200, json={"data": {name: self.answer(name, variables)}})

    def answer(self, name: str, v: dict[str, Any]) -> Any:
        if name == "clients":
            rows = [
                {"id": str(i), "age": 30 + i, "segment": "individual", "income": 50000.0, "nProducts": 2}
                for i in (7, 8, 17)
            ]
            return [r for r in rows if not v.get("search") or v["search"] in r["id"]][: v.get("first", 20)]
        if name == "demoLogin":
            return {
                "token": f"tok-{v['id']}",
                "role": "CLIENT",
                "clientId": v["id"],
                "expiresAt": "2030-01-01T00:00:00Z",
            }
        if name == "analystLogin":
            return {
                "token": "tok-analyst",
                "role": "ANALYST",
                "clientId": None,
                "expiresAt": "2030-01-01T00:00:00Z",
            }
        if name == "me":
            return {
                "id": "7",
                "age": 37,
                "sex": "V",
                "income": 50000.0,
                "segment": "individual",
                "joinChannel": "KHE",
                "provinceCode": "28",
                "language": "RU",
                "marketingConsent": True,
                "holdings": [{"since": "2015-02-28", "product": ACCOUNT}],
            }
        if name == "recommendations":
            rec = self.recommendations[0] if len(self.recommendations) == 1 else self.recommendations.pop(0)
            return {**rec, "strategy": v.get("s", "UPLIFT_RULES")}
        if name == "takeProduct":
            me = self.answer("me", {})
            taken = next(
                o["product"] for o in self.recommendations[0]["offers"] if o["product"]["code"] == v["p"]
            )
            return {**me, "holdings": [*me["holdings"], {"since": "2026-01-01", "product": taken}]}
        if name == "respondToOffer":
            rest = [o for o in self.recommendations[0]["offers"] if o["product"]["code"] != v["p"]]
            return recommendation(*rest, offer(PENSION, len(rest) + 1))
        if name == "notifications":
            return [
                {
                    "id": "n1",
                    "clientId": "7",
                    "createdAt": "2026-01-01T10:00:00+00:00",
                    "kind": "offer",
                    "title": "Старое",
                    "body": "старое уведомление",
                    "readAt": None,
                    "product": None,
                }
            ]
        if name == "markNotificationRead":
            return {
                "id": v["id"],
                "clientId": "7",
                "createdAt": "2026-01-01T10:00:00+00:00",
                "kind": "offer",
                "title": "Старое",
                "body": "",
                "readAt": "2026-01-03T10:00:00+00:00",
                "product": None,
            }
        if name == "client":
            ops = [o for o in self.operations if not v.get("cat") or o["category"] == v["cat"]]
            start = int(v["after"]) if v.get("after") else 0
            page = ops[start : start + v["first"]]
            edges = [{"cursor": str(start + i + 1), "node": o} for i, o in enumerate(page)]
            end = start + len(page)
            return {
                "id": v["id"],
                "operations": {
                    "totalCount": len(ops),
                    "pageInfo": {"hasNextPage": end < len(ops), "endCursor": str(end) if page else None},
                    "edges": edges,
                },
            }
        if name == "addOperation":
            node = {
                "id": "99",
                "occurredAt": v["input"]["occurredAt"],
                **{k: v["input"][k] for k in ("amount", "category")},
            }
            return {**node, "description": v["input"].get("description")}
        if name == "registerClient":
            client = {**self.answer("me", {}), "id": "501", "holdings": []}
            return {"token": "tok-501", "client": client, "recommendation": recommendation(offer(ACCOUNT, 1))}
        if name == "modelComparison":
            return self.comparison
        if name == "products":
            return [CARD, DEPOSIT, PENSION, ACCOUNT]
        if name == "productProfiles":
            return [
                {
                    "productCode": "tjcr_fin",
                    "holders": 120,
                    "profile": {
                        "holders": {
                            "clients": 120,
                            "age": 41.0,
                            "income": 60000.0,
                            "products_held": 3.0,
                            "segment": "individual",
                            "sex": "V",
                            "percentile_ranks": {"age": 58.5, "income": 81.0, "products_held": 92.0},
                        },
                        "recent_adopters": {
                            "clients": 12,
                            "age": 35.0,
                            "income": 52000.0,
                            "percentile_ranks": {"age": 40.0, "income": 74.5},
                        },
                        "all_clients": {"clients": 900, "age": 38.0, "income": 31000.0, "products_held": 1.0},
                    },
                },
                {
                    "productCode": "dela_fin",
                    "holders": 40,
                    "profile": {"holders": {"clients": 40, "age": 55.0}},
                },
            ]
        if name == "clientProbabilities":
            return [
                {"product": CARD, "probability": 0.12, "held": False},
                {"product": ACCOUNT, "probability": 0.0, "held": True},
                {"product": DEPOSIT, "probability": 0.31, "held": False},
            ]
        raise AssertionError(name)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


def substate(cls: type[rx.State]) -> Any:
    """A fresh instance of `cls` inside a fresh state tree (as the app would hold it)."""
    root = rx.State(_reflex_internal_init=True)
    state: Any = root
    for name in cls.get_full_name().split(".")[1:]:
        state = state.substates[name]
    assert isinstance(state, cls)
    return state


async def drive(result: Any) -> list[Any]:
    """Run an event handler's result (None, a coroutine or an async generator) to the end;
    the events it returned or yielded."""
    events: list[Any] = []
    if result is None:
        return events
    if hasattr(result, "__aiter__"):
        gen: AsyncIterator[Any] = result
        async for event in gen:
            if event is not None:
                events.append(event)
        return events
    if hasattr(result, "__await__"):
        value = await result
        if value is not None:
            events.append(value)
        return events
    events.append(result)
    return events


def event_names(events: list[Any]) -> list[str]:
    """Readable names of handler results: 'redirect:/path' or the chained handler's name."""
    out = []
    for e in events:
        handler = getattr(e, "handler", e)
        fn: Callable[..., Any] | None = getattr(handler, "fn", None)
        name = str(getattr(fn, "__qualname__", e)).split(".")[-1]
        if name == "_redirect":
            args = dict((str(k), getattr(v, "_var_value", v)) for k, v in e.args)
            out.append(f"redirect:{args.get('path')}")
        else:
            out.append(name)
    return out
