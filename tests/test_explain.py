"""core.explain: template texts, guardrails, and the LLM clients against a real HTTP server.

The LLM server is a real uvicorn + Starlette app on a free loopback port, speaking the
OpenAI chat-completions protocol and YandexGPT's native completion API. It records every
request (path, headers, raw body) and answers per a mode the test sets: a good answer, a
slow one, HTTP 500, malformed JSON, the wrong language, a forbidden promise, or an answer
that does not name the product.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.domain import LIFE_EVENTS, OPERATION_CATEGORIES
from core.explain import (
    CircuitBreaker,
    ClientFacts,
    Explanation,
    ExplanationRequest,
    GuardedExplainer,
    OpenAICompatExplainer,
    TemplateExplainer,
    YandexExplainer,
    build_messages,
    check,
    client_facts,
    feature_phrase,
    make_explainer,
    model_uri,
    reason_texts,
    render,
)
from core.explain import template as tpl
from core.explain.claim_check import claims_in
from core.settings import Settings

GOOD_EN = (
    "Our offer for you: Credit card. You spent a lot on travel this month, and the card suits your trips."
)
GOOD_RU = "Кредитная карта вам подойдёт: в этом месяце вы много потратили на поездки."
SLOW_S = 1.0
TIMEOUT_S = 0.3

# --- the fake-but-real LLM server ------------------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    raw: str

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class LLMServer:
    url: str = ""
    mode: str = "good"
    good_answer: str = GOOD_EN
    requests: list[Recorded] = field(default_factory=list)

    def answer_text(self) -> str:
        return {
            "wrong_language": "Кредитная карта подойдёт вам для поездок.",
            "guaranteed": "Credit card: approval is guaranteed for you!",
            "no_product": "This offer suits your travel habits well.",
        }.get(self.mode, self.good_answer)


def _app(state: LLMServer) -> Starlette:
    async def reply(request: Request, native: bool) -> Response:
        raw = (await request.body()).decode()
        state.requests.append(Recorded(request.url.path, dict(request.headers), raw))
        if state.mode == "slow":
            await asyncio.sleep(SLOW_S)
        if state.mode == "http500":
            return JSONResponse({"error": "boom"}, status_code=500)
        if state.mode == "malformed":
            return Response('{"choices": [', media_type="application/json")
        text = state.answer_text()
        if native:
            alt = {"message": {"role": "assistant", "text": text}, "status": "ALTERNATIVE_STATUS_FINAL"}
            return JSONResponse({"result": {"alternatives": [alt], "modelVersion": "test"}})
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return JSONResponse({"id": "x", "object": "chat.completion", "choices": [choice]})

    async def chat(request: Request) -> Response:
        return await reply(request, native=False)

    async def yandex(request: Request) -> Response:
        return await reply(request, native=True)

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/foundationModels/v1/completion", yandex, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
def llm_server() -> Iterator[LLMServer]:
    state = LLMServer()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        _app(state), log_level="warning", lifespan="off", timeout_graceful_shutdown=1, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test LLM server did not start")
        time.sleep(0.01)
    state.url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def server(llm_server: LLMServer) -> LLMServer:
    llm_server.mode = "good"
    llm_server.good_answer = GOOD_EN
    llm_server.requests.clear()
    return llm_server


# --- requests ------------------------------------------------------------------------------

FACTS = client_facts(38, 45_000.0, ["travel", "restaurants"], "individual", ["travel"])
CODES = ("BEST_OFFER", "UPLIFT_HIGH", "LIFE_EVENT_TRAVEL")
FEATURES = (("op_travel_cnt_3m", 0.41), ("hold_cco_fin_l0", 0.22), ("age", 0.1), ("log_income", -0.3))


def make_request(
    language: str = "en", code: str = "tjcr_fin", facts: ClientFacts = FACTS, **kw: Any
) -> ExplanationRequest:
    name = "Credit card" if language == "en" else "Кредитная карта"
    codes = kw.pop("reason_codes", CODES)
    return ExplanationRequest(
        product_code=code,
        product_name=kw.pop("product_name", name),
        product_kind=kw.pop("product_kind", "bank"),
        language=language,  # type: ignore[arg-type]
        reason_codes=codes,
        reason_texts=reason_texts(codes, language) if language in ("ru", "en") else (),  # type: ignore[arg-type]
        top_features=kw.pop("top_features", FEATURES),
        facts=facts,
    )


def openai(server: LLMServer, **kw: Any) -> OpenAICompatExplainer:
    return OpenAICompatExplainer(f"{server.url}/v1", "test-model", "sk-test-key", **kw)


def yandex(server: LLMServer, **kw: Any) -> YandexExplainer:
    return YandexExplainer("yc-test-key", "b1gfolder", base_url=server.url, **kw)


def guarded(primary: Any, **kw: Any) -> GuardedExplainer:
    return GuardedExplainer(primary, TemplateExplainer(), timeout_s=TIMEOUT_S, **kw)


# --- request shapes ------------------------------------------------------------------------


async def test_openai_request_shape(server: LLMServer) -> None:
    req = make_request()
    result = await openai(server).explain(req)
    assert result == Explanation(GOOD_EN, "openai", None)
    (rec,) = server.requests
    assert rec.path == "/v1/chat/completions"
    assert rec.headers["authorization"] == "Bearer sk-test-key"
    body = rec.body
    assert set(body) == {"model", "messages", "max_tokens", "temperature"}
    assert body["model"] == "test-model"
    assert isinstance(body["max_tokens"], int) and isinstance(body["temperature"], float)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert all(set(m) == {"role", "content"} for m in body["messages"])
    assert "Credit card" in body["messages"][1]["content"]
    assert body["messages"] == build_messages(req)


async def test_yandex_request_shape(server: LLMServer) -> None:
    server.good_answer = GOOD_RU
    result = await yandex(server).explain(make_request("ru"))
    assert result == Explanation(GOOD_RU, "yandex", None)
    (rec,) = server.requests
    assert rec.path == "/foundationModels/v1/completion"
    assert rec.headers["authorization"] == "Api-Key yc-test-key"
    assert rec.headers["x-folder-id"] == "b1gfolder"
    body = rec.body
    assert set(body) == {"modelUri", "completionOptions", "messages"}
    assert body["modelUri"] == "gpt://b1gfolder/yandexgpt-lite/latest"
    assert body["completionOptions"] == {"stream": False, "temperature": 0.3, "maxTokens": "300"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert all(set(m) == {"role", "text"} and m["text"] for m in body["messages"])
    assert "Кредитная карта" in body["messages"][1]["text"]


def test_model_uri() -> None:
    assert model_uri("f1") == "gpt://f1/yandexgpt-lite/latest"
    assert model_uri("f1", "yandexgpt") == "gpt://f1/yandexgpt/latest"
    assert model_uri("f1", "yandexgpt/rc") == "gpt://f1/yandexgpt/rc"
    assert model_uri("f1", "gpt://f2/custom/latest") == "gpt://f2/custom/latest"


async def test_guarded_passes_good_answer(server: LLMServer) -> None:
    result = await guarded(openai(server)).explain(make_request())
    assert result == Explanation(GOOD_EN, "openai", None)


# --- fallbacks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("slow", "timeout"),
        ("http500", "http status 500"),
        ("malformed", "bad response"),
        ("wrong_language", "guardrail: wrong language"),
        ("guaranteed", "guardrail: forbidden promise"),
        ("no_product", "guardrail: product not named"),
    ],
)
async def test_fallback_to_template(
    server: LLMServer, mode: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.mode = mode
    req = make_request()
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="core.explain"):
        result = await guarded(openai(server)).explain(req)
    assert time.monotonic() - started < SLOW_S  # the deadline held
    assert result.text == render(req)
    assert result.source == "template"
    assert result.fallback_reason is not None and result.fallback_reason.startswith(reason)
    assert len(server.requests) == 1
    # Logged: the reason only, never the prompt or the answer.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert reason in logged
    assert "Credit card" not in logged and "travel" not in logged


@pytest.mark.parametrize("mode", ["http500", "malformed", "guaranteed"])
async def test_yandex_fallback(server: LLMServer, mode: str) -> None:
    server.mode = mode
    req = make_request("ru")
    result = await guarded(yandex(server)).explain(req)
    assert (result.text, result.source) == (render(req), "template")
    assert result.fallback_reason


async def test_connection_refused_falls_back() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = await guarded(OpenAICompatExplainer(f"http://127.0.0.1:{port}/v1", "m")).explain(make_request())
    assert result.source == "template"
    assert result.fallback_reason is not None and result.fallback_reason.startswith("http error")


async def test_circuit_breaker_opens_and_recovers(server: LLMServer) -> None:
    now = [1000.0]
    breaker = CircuitBreaker(failures=5, reset_after_s=30.0, clock=lambda: now[0])
    explainer = guarded(openai(server), breaker=breaker)
    server.mode = "http500"
    for _ in range(5):
        assert (await explainer.explain(make_request())).fallback_reason == "http status 500"
    assert breaker.state == "open" and len(server.requests) == 5
    for _ in range(3):
        result = await explainer.explain(make_request())
        assert (result.source, result.fallback_reason) == ("template", "circuit open")
    assert len(server.requests) == 5  # the server is no longer called
    now[0] += 31.0  # half-open: one trial, which fails and reopens the breaker
    assert (await explainer.explain(make_request())).fallback_reason == "http status 500"
    assert breaker.state == "open" and len(server.requests) == 6
    assert (await explainer.explain(make_request())).fallback_reason == "circuit open"
    now[0] += 31.0  # the next trial succeeds and closes it
    server.mode = "good"
    assert (await explainer.explain(make_request())).source == "openai"
    assert breaker.state == "closed" and len(server.requests) == 7


def test_breaker_half_open_lets_one_trial() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_after_s=10.0, clock=lambda: now[0])
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.allow() and breaker.state == "half_open"
    assert not breaker.allow()  # a second caller during the trial
    breaker.abandon()  # the trial was cancelled: the next caller may try
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


async def test_guardrail_failure_does_not_open_breaker(server: LLMServer) -> None:
    breaker = CircuitBreaker(failures=2)
    explainer = guarded(openai(server), breaker=breaker)
    server.mode = "no_product"
    for _ in range(3):
        await explainer.explain(make_request())
    assert breaker.state == "closed" and len(server.requests) == 3


async def test_cache_hit_second_time(server: LLMServer) -> None:
    explainer = guarded(openai(server))
    req = make_request()
    first = await explainer.explain(req)
    # Another client with the same buckets and feature names (other contributions): a hit.
    same = make_request(top_features=tuple((name, value * 2) for name, value in FEATURES))
    second = await explainer.explain(same)
    assert first == Explanation(GOOD_EN, "openai", None)
    assert second == Explanation(GOOD_EN, "cache", None)
    assert len(server.requests) == 1
    server.good_answer = GOOD_RU
    assert (await explainer.explain(make_request("ru"))).source == "openai"  # another key
    assert len(server.requests) == 2


async def test_fallbacks_are_not_cached(server: LLMServer) -> None:
    explainer = guarded(openai(server))
    server.mode = "http500"
    assert (await explainer.explain(make_request())).source == "template"
    server.mode = "good"
    assert (await explainer.explain(make_request())).source == "openai"
    assert len(explainer.cache) == 1


def test_lru_cache_is_bounded() -> None:
    from core.explain import LRUCache

    cache = LRUCache(maxsize=2)
    cache.put("a", "1")
    cache.put("b", "2")
    assert cache.get("a") == "1"  # "a" is now the most recent
    cache.put("c", "3")
    assert cache.get("b") is None and cache.get("a") == "1" and len(cache) == 2


# --- privacy -------------------------------------------------------------------------------


async def test_no_pii_reaches_the_provider(server: LLMServer) -> None:
    client = {
        "id": 987654,
        "name": "Ivan Petrovich Sidorov",
        "income": 123456.78,
        "birth_date": "1987-03-14",
        "age": 38,
        "segment": "individual",
        "categories": ["travel", "restaurants", "groceries", "auto"],
        "life_events": ["travel"],
    }
    facts = client_facts(
        client["age"], client["income"], client["categories"], client["segment"], client["life_events"]
    )
    assert facts == ClientFacts(
        "35-44", "middle", ("travel", "restaurants", "groceries"), "individual", ("travel",)
    )
    for language in ("en", "ru"):
        req = make_request(language, facts=facts)
        server.good_answer = GOOD_EN if language == "en" else GOOD_RU
        await guarded(openai(server)).explain(req)
        await guarded(yandex(server)).explain(req)
    assert len(server.requests) == 4
    for rec in server.requests:
        sent = rec.raw + json.dumps(rec.body, ensure_ascii=False)
        for secret in ("987654", "123456", "1987-03-14", "1987", "Ivan", "Sidorov", "14.03"):
            assert secret not in sent


# --- guardrails ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "language", "problem"),
    [
        (GOOD_EN, "en", None),
        (GOOD_RU, "ru", None),
        ("Вам подойдёт кредитная карта: вы много тратите на путешествия.", "ru", None),  # other words
        # One month's large travel spending is not "you travel a lot" (regular travel is).
        ("Вам подойдёт кредитная карта: вы много путешествуете.", "ru", "false claim"),
        ("Credit card suits you: you travel a lot.", "en", "false claim"),
        ("Оформите кредитную карту для поездок.", "ru", None),  # declined
        ("Our offer: tjcr_fin for your trips.", "en", None),  # the code counts
        ("", "en", "empty answer"),
        ("Credit card. " + "You travel a lot. " * 40, "en", "too long"),
        ("Credit card fits you.", "ru", "wrong language"),
        ("Кредитная карта вам подойдёт.", "en", "wrong language"),
        ("Your Credit card is pre-approved.", "en", "forbidden promise"),
        ("Кредитная карта уже одобрена для вас.", "ru", "forbidden promise"),
        ("Кредитная карта — гарантированно лучший выбор.", "ru", "forbidden promise"),
        ("Credit card: 100% cashback on trips.", "en", "forbidden promise"),
        ("Credit card with a low interest rate.", "en", "rate or percentage"),
        ("Credit card with 5 % cashback.", "en", "rate or percentage"),
        ("Кредитная карта со ставкой ниже рынка.", "ru", "rate or percentage"),
        ("Credit card with a limit of 3000 euro.", "en", "number not in the request"),
        ("Credit card, write to ivan@example.com.", "en", "possible personal data"),
        ("Credit card, call +34 612 345 678.", "en", "possible personal data"),
        ("Credit card for your trips since 14.03.1987.", "en", "possible personal data"),
        ("A card with travel perks for you.", "en", "product not named"),
        ("Карта для ваших поездок.", "ru", "product not named"),
    ],
)
def test_guardrails(answer: str, language: str, problem: str | None) -> None:
    found = check(answer, make_request(language))
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


def test_guardrails_allow_numbers_given_in_the_request() -> None:
    req = make_request()  # age band 35-44
    assert check("Credit card is popular with clients aged 35-44.", req) is None


# --- template ------------------------------------------------------------------------------


def test_template_ru_en() -> None:
    en, ru = render(make_request("en")), render(make_request("ru"))
    assert "Credit card" in en and "Кредитная карта" in ru
    assert en != ru
    for text, language in ((en, "en"), (ru, "ru")):
        assert 0 < len(text) < tpl.MAX_CHARS
        assert 1 <= text.count(". ") + 1 <= 3
        assert check(text, make_request(language)) is None  # the template passes its own rules
    assert "travel" in en and "поездк" in ru  # the travel life event / spending
    assert en.count("travel") == 1  # the event and the spending are one reason
    assert "35" not in en and "45000" not in en  # buckets, not numbers


def test_template_is_deterministic() -> None:
    req = make_request("ru")
    assert {render(req) for _ in range(5)} == {render(make_request("ru"))}


async def test_template_explainer() -> None:
    req = make_request()
    assert await TemplateExplainer().explain(req) == Explanation(render(req), "template", None)


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize(
    "codes",
    [(), ("EXPLORATION", "UPLIFT_POSITIVE"), ("DIVERSITY_ALTERNATIVE", "UPLIFT_UNKNOWN_P_TAKE_USED")]
    + [("SURE_THING_REPLACED", f"LIFE_EVENT_{e.upper()}", "PARTNER_OFFER") for e in LIFE_EVENTS],
)
def test_template_always_valid(language: str, codes: tuple[str, ...]) -> None:
    partner = "PARTNER_OFFER" in codes
    name = (
        ("Partner travel discount" if language == "en" else "Скидка на путешествия у партнёра")
        if partner
        else None
    )
    kw: dict[str, Any] = {"reason_codes": codes, "top_features": (("mystery_feature", 1.0), ("sex", 2.0))}
    if name:
        kw |= {"product_name": name, "product_kind": "partner"}
    req = make_request(language, code="partner_travel" if partner else "tjcr_fin", **kw)
    text = render(req)
    assert check(text, req) is None
    assert len(text) < tpl.MAX_CHARS


def test_template_long_name_stays_under_limit() -> None:
    req = make_request(product_name="Credit card " + "with a very long name " * 30)
    assert len(render(req)) < tpl.MAX_CHARS


def test_feature_phrases() -> None:
    assert feature_phrase("op_travel_cnt_3m") == tpl.CATEGORY_PHRASES["travel"]
    assert feature_phrase("op_loan_payment_recency_days") == tpl.CATEGORY_PHRASES["loan_payment"]
    assert feature_phrase("hold_cco_fin_l0") is not None
    assert "Current account" in feature_phrase("hold_cco_fin_l0")[1]  # type: ignore[index]
    # A past month's holding reads "you used to have" (said only when true, see below).
    assert "used to have our Current account" in feature_phrase("hold_cco_fin_l6")[1]  # type: ignore[index]
    nothing = ClientFacts("unknown", "unknown")
    assert feature_phrase("hold_cco_fin_l0", nothing) is None  # not held: no phrase at all
    assert feature_phrase("hold_cco_fin_l6", ClientFacts("unknown", "unknown", held=("cco_fin",))) == (
        feature_phrase("hold_cco_fin_l0")
    )
    assert feature_phrase("n_add_3m") == feature_phrase("n_add_tjcr_fin") != tpl.GENERIC_PHRASE
    for name in ("age", "log_income", "salary_months_6m", "cluster", "ops_cnt_1m"):
        assert feature_phrase(name) not in (None, tpl.GENERIC_PHRASE), name
    assert feature_phrase("sex") is None
    assert feature_phrase("something_new") == tpl.GENERIC_PHRASE
    assert set(tpl.CATEGORY_PHRASES) == set(OPERATION_CATEGORIES) == set(tpl.CATEGORY_WORDS)
    assert set(tpl.EVENT_PHRASES) == set(LIFE_EVENTS) == set(tpl.EVENT_TOPICS)


def test_negative_contributions_are_not_reasons() -> None:
    req = make_request(
        reason_codes=(), top_features=(("op_cash_cnt_3m", -0.9),), facts=ClientFacts("unknown", "unknown")
    )
    assert "cash" not in render(req)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_partner_offer_is_explained_by_its_own_topic_only(language: str) -> None:
    """A partner offer carries the model reasons of the bank product it stands in for: a
    travel discount is explained by travel, never by spending on children, true as that is."""
    facts = client_facts(38, 45_000.0, held=("tjcr_fin",), frequent_categories=("kids", "travel"))
    kids_first = (("op_kids_cnt_3m", 0.5), ("op_travel_cnt_3m", 0.2), ("hold_tjcr_fin_l0", 0.1))
    codes = ("SURE_THING_REPLACED", "PARTNER_OFFER")

    def said(code: str, topics: tuple[str, ...], features: Any = kids_first) -> set[str]:
        req = dataclasses.replace(
            make_request(language, code, facts, reason_codes=codes, top_features=features),
            product_kind="partner",
            topics=topics,
        )
        return {c.id for c in claims_in(render(req), language)}  # type: ignore[arg-type]

    assert said("partner_travel", ()) >= {"category:kids", "category:travel"}  # unrestricted
    assert said("partner_travel", ("travel",)) == {"category:travel"}
    assert said("partner_kids", ("kids",)) == {"category:kids"}
    # Nothing of its topic: no reason about the client at all, the generic one instead.
    assert said("partner_home", ("home",)) == {"generic"}
    assert said("partner_travel", ("travel",), (("op_kids_cnt_3m", 0.5),)) == {"generic"}


def test_explanation_requests_carry_a_partner_offers_topics() -> None:
    """What core.services.explanations asks for: a partner offer's life events' topics."""
    from core.services.explanations import _topics

    assert _topics({"kind": "partner", "product_code": "partner_travel"}) == ("travel",)
    assert _topics({"kind": "partner", "product_code": "partner_kids"}) == ("kids",)
    assert _topics({"kind": "bank", "product_code": "tjcr_fin"}) == ()


# --- facts and requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (None, "unknown"),
        (-1, "unknown"),
        (0, "<18"),
        (17, "<18"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (44, "35-44"),
        (45, "45-54"),
        (64, "55-64"),
        (65, "65+"),
        (99, "65+"),
    ],
)
def test_age_bands(age: int | None, band: str) -> None:
    assert client_facts(age, None).age_band == band


@pytest.mark.parametrize(
    ("income", "band"),
    [
        (None, "unknown"),
        (float("nan"), "unknown"),
        (-5.0, "unknown"),
        (0.0, "low"),
        (59_999.99, "low"),
        (60_000.0, "middle"),
        (149_999.0, "middle"),
        (150_000.0, "high"),
    ],
)
def test_income_bands(income: float | None, band: str) -> None:
    assert client_facts(30, income).income_band == band


def test_facts_validation() -> None:
    facts = client_facts(
        30, 1.0, ["travel", "travel", "cash", "auto", "kids"], None, ["travel", "child", "travel"]
    )
    assert facts.recent_categories == ("travel", "cash", "auto")
    assert facts.life_events == ("child", "travel")
    with pytest.raises(ValueError, match="recent_categories"):
        client_facts(30, 1.0, ["Ivan's pharmacy"])
    with pytest.raises(ValueError, match="segment"):
        client_facts(30, 1.0, segment="vip")
    with pytest.raises(ValueError, match="life_events"):
        client_facts(30, 1.0, life_events=["wedding"])
    with pytest.raises(ValueError, match="language"):
        make_request("de")
    assert reason_texts(["BEST_OFFER", "NO_SUCH_CODE", "debt_burden"], "en") == (
        "The highest expected value",
        "Credit payments would exceed the allowed share of income",
    )


# --- settings ------------------------------------------------------------------------------


def _settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {
        "llm_provider": "template",
        "llm_base_url": None,
        "llm_api_key": None,
        "llm_model": None,
        "yandex_folder_id": None,
        "llm_timeout_s": 3.0,
    }
    return Settings(**(base | kw))


def test_make_explainer() -> None:
    assert isinstance(make_explainer(_settings()), TemplateExplainer)
    llm = make_explainer(
        _settings(llm_provider="openai", llm_base_url="http://x/v1", llm_model="m", llm_timeout_s=1.5)
    )
    assert isinstance(llm, GuardedExplainer) and isinstance(llm.primary, OpenAICompatExplainer)
    assert llm.timeout_s == 1.5
    ya = make_explainer(
        _settings(
            llm_provider="Yandex",
            llm_api_key=SecretStr("SECRET-KEY-1"),
            yandex_folder_id="f",
            llm_model="yandexgpt",
        )
    )
    assert isinstance(ya, GuardedExplainer) and isinstance(ya.primary, YandexExplainer)
    assert ya.primary.model_uri == "gpt://f/yandexgpt/latest"
    assert ya.primary.url == "https://llm.api.cloud.yandex.net/foundationModels/v1/completion"
    assert "SECRET-KEY-1" not in repr(ya.primary)
    with pytest.raises(ValueError, match="LLM_BASE_URL"):
        make_explainer(_settings(llm_provider="openai", llm_model="m"))
    with pytest.raises(ValueError, match="LLM_MODEL"):
        make_explainer(_settings(llm_provider="openai", llm_base_url="http://x/v1"))
    with pytest.raises(ValueError, match="YANDEX_FOLDER_ID"):
        make_explainer(_settings(llm_provider="yandex", llm_api_key=SecretStr("k")))
    with pytest.raises(ValueError, match="LLM_API_KEY"):
        make_explainer(_settings(llm_provider="yandex", yandex_folder_id="f"))
    with pytest.raises(ValueError, match="llm_provider"):
        make_explainer(_settings(llm_provider="gigachat"))
