"""The web app's State classes, driven directly: the GraphQL API is faked at the HTTP
boundary (httpx.MockTransport), subscriptions by a real local graphql-transport-ws server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from web_fakes import CARD, DEPOSIT, PENSION, FakeApi, drive, event_names, offer, recommendation, substate

import web.web  # noqa: F401  (registers every state, as the running app does)
from web import api_client
from web.i18n import LABELS, TEXTS, texts
from web.state import history as history_module
from web.state.analytics import AnalyticsState
from web.state.base import error_text
from web.state.client import ClientState
from web.state.history import HistoryState, validate_operation
from web.state.home import HomeState
from web.state.login import LoginState
from web.state.register import RegisterState, validate_registration
from web.views import panel


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()
    api_client.set_transport(httpx.MockTransport(fake.handler))
    yield fake
    api_client.set_transport(None)


def logged_in(cls: type, client_id: str = "7") -> Any:
    state = substate(cls)
    state.token, state.role, state.client_id = f"tok-{client_id}", "CLIENT", client_id
    return state


# --- i18n ------------------------------------------------------------------------------------


def test_every_text_has_both_languages_and_russian_is_default() -> None:
    assert all(len(pair) == 2 and all(pair) for pair in TEXTS.values())
    assert all(all(len(p) == 2 for p in group.values()) for group in LABELS.values())
    assert texts("fr") == texts("ru")
    state = substate(LoginState)
    assert state.lang == "ru" and state.t["login_title"] == TEXTS["login_title"][0]
    state.toggle_lang()
    assert state.t["login_title"] == TEXTS["login_title"][1]


# --- login -------------------------------------------------------------------------------------


async def test_login_lists_clients_searches_and_logs_in(api: FakeApi) -> None:
    state = substate(LoginState)
    await drive(state.on_load())
    assert [c.id for c in state.clients] == ["7", "8", "17"]
    assert "Частный клиент" in state.clients[0].details
    await drive(state.set_search("17"))
    assert [c.id for c in state.clients] == ["17"]
    assert api.calls[-1][1]["search"] == "17"

    events = await drive(state.login("7"))
    assert event_names(events) == ["redirect:/"]
    assert (state.token, state.role, state.client_id) == ("tok-7", "CLIENT", "7")


async def test_login_page_shows_api_down(api: FakeApi) -> None:
    api.down = True
    state = substate(LoginState)
    await drive(state.on_load())
    assert state.clients == [] and state.clients_error == texts("ru")["api_down"]
    events = await drive(state.login("7"))
    assert events == [] and state.token == "" and state.login_error == texts("ru")["api_down"]


async def test_analyst_login(api: FakeApi) -> None:
    state = substate(LoginState)
    state.set_analyst_password("nope")
    assert await drive(state.analyst_login()) == []
    assert "wrong password" in state.analyst_error and state.token == ""
    api.errors.clear()
    state.set_analyst_password("secret")
    assert event_names(await drive(state.analyst_login())) == ["redirect:/analytics"]
    assert state.role == "ANALYST" and state.analyst_password == ""


# --- home ----------------------------------------------------------------------------------------


async def test_home_redirects_without_a_session(api: FakeApi) -> None:
    assert event_names(await drive(substate(HomeState).on_load())) == ["redirect:/login"]
    assert api.calls == []


async def test_home_loads_products_and_offers(api: FakeApi) -> None:
    state = logged_in(HomeState)
    assert await drive(state.on_load()) == []
    assert {c[2] for c in api.calls} == {"Bearer tok-7"}
    assert [h.name for h in state.holdings] == ["Текущий счёт"]
    cards = state.offer_cards
    assert [c.code for c in cards] == ["tjcr_fin", "dela_fin"]
    best = cards[0]
    assert best.is_best and best.badge == texts("ru")["best_offer"]
    assert best.probability == "20.0%" and best.uplift == "+5.0%"
    assert best.reasons == [
        "Зарплата выросла",
        "возраст",
        "траты растут",
    ]  # rule text, then by |contribution|
    assert best.alternatives == "Депозит"
    assert state.unread == 1 and state.notifications[0].title == "Старое"
    assert best.explanation.endswith(": подходит вам")
    state.toggle_lang()
    assert state.offer_cards[0].name == "Credit card" and state.holdings[0].name == "Current account"
    # The switch re-renders the offers' texts too (both languages came with the offers).
    best = state.offer_cards[0]
    assert best.explanation == "Credit card: suits you" and best.reasons[0] == "Salary went up"


async def test_offer_responses_keep_the_answered_card_and_add_new_offers(api: FakeApi) -> None:
    state = logged_in(HomeState)
    await drive(state.on_load())
    await state.respond("dela_fin", "DECLINE")
    assert api.calls[-1][0] == "respondToOffer"
    assert api.calls[-1][1] == {"id": "7", "p": "dela_fin", "r": "DECLINE"}
    cards = state.offer_cards
    assert [c.code for c in cards] == ["dela_fin", "tjcr_fin", "plan_fin"]
    assert cards[0].responded and cards[0].response_text == texts("ru")["responded_DECLINE"]
    assert not cards[1].responded
    await state.respond("tjcr_fin", "ACCEPT")
    assert api.names()[-2:] == ["respondToOffer", "takeProduct"]
    assert [h.code for h in state.holdings] == ["cco_fin", "tjcr_fin"]
    await state.respond("plan_fin", "BOGUS")
    assert api.calls[-1][0] != "respondToOffer" or api.calls[-1][1]["p"] != "plan_fin"


async def test_home_empty_and_no_model_states(api: FakeApi) -> None:
    api.recommendations = [recommendation(no_contact="contact policy: offered 3 days ago")]
    state = logged_in(HomeState)
    await drive(state.on_load())
    assert not state.has_offers and state.no_contact_reason.startswith("contact policy")
    api.errors["recommendations"] = ("no trained model set: run `recsys train` first", "NOT_FOUND")
    await drive(state.reload())
    assert state.no_model and "recsys train" in state.offers_error


# --- notifications (real websocket server speaking graphql-transport-ws) --------------------------


@pytest.fixture
async def ws_api(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from websockets.asyncio.server import serve

    seen: dict[str, Any] = {"init": None, "queries": []}
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def handler(ws: Any) -> None:
        assert ws.subprotocol == "graphql-transport-ws"
        init = json.loads(await ws.recv())
        seen["init"] = init
        if init["payload"].get("token") != "tok-7":
            await ws.close(4403, "Forbidden")
            return
        await ws.send(json.dumps({"type": "connection_ack"}))
        sub = json.loads(await ws.recv())
        seen["queries"].append(sub["payload"]["query"])
        await ws.send(json.dumps({"type": "ping"}))
        while True:
            get, closed = asyncio.ensure_future(outbox.get()), asyncio.ensure_future(ws.wait_closed())
            done, _ = await asyncio.wait({get, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                get.cancel()
                return
            closed.cancel()
            item = get.result()
            await ws.send(
                json.dumps({"id": sub["id"], "type": "next", "payload": {"data": {"notifications": item}}})
            )

    async with serve(handler, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        monkeypatch.setenv("RECSYS_API_URL", f"http://127.0.0.1:{port}/graphql")
        monkeypatch.setattr("web.state.client.LISTEN_POLL_S", 0.1)
        yield seen, outbox


async def test_listener_adds_live_notifications_and_stops_on_logout(ws_api: Any) -> None:
    seen, outbox = ws_api
    state = logged_in(ClientState)
    task = asyncio.create_task(ClientState.listen.fn(state))
    for _ in range(100):
        if state.live:
            break
        await asyncio.sleep(0.05)
    assert state.live and seen["init"]["payload"]["token"] == "tok-7"
    assert "notifications" in seen["queries"][0]
    await drive(ClientState.listen.fn(state))  # a second listener for the same session returns at once
    await outbox.put(
        {
            "id": "n9",
            "clientId": "7",
            "createdAt": "2026-01-05T10:00:00Z",
            "kind": "offer",
            "title": "Новое предложение",
            "body": "Кредитная карта",
            "readAt": None,
            "product": None,
        }
    )
    for _ in range(100):
        if state.notifications:
            break
        await asyncio.sleep(0.05)
    assert state.notifications[0].title == "Новое предложение" and state.unread == 1
    assert state.latest_live == "Новое предложение" and state.live_count == 1
    # With the app in English, a notification that came with its translation reads English
    # (in the bell and in the banner); one without keeps the client's language.
    state.toggle_lang()
    await outbox.put(
        {
            "id": "n11",
            "clientId": "7",
            "createdAt": "2026-01-05T10:01:00Z",
            "kind": "offer",
            "title": "Новое предложение: Депозит",
            "body": "Потому что",
            "readAt": None,
            "product": None,
            "texts": [
                {"language": "RU", "title": "Новое предложение: Депозит", "body": "Потому что"},
                {"language": "EN", "title": "New offer: Deposit", "body": "Because"},
            ],
        }
    )
    for _ in range(100):
        if state.live_count == 2:
            break
        await asyncio.sleep(0.05)
    assert state.latest_live == "New offer: Deposit"
    assert [(n.title, n.body) for n in state.notifications] == [
        ("New offer: Deposit", "Because"),
        ("Новое предложение", "Кредитная карта"),
    ]
    state.logout()
    await asyncio.wait_for(task, 5)
    assert not state.live


async def test_a_live_notification_brings_the_decision_it_tells_to_the_home_page(
    api: FakeApi, ws_api: Any
) -> None:
    _, outbox = ws_api
    state = logged_in(ClientState)
    home = await state.get_state(HomeState)
    home.recommendation = recommendation(offer(PENSION, 1))  # shown before the worker decided
    home.responses = {"plan_fin": "DISMISS"}
    api.recommendations = [recommendation(offer(CARD, 1), offer(DEPOSIT, 2))]  # stored by the worker
    task = asyncio.create_task(ClientState.listen.fn(state))
    for _ in range(100):
        if state.live:
            break
        await asyncio.sleep(0.05)
    await outbox.put(
        {
            "id": "n10",
            "clientId": "7",
            "createdAt": "2026-01-05T10:00:00Z",
            "kind": "offer",
            "title": "Новое предложение: Кредитная карта",
            "body": "…",
            "readAt": None,
            "product": CARD,
        }
    )
    for _ in range(100):
        if [c.code for c in home.offer_cards] == ["tjcr_fin", "dela_fin"]:
            break
        await asyncio.sleep(0.05)
    assert [c.code for c in home.offer_cards] == ["tjcr_fin", "dela_fin"]
    assert home.responses == {} and state.unread == 1
    state.logout()
    await asyncio.wait_for(task, 5)


async def test_listener_reconnects_until_the_session_ends(
    ws_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen, _ = ws_api
    monkeypatch.setattr("web.state.client.RECONNECT_MAX_S", 0.05)
    state = logged_in(ClientState, client_id="8")  # the server refuses tok-8
    task = asyncio.create_task(ClientState.listen.fn(state))
    await asyncio.sleep(0.5)
    assert not state.live and not task.done()
    state.token = ""
    await asyncio.wait_for(task, 5)


async def test_subscription_to_a_dead_api_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECSYS_API_URL", "http://127.0.0.1:9/graphql")
    with pytest.raises(api_client.ApiUnavailable):
        async with api_client.subscribe(api_client.NOTIFICATIONS_SUBSCRIPTION, "tok", ack_timeout=2):
            pass


# --- history -------------------------------------------------------------------------------------


def test_operation_validation() -> None:
    today = date(2026, 3, 1)
    errors, data = validate_operation("abc", "nope", "2026-03-02", "x" * 201, today=today)
    assert data is None
    assert errors == {
        "amount": "err_amount",
        "category": "err_category",
        "date": "err_date",
        "description": "err_description",
    }
    assert validate_operation("0", "travel", "", "", today=today)[0] == {"amount": "err_amount_zero"}
    assert validate_operation("-2000000", "travel", "", "", today=today)[0] == {"amount": "err_amount_big"}
    errors, data = validate_operation(" -1 250,5 ", "travel", "2026-02-10", "  Билеты ", today=today)
    assert errors == {} and data is not None
    assert data["amount"] == -1250.5 and data["category"] == "travel" and data["description"] == "Билеты"
    assert data["occurredAt"].startswith("2026-02-10T12:00:00")


async def test_history_pages_and_filters(api: FakeApi) -> None:
    state = logged_in(HistoryState)
    assert await drive(state.on_load()) == []
    assert state.form_date == date.today().isoformat()
    assert len(state.operation_rows) == 10 and state.total_count == 25
    assert state.operation_rows[0].amount == "-10.00" and state.operation_rows[0].negative
    assert state.operation_rows[0].category == "Продукты"
    assert state.has_next and not state.has_prev and state.page_number == 1
    await state.next_page()
    await state.next_page()
    assert state.page_number == 3 and len(state.operation_rows) == 5 and not state.has_next
    assert api.calls[-1][1]["after"] == "20"
    await state.prev_page()
    assert state.page_number == 2 and api.calls[-1][1]["after"] == "10"

    state.set_filter_from("2026-02-01")
    state.set_filter_to("2026-01-01")
    await state.apply_filters()
    assert state.filter_error == texts("ru")["err_dates"]
    state.set_filter_to("2026-02-10")
    state.set_filter_category("travel")
    await state.apply_filters()
    assert state.filter_error == "" and state.page_number == 1
    assert api.calls[-1][1] | {} == {
        "id": "7",
        "first": 10,
        "after": None,
        "cat": "travel",
        "from": "2026-02-01",
        "to": "2026-02-10",
    }
    assert state.operation_rows == []
    await state.reset_filters()
    assert api.calls[-1][1]["cat"] is None and state.total_count == 25


async def test_add_operation_shows_errors_then_what_changed(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "WATCH_POLL_S", 0.01)
    state = logged_in(HistoryState)
    await drive(state.on_load())

    state.set_form_amount("")
    await drive(state.add_operation())
    assert state.form_error_texts["amount"] == texts("ru")["err_amount"]
    assert state.form_error_texts["category"] == texts("ru")["err_category"]
    assert "addOperation" not in api.names()

    before = recommendation(offer(CARD, 1), offer(DEPOSIT, 2))
    after = recommendation(offer(DEPOSIT, 1), offer(PENSION, 2))
    api.recommendations = [before, before, before, after]
    state.set_form_amount("-1200")
    state.set_form_category("travel")
    state.set_form_date((date.today() - timedelta(days=1)).isoformat())
    state.set_form_description("Билеты")
    events = await drive(state.add_operation())
    assert event_names(events) == ["watch_offers"]
    sent = next(c[1]["input"] for c in api.calls if c[0] == "addOperation")
    assert sent["clientId"] == "7" and sent["amount"] == -1200 and sent["category"] == "travel"
    assert state.form_errors == {} and state.form_amount == "" and state.added_message
    assert state.watching and not state.watched
    await drive(HistoryState.watch_offers.fn(state))
    assert state.watched and not state.watching and state.offers_changed
    changes = {c.code: (c.status, c.before, c.after) for c in state.changes}
    assert changes == {
        "dela_fin": ("up", "#2", "#1"),
        "plan_fin": ("new", "—", "#2"),
        "tjcr_fin": ("removed", "#1", "—"),
    }


async def test_add_operation_api_error_is_shown(api: FakeApi) -> None:
    api.errors["addOperation"] = ("amount: too large", "BAD_USER_INPUT")
    state = logged_in(HistoryState)
    state.set_form_amount("-5")
    state.set_form_category("cash")
    await drive(state.add_operation())
    assert "amount: too large" in state.submit_error and not state.watching


# --- register --------------------------------------------------------------------------------------


def test_registration_validation() -> None:
    errors, data = validate_registration("7", "X", "-5", "vip", "ZZZ", "99", "RU", True)
    assert data is None and set(errors) == {"age", "sex", "income", "segment", "channel", "province"}
    errors, data = validate_registration("30", "V", "", "student", "", "", "EN", False)
    assert errors == {} and data == {
        "age": 30,
        "sex": "V",
        "income": None,
        "segment": "student",
        "joinChannel": None,
        "provinceCode": None,
        "language": "EN",
        "marketingConsent": False,
    }


async def test_register_creates_the_client_and_logs_in(api: FakeApi) -> None:
    state = substate(RegisterState)
    await drive(state.submit())
    assert state.submit_error == texts("ru")["err_form"] and "registerClient" not in api.names()
    assert state.error_texts["age"] == texts("ru")["err_age"] and state.error_texts["channel"] == ""
    for name, value in {
        "age": "29",
        "sex": "H",
        "income": "31000",
        "segment": "individual",
        "language": "EN",
    }.items():
        state.set_field(name, value)
    state.set_consent(False)
    events = await drive(state.submit())
    assert event_names(events) == ["redirect:/"]
    sent = api.calls[-1][1]["input"]
    assert sent["age"] == 29 and sent["marketingConsent"] is False and sent["provinceCode"] == "28"
    assert (state.token, state.role, state.client_id, state.lang) == ("tok-501", "CLIENT", "501", "en")
    home = await state.get_state(HomeState)
    assert home.welcome and [c.code for c in home.offer_cards] == ["cco_fin"]


# --- analytics -----------------------------------------------------------------------------------


def analyst() -> AnalyticsState:
    state = substate(AnalyticsState)
    state.token, state.role = "tok-analyst", "ANALYST"
    return state


async def test_analytics_requires_the_analyst_role(api: FakeApi) -> None:
    state = logged_in(AnalyticsState)
    assert event_names(await drive(state.on_load())) == ["redirect:/login"]


async def test_analytics_loads_charts(api: FakeApi) -> None:
    state = analyst()
    await drive(state.on_load())
    assert state.has_comparison and state.error == "" and not state.no_model
    assert state.metric_keys[:3] == ["map@7", "ndcg@7", "coverage"]
    assert state.strategy_rows[0] == {"strategy": "hybrid", "map_7": 0.018, "ndcg_7": 0.03, "coverage": 0.8}
    assert state.metric_chart_key == "map_7"
    assert state.metric_table[0][:2] == ["hybrid", "0.0180"]
    assert {r["product"]: r["qini_random"] for r in state.uplift_rows} == {
        "Кредитная карта": 0.012,
        "Депозит": 0.0,
    }
    assert state.qini_rows == []  # no curve points in this evaluation: the chart is left out
    assert [r["policy"] for r in state.policy_rows] == ["uplift", "random"]
    assert state.policy_rows[0]["incremental"] == 41.5
    assert state.policy_table == [["uplift", "41.5", "0.004", "0.6"], ["random", "10", "0.001", "—"]]
    assert state.product == "tjcr_fin" and state.product_options[0] == ["tjcr_fin", "Кредитная карта"]
    # one percentile axis for years, euros and counts alike; the medians in their units beside
    assert state.profile_rows == [
        {"field": "Возраст", "holders": 58.5, "recent": 40.0},
        {"field": "Доход", "holders": 81.0, "recent": 74.5},
        {"field": "Продуктов", "holders": 92.0, "recent": None},
    ]
    assert state.profile_table == [
        ["Возраст", "41", "35", "38"],
        ["Доход", "60 000 €", "52 000 €", "31 000 €"],
        ["Продуктов", "3", "—", "1"],
    ]
    assert 90 <= state.profile_axis_width <= 170 and 90 <= state.qini_axis_width <= 170
    assert "Сегмент: Частный клиент" in state.profile_facts
    state.set_product("dela_fin")  # a profile without ranks (an older API): the table only
    assert state.profile_rows == [] and state.profile_table == [["Возраст", "55", "—", "—"]]
    assert state.picked_client == "7"

    await drive(state.load_probabilities())
    assert [r.code for r in state.probability_rows] == ["dela_fin", "tjcr_fin", "cco_fin"]
    assert state.probability_chart[0] == {"product": "Депозит", "probability": 31.0}
    assert state.probability_rows[2].held

    state.toggle_strategy("POPULARITY")
    state.toggle_strategy("CF")
    assert state.strategies == ["UPLIFT_RULES", "HYBRID", "CF"]
    await drive(state.compare_strategies())
    assert [c.strategy for c in state.columns] == ["UPLIFT_RULES", "HYBRID", "CF"]
    assert [c.title for c in state.columns][2] == "Коллаб. фильтрация"
    assert [o.code for o in state.columns[0].offers] == ["tjcr_fin", "dela_fin"]
    assert [c[1]["s"] for c in api.calls if c[0] == "recommendations"] == ["UPLIFT_RULES", "HYBRID", "CF"]


async def test_analytics_empty_and_error_states(api: FakeApi) -> None:
    api.comparison = None
    state = analyst()
    await drive(state.on_load())
    assert state.no_model and not state.has_comparison and state.error == ""
    assert state.strategy_rows == [] and state.policy_rows == []

    api.comparison = {
        "version": "v2",
        "strategies": [{"strategy": "hybrid", "metrics": {"map@7": 0.1}}],
        "uplift": {"available": False, "reason": "no offer log"},
        "policy": None,
    }
    await drive(state.refresh())
    assert state.uplift_rows == [] and state.uplift_note == "no offer log" and state.policy_rows == []

    api.errors["clientProbabilities"] = ("no trained model set: run `recsys train` first", "NOT_FOUND")
    await drive(state.load_probabilities())
    assert "recsys train" in state.probabilities_error and state.probability_rows == []

    api.down = True
    await drive(state.refresh())
    assert state.error == texts("ru")["api_down"] and not state.no_model


# --- pure view helpers ----------------------------------------------------------------------------


def test_qini_curves_accept_the_documented_shapes() -> None:
    uplift = {
        "qini_curve": {"x": [0, 0.5, 1], "y": [0, 3, 4]},
        "products": {
            "tjcr_fin": {"random": {"qini_curve": [[0, 0], [0.5, 1.5], [1, 2]]}},
            "dela_fin": {"qini_curve": [{"x": 0.5, "y": 0.7}]},
        },
    }
    rows = panel.qini_curves(uplift)
    assert rows[1] == {"x": 0.5, "all": 3.0, "tjcr_fin": 1.5, "dela_fin": 0.7}
    assert panel.qini_series(rows) == ["all", "dela_fin", "tjcr_fin"]
    assert panel.qini_curves({"available": False}) == [] and panel.qini_curves(None) == []


def test_graphql_errors_and_outages_become_api_errors() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        kind = json.loads(request.content)["query"]
        if "boom" in kind:
            return httpx.Response(502, text="bad gateway")
        if "slow" in kind:
            raise httpx.ReadTimeout("timed out", request=request)
        if "limit" in kind:
            return httpx.Response(
                429,
                json={"errors": [{"message": "too many requests", "extensions": {"code": "RATE_LIMITED"}}]},
            )
        return httpx.Response(200, json={"data": {"x": 1}})

    client = api_client.GraphQLClient("t", url="http://api/graphql", transport=httpx.MockTransport(answer))

    async def run() -> None:
        assert await client.execute("{ x }") == {"x": 1}
        with pytest.raises(api_client.ApiUnavailable):
            await client.execute("{ boom }")
        with pytest.raises(api_client.ApiError) as info:
            await client.execute("{ limit }")
        assert info.value.code == "RATE_LIMITED" and not isinstance(info.value, api_client.ApiUnavailable)
        with pytest.raises(api_client.ApiTimeout) as slow:
            await client.execute("{ slow }")
        assert error_text(slow.value, "en") == texts("en")["api_slow"]

    asyncio.run(run())


def test_api_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECSYS_API_URL", raising=False)
    monkeypatch.setenv("API_URL", "https://bank.example/graphql")
    assert api_client.api_url() == "https://bank.example/graphql"
    assert api_client.ws_url() == "wss://bank.example/graphql"
    monkeypatch.setenv("RECSYS_API_URL", "http://127.0.0.1:9000/graphql")
    assert api_client.ws_url() == "ws://127.0.0.1:9000/graphql"


def test_every_document_the_app_sends_is_valid_for_the_api_schema() -> None:
    """The queries in web/api_client.py against the SDL the API prints (schema.graphql)."""
    from pathlib import Path

    from graphql import build_schema, parse, validate

    sdl = Path(__file__).resolve().parents[1] / "schema.graphql"
    schema = build_schema(sdl.read_text(encoding="utf-8"))
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content)["query"])
        return httpx.Response(200, json={"data": None, "errors": [{"message": "recorded"}]})

    client = api_client.GraphQLClient("t", url="http://api/graphql", transport=httpx.MockTransport(record))
    calls = [
        client.clients("1"),
        client.demo_login("1"),
        client.analyst_login("x"),
        client.me(),
        client.products(),
        client.recommendations("1", "HYBRID"),
        client.respond_to_offer("1", "cco_fin", "ACCEPT"),
        client.take_product("1", "cco_fin"),
        client.notifications("1"),
        client.mark_notification_read("1"),
        client.operations("1", 10, "c", "travel", "2026-01-01", "2026-02-01"),
        client.add_operation({}),
        client.register_client({}),
        client.model_comparison(),
        client.product_profiles("cco_fin"),
        client.client_probabilities("1"),
    ]

    async def run() -> None:
        for call in calls:
            with pytest.raises(api_client.ApiError):
                await call

    asyncio.run(run())
    documents = [*sent, api_client.NOTIFICATIONS_SUBSCRIPTION]
    assert len(documents) == len(calls) + 1
    for document in documents:
        assert validate(schema, parse(document)) == [], document


def test_partner_offer_cards_state_no_take_up_probability() -> None:
    """A partner discount's take-up without the offer (0) and effect (the configured partner
    take rate) are not estimates for the client: its card shows neither (bank products keep
    theirs)."""
    from web.views.offers import offer_cards

    partner = {"code": "p_kids", "kind": "partner", "category": "partners", "nameRu": "Скидка"}
    bank = {"code": "tjcr_fin", "kind": "bank", "category": "cards", "nameRu": "Карта", "nameEn": "Card"}
    rec = {
        "offers": [
            {"rank": 1, "probability": 0.0, "uplift": 0.15, "product": partner},
            {"rank": 2, "probability": 0.2, "uplift": 0.05, "product": bank},
        ]
    }
    cards = offer_cards(rec, "en")
    assert [c.probability for c in cards] == ["", "20.0%"]
    assert [c.uplift for c in cards] == ["", "+5.0%"]
