"""The web app end to end in headless Chromium, against the real system: embedded PostgreSQL
with a small simulated population and a trained model set, the embedded Kafka-protocol
broker, and as subprocesses `recsys api`, `recsys relay`, `recsys worker` and the Reflex app
(production build). Screenshots of every page go to .artifacts/screenshots/.

Set-up installs what it needs (scripts/install_web_tools.sh --browser: bun from the npm
registry, Debian's chromium + chromedriver); a failed install fails the tests, never skips.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.db.urls import run_sync
from tests.web_driver import Browser, free_port
from tests.web_stack import Stack, artifacts, install_tools, recsys, reflex_argv, web_env

ANALYST_PASSWORD = "e2e-" + secrets.token_hex(4)
PHONE = (390, 844)
LAPTOP = (1366, 900)
NOTIFY_TIMEOUT_S = 120


def shots() -> Path:
    return artifacts() / "screenshots"


# --- data ------------------------------------------------------------------------------------


def evaluation_metrics() -> dict[str, Any]:
    """An evaluation run as `recsys evaluate` stores it (strategies, uplift, policy sections)."""
    strategies = {
        name: {
            "map@7": m,
            "ndcg@7": m * 1.6,
            "recall@7": m * 9,
            "precision@7": m / 2,
            "coverage": cov,
            "diversity": 0.4,
            "novelty": 2.1,
        }
        for name, m, cov in (
            ("hybrid", 0.0185, 0.61),
            ("popularity", 0.0196, 0.39),
            ("rules", 0.011, 0.5),
            ("cf", 0.0142, 0.7),
            ("oracle", 0.031, 0.8),
        )
    }
    return {
        "strategies": strategies,
        "uplift": {
            "products": {
                "tjcr_fin": {
                    "rows": 900,
                    "random": {"qini": 0.021, "auuc": 0.03},
                    "targeted_aipw": {"qini": 0.017},
                },
                "dela_fin": {"rows": 640, "random": {"qini": 0.008}, "targeted_aipw": {"qini": 0.012}},
                "plan_fin": {"rows": 410, "targeted_aipw": {"qini": -0.002}},
            },
            "qini_curve": {"x": [0, 0.2, 0.4, 0.6, 0.8, 1.0], "y": [0, 6.1, 9.4, 11.2, 12.0, 12.3]},
        },
        "policy": {
            "budget_share": 0.2,
            "uplift": {"incremental_conversions": 48.2, "policy_value_dr": 0.0061, "share_of_oracle": 0.64},
            "propensity": {
                "incremental_conversions": 31.0,
                "policy_value_dr": 0.0039,
                "share_of_oracle": 0.41,
            },
            "rules": {"incremental_conversions": 22.4, "policy_value_dr": 0.0028},
            "random": {"incremental_conversions": 9.7, "policy_value_dr": 0.0012},
            "oracle": {"incremental_conversions": 75.3, "policy_value_dr": 0.0094, "share_of_oracle": 1.0},
        },
        "test": {"clients": 1200},
    }


async def prepare(url: str) -> int:
    """Record an evaluation run; return a consenting client never scored before whose decision
    serves an offer (so the worker's rescoring after an operation has a new offer to tell)."""
    from core.services.recommend import recommend_for_client
    from core.services.registry import record_run

    conn = await asyncpg.connect(url)
    try:
        version = await conn.fetchval(
            "SELECT version FROM model_run WHERE kind = 'models' ORDER BY id DESC LIMIT 1"
        )
        await record_run(
            conn,
            "evaluation",
            str(version or "e2e"),
            train_from=None,
            train_to=None,
            params={},
            metrics=evaluation_metrics(),
            artifact_path=None,
        )
        rows = await conn.fetch(
            "SELECT id FROM client WHERE marketing_consent AND NOT contact_opt_out AND age BETWEEN 25 AND 60 "
            "AND id NOT IN (SELECT client_id FROM recommendation) "
            "AND id NOT IN (SELECT client_id FROM notification) ORDER BY id LIMIT 30"
        )
    finally:
        await conn.close()
    for r in rows:
        result = await recommend_for_client(int(r["id"]), url, rng=random.Random(0), store=False)
        if result["offers"]:
            return int(r["id"])
    raise AssertionError("no client in the test population gets an offer")


async def fetchrow(url: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchrow(query, *args)
    finally:
        await conn.close()


def warm_up(api_url: str, client_id: int) -> None:
    """The API's first decision loads the model set: do it once before the browser waits."""
    query = "mutation($id: ID!) { demoLogin(clientId: $id) { token } }"
    r = httpx.post(api_url, json={"query": query, "variables": {"id": str(client_id)}}, timeout=60)
    token = r.json()["data"]["demoLogin"]["token"]
    query = "query($id: ID!) { recommendations(clientId: $id) { offers { rank } } }"
    r = httpx.post(
        api_url,
        json={"query": query, "variables": {"id": str(client_id)}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=180,
    )
    assert not r.json().get("errors"), r.text


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tools() -> None:
    if os.environ.get("RECSYS_SKIP_BROWSER_TESTS"):
        pytest.skip("RECSYS_SKIP_BROWSER_TESTS is set")
    install_tools()


@pytest.fixture(scope="session")
def web_app(tools: None) -> Iterator[dict[str, Any]]:
    """The Reflex app (production build, one port), started before the population is built
    (session scope: it comes first), pointed at the port the API will get."""
    api_port, web_port = free_port(), free_port()
    stack = Stack()
    api_url = f"http://127.0.0.1:{api_port}/graphql"
    stack.start("web", reflex_argv(web_port), web_env(api_url))
    try:
        yield {"stack": stack, "api_port": api_port, "api": api_url, "base": f"http://127.0.0.1:{web_port}"}
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def system(
    web_app: dict[str, Any], trained_db: str, kafka_bootstrap: str, recsys_home: Path
) -> Iterator[dict[str, Any]]:
    """API + relay + worker next to the web app; yields their URLs and the demo client."""
    stack: Stack = web_app["stack"]
    api_port, base = web_app["api_port"], web_app["base"]
    client_id = run_sync(prepare(trained_db))
    env = {
        **os.environ,
        "DATABASE_URL": trained_db,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "RECSYS_HOME": str(recsys_home),
        "DEMO_LOGIN": "true",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "RECSYS_API_ANALYST_PASSWORD": ANALYST_PASSWORD,
        "RECSYS_API_RATE_PER_S": "0",
        "WORKER_GROUP": f"web-e2e-{uuid.uuid4().hex[:6]}",
        "PYTHONUNBUFFERED": "1",
    }
    started = []
    try:
        argv = recsys("api", "--host", "127.0.0.1", "--port", str(api_port), "--log-level", "info")
        started.append(stack.start("api", argv, env))
        started.append(stack.start("relay", recsys("relay"), env))
        started.append(stack.start("worker", recsys("worker"), env))
        stack.wait_http(
            f"http://127.0.0.1:{api_port}/readyz",
            lambda r: r.status_code == 200 and r.json().get("ready") is True,
            120,
            "the API",
        )
        warm_up(web_app["api"], client_id)
        stack.wait_http(f"{base}/ping", lambda r: r.status_code == 200, 600, "the web backend")
        stack.wait_http(
            f"{base}/login", lambda r: r.status_code == 200 and "<html" in r.text.lower(), 60, "the web app"
        )
        yield {**web_app, "client_id": client_id, "db": trained_db}
    finally:
        for proc in reversed(started):
            if proc in stack.procs:
                stack.stop(proc)


@pytest.fixture(scope="module")
def browser(system: dict[str, Any]) -> Iterator[Browser]:
    logs = artifacts() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    b = Browser(*LAPTOP, log_path=logs / "chromedriver.log")
    try:
        yield b
    finally:
        b.quit()


@pytest.fixture
def site(system: dict[str, Any], browser: Browser) -> Iterator[tuple[Browser, dict[str, Any]]]:
    """The browser, with the processes' logs attached to any failure."""
    browser.set_window(*LAPTOP)
    yield browser, system
    system["stack"].check_alive()


def fail_with_logs(system: dict[str, Any], browser: Browser, name: str) -> str:
    path = browser.screenshot(shots() / f"FAILED-{name}.png")
    state = run_sync(pipeline_state(system["db"], system["client_id"]))
    return f"\nscreenshot: {path}\npipeline: {state}\n{system['stack'].describe()}"


async def pipeline_state(url: str, client_id: int) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        outbox = await conn.fetch(
            "SELECT event_type, published_at IS NOT NULL AS published, processed_at IS NOT NULL AS processed "
            "FROM outbox WHERE key = $1 ORDER BY id",
            str(client_id),
        )
        notes = await conn.fetch(
            "SELECT id, title, created_at FROM notification WHERE client_id = $1 ORDER BY id", client_id
        )
        recs = await conn.fetchval("SELECT count(*) FROM recommendation WHERE client_id = $1", client_id)
    finally:
        await conn.close()
    return {
        "outbox": [dict(r) for r in outbox],
        "notifications": [dict(r) for r in notes],
        "recommendations": recs,
    }


def login_as(browser: Browser, base: str, client_id: int) -> None:
    browser.get(f"{base}/login")
    browser.wait_for("#page-login")
    browser.type("#client-search", str(client_id))
    browser.click(f"#client-{client_id} button", timeout=30)
    browser.wait_for("#page-home", 30)


def gql(
    system: dict[str, Any], query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.post(system["api"], json={"query": query, "variables": variables}, headers=headers, timeout=30)
    body = r.json()
    assert not body.get("errors"), body
    return dict(body["data"])


def told_product(system: dict[str, Any], title: str) -> dict[str, str]:
    """The catalog product a notification title names (in the client's language)."""
    products = gql(system, "{ products { code nameRu nameEn } }", {})["products"]
    named = [p for p in products if p["nameRu"] in title or p["nameEn"] in title]
    assert named, f"no product named in {title!r}"
    return max(named, key=lambda p: len(p["nameRu"]))


def assert_home_shows(browser: Browser, system: dict[str, Any], title: str, timeout: float = 20) -> str:
    """The offer a notification names is on the home page (Russian names): one decision, one story."""
    name = told_product(system, title)["nameRu"]
    browser.wait_until(
        lambda: any(name in card for card in browser.texts("#offers .offer-card")),
        timeout,
        f"the told offer {name!r} on the home page (cards: {browser.texts('#offers .offer-card')})",
    )
    return name


# --- the bank app --------------------------------------------------------------------------------


def test_login_page_lists_clients(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    browser.get(f"{system['base']}/login")
    browser.wait_for("#page-login")
    browser.wait_for(".client-item", 30)
    assert len(browser.find_all(".client-item")) >= 5
    assert "Вход в банк" in browser.text("#login-clients")  # Russian by default
    browser.screenshot(shots() / "01-login.png")
    browser.set_window(*PHONE)
    browser.screenshot(shots() / "01-login-phone.png")


def test_client_sees_products_and_offers(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    cid = system["client_id"]
    login_as(browser, system["base"], cid)
    try:
        browser.wait_for(".offer-card", 60)
    except TimeoutError as exc:
        raise AssertionError(str(exc) + fail_with_logs(system, browser, "home")) from exc
    assert f"#{cid}" in browser.text("#home-title")
    cards = browser.texts(".offer-card")
    assert cards and all(text.strip() for text in cards)
    assert "Лучшее предложение" in cards[0] and "Почему" in browser.text("#offers")
    assert browser.find("#offers .offer-accept") and browser.find("#offers .offer-dismiss")
    browser.wait_for("#my-products")
    browser.screenshot(shots() / "02-home.png")
    browser.click("#lang-toggle")
    browser.wait_for("#offers-section", text="Offers for you")
    # The offers' own texts switch too (they came in both languages), not only the page's.
    explanation = browser.text(".offer-card .offer-explanation")
    assert explanation.startswith("Our") and "We chose it because" in explanation, explanation
    assert not any("а" <= ch <= "я" for ch in browser.text("#offers").lower()), browser.text("#offers")
    browser.screenshot(shots() / "02-home-en.png")
    browser.click("#lang-toggle")
    browser.wait_for("#offers-section", text="Предложения для вас")
    browser.set_window(*PHONE)
    browser.screenshot(shots() / "02-home-phone.png")


def test_adding_an_operation_brings_a_live_notification(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    browser.click("#nav-history")
    browser.wait_for("#page-history")
    browser.wait_for(".operation-row", 30)
    assert "Всего" in browser.text("#page-info")

    browser.click("#op-submit")  # empty form: validation messages, nothing sent
    browser.wait_for("#add-operation .field-error", 10)
    assert "Выберите категорию" in browser.text("#add-operation")

    browser.type("#op-amount", "-950")
    browser.select("#op-category", "travel")
    browser.type("#op-description", "Билеты в Барселону")
    browser.wait_until(lambda: browser.value("#op-amount") == "-950", 10, "the amount typed")
    browser.click("#op-submit")
    browser.wait_for("#op-added", 30)
    # Straight to the home page: its offers were read before the worker decided; the
    # notification that arrives must name an offer the page then shows.
    browser.click("#nav-home")
    browser.wait_for("#page-home")
    try:
        browser.wait_for("#live-notification", NOTIFY_TIMEOUT_S)  # pushed: no reload
    except TimeoutError as exc:
        raise AssertionError(str(exc) + fail_with_logs(system, browser, "notification")) from exc
    title = browser.text("#live-notification").strip()
    assert title and browser.find("#bell-count") is not None
    name = assert_home_shows(browser, system, title)
    browser.screenshot(shots() / "03-home-after-notification.png")

    browser.click("#nav-history")
    browser.wait_for("#page-history")
    browser.wait_for("#changes-done", 60)
    assert browser.text("#operations").count("Билеты в Барселону") == 1
    told_row = [row for row in browser.texts(".change-row") if name in row]
    assert told_row and "убрано" not in told_row[0], told_row  # the after column has it too
    browser.screenshot(shots() / "03-history.png")
    browser.click("#bell")
    browser.wait_for("#notification-list .notification-item", 10)
    browser.screenshot(shots() / "03-notifications.png")
    browser.script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));")


def test_answering_an_offer(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    browser.click("#nav-home")
    browser.wait_for("#page-home")
    browser.wait_for(".offer-card .offer-dismiss", 60)
    answers = "SELECT count(*) AS n FROM offer_log WHERE client_id = $1 AND response IS NOT NULL"
    before = run_sync(fetchrow(system["db"], answers, system["client_id"]))["n"]
    told = browser.texts("#bell-count")
    browser.click(".offer-card .offer-dismiss")
    browser.wait_until(
        lambda: run_sync(fetchrow(system["db"], answers, system["client_id"]))["n"] > before,
        30,
        "the answer stored",
    )
    # The card says "Отложено" until the worker's decision on the answer (itself an event it
    # rescores on) replaces the offers and tells of it: on a fast machine a fraction of a
    # second later, so the client sees one or the other.
    browser.wait_until(
        lambda: "Отложено" in browser.text("#offers") or browser.texts("#bell-count") != told,
        30,
        "the answer on its card, or the next decision told",
    )
    browser.screenshot(shots() / "04-offer-answered.png")
    browser.click("#logout")
    browser.wait_for("#page-login", 30)


def test_register_a_new_client(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    browser.get(f"{system['base']}/register")
    browser.wait_for("#page-register")
    browser.type("#reg-age", "7")
    browser.click("#reg-submit")
    browser.wait_for("#reg-error", 10)
    assert "Возраст от 14 до 110" in browser.text("#register-form")
    browser.screenshot(shots() / "05-register-errors.png")

    browser.type("#reg-age", "34")
    browser.select("#reg-sex", "H")
    browser.type("#reg-income", "42000")
    browser.select("#reg-segment", "individual")
    browser.select("#reg-province", "8")
    browser.wait_until(lambda: browser.value("#reg-age") == "34", 10, "the age typed")
    browser.click("#reg-submit")
    try:
        browser.wait_for("#page-home", 60)
        browser.wait_until(
            lambda: browser.find(".offer-card") or browser.find("#no-offers"), 60, "first offers"
        )
    except TimeoutError as exc:
        raise AssertionError(str(exc) + fail_with_logs(system, browser, "register")) from exc
    title = browser.text("#home-title")
    assert "#" in title
    new_id = int(title.split("#")[-1].strip())
    row = run_sync(fetchrow(system["db"], "SELECT age, sex, segment FROM client WHERE id = $1", new_id))
    assert row is not None and (row["age"], row["sex"], row["segment"]) == (34, "H", "individual")
    browser.screenshot(shots() / "05-register-home.png")
    if browser.find(".offer-card"):
        # The worker tells the registration's best offer: the one the page already shows.
        query = "SELECT title FROM notification WHERE client_id = $1 ORDER BY id DESC LIMIT 1"
        told = lambda: run_sync(fetchrow(system["db"], query, new_id))  # noqa: E731
        browser.wait_until(told, NOTIFY_TIMEOUT_S, "the first notification")
        note = run_sync(fetchrow(system["db"], query, new_id))
        assert_home_shows(browser, system, note["title"], timeout=5)
        browser.get(f"{system['base']}/")  # and after a reload (the latest stored decision)
        browser.wait_for(".offer-card", 60)
        assert_home_shows(browser, system, note["title"])
    browser.click("#logout")
    browser.wait_for("#page-login", 30)


# --- the analytics panel ---------------------------------------------------------------------------

# Every tick label of the chart's axes inside the drawing, clear of the legend and of the
# other labels of its axis: [] when the labels read, else what is cut or covered.
LABELS_FIT = """
const box = document.querySelector(arguments[0]);
const svg = box && box.querySelector('svg.recharts-surface');
if (!svg) return ['no chart drawn in ' + arguments[0]];
const s = svg.getBoundingClientRect();
const legend = box.querySelector('.recharts-legend-wrapper');
const l = legend ? legend.getBoundingClientRect() : null;
const hit = (a, b) =>
  a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
const problems = [];
for (const axis of box.querySelectorAll('.recharts-cartesian-axis')) {
  const ticks = [...axis.querySelectorAll('.recharts-cartesian-axis-tick-value')];
  const rects = ticks.map(t => t.getBoundingClientRect());
  rects.forEach((r, i) => {
    const name = ticks[i].textContent;
    if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1)
      problems.push('cut: ' + name);
    if (l && hit(r, l)) problems.push('under the legend: ' + name);
    for (let j = 0; j < i; j++)
      if (hit(r, rects[j])) problems.push('overlap: ' + name + ' / ' + ticks[j].textContent);
  });
}
return problems;
"""


TABS_FIT = """
return [...document.querySelectorAll('[role=tab]')]
  .filter(t => { const r = t.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; })
  .map(t => t.textContent);
"""


TABLE_FITS = """
const box = document.querySelector(arguments[0]).getBoundingClientRect();
return [...document.querySelectorAll(arguments[0] + ' th, ' + arguments[0] + ' td')]
  .filter(c => c.getBoundingClientRect().right > box.right + 1 || c.scrollWidth > c.clientWidth + 1)
  .map(c => c.textContent + ' (' + c.scrollWidth + '/' + c.clientWidth + ' px)');
"""


def charts_read(browser: Browser, name: str, charts: tuple[str, ...], tables: tuple[str, ...] = ()) -> None:
    """Screenshots at laptop and phone width; at both, every label of `charts` reads, every
    tab of the panel is on screen and `tables` fit their width (no sideways scrolling)."""
    for width, height, suffix in (*LAPTOP, ""), (*PHONE, "-phone"):
        browser.set_window(width, height)
        resized = lambda w=width: abs(int(browser.script("return window.innerWidth")) - w) <= 20  # noqa: E731
        browser.wait_until(resized, 10, f"the window at {width} px")
        time.sleep(1.0)  # Recharts redraws on a debounced resize observer
        browser.wait_until(lambda: not browser.script(TABS_FIT), 10, f"every tab on screen at {width} px")
        for table in tables:
            browser.wait_until(
                lambda t=table: not browser.script(TABLE_FITS, t),
                10,
                f"{table} fits {width} px: {browser.script(TABLE_FITS, table)}",
            )
        for chart in charts:
            browser.wait_for(f"{chart} .recharts-bar-rectangle", 30)
            browser.wait_until(
                lambda chart=chart: not browser.script(LABELS_FIT, chart),
                10,
                f"readable labels in {chart} at {width} px: {browser.script(LABELS_FIT, chart)}",
            )
        browser.screenshot(shots() / f"{name}{suffix}.png")
    browser.set_window(*LAPTOP)


def test_analytics_panel_renders_charts(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    browser.get(f"{system['base']}/login")
    browser.wait_for("#page-login")
    browser.type("#analyst-password", ANALYST_PASSWORD)
    browser.wait_until(
        lambda: browser.value("#analyst-password") == ANALYST_PASSWORD, 10, "the password typed"
    )
    browser.click("#analyst-login")
    try:
        browser.wait_for("#page-analytics", 30)
        browser.wait_for("#metric-chart .recharts-bar-rectangle", 60)
    except TimeoutError as exc:
        raise AssertionError(str(exc) + fail_with_logs(system, browser, "analytics")) from exc
    assert len(browser.find_all("#metric-chart .recharts-bar-rectangle")) == 5  # one bar per strategy
    assert "map@7" in browser.text("#metrics-table")
    charts_read(browser, "06-analytics-models", ("#metric-chart",))

    browser.click("#tab-uplift")
    browser.wait_for("#qini-chart .recharts-bar-rectangle", 30)
    browser.wait_for("#qini-curves .recharts-line", 30)
    browser.wait_for("#policy-chart .recharts-bar-rectangle", 30)
    # products by name, not code (a long name wraps: its words come in lines of their own)
    assert "Кредитнаякарта" in browser.text("#qini-chart").replace(" ", "").replace("\n", "")
    charts_read(browser, "07-analytics-uplift", ("#qini-chart", "#policy-chart"), ("#policy-table",))

    browser.click("#tab-profiles")
    browser.wait_for("#profile-chart .recharts-bar-rectangle", 90)
    profile = browser.text("#profile-chart")
    assert all(field in profile for field in ("Возраст", "Доход", "Продуктов")), profile  # one axis for all
    assert "Все клиенты" in browser.text("#profile-table")
    charts_read(browser, "08-analytics-profiles", ("#profile-chart",), ("#profile-table",))

    browser.click("#tab-client")
    browser.type("#prob-client-search", str(system["client_id"]))
    browser.wait_until(
        lambda: browser.value("#prob-client-select") == str(system["client_id"]), 30, "the client picked"
    )
    browser.click("#show-probs")
    browser.wait_for("#prob-chart .recharts-bar-rectangle", 60)
    browser.screenshot(shots() / "09-analytics-client.png")

    browser.click("#tab-try")
    browser.click("#compare")
    browser.wait_until(lambda: len(browser.find_all(".strategy-column")) == 3, 90, "three strategy columns")
    columns = browser.texts(".strategy-column")
    assert "Uplift + правила" in columns[0] and "Популярность" in columns[2]
    browser.screenshot(shots() / "10-analytics-try.png")


def test_analytics_charts_from_a_real_evaluation(site: tuple[Browser, dict[str, Any]]) -> None:
    """`recsys evaluate` on the test population (fast model settings), then the same charts."""
    from core.models.hybrid import HybridParams
    from core.services.evaluation import evaluate

    browser, system = site
    uplift_params = {"min_rows": 60, "min_conversions": 2, "learner": "t", "n_estimators": 20, "max_depth": 3}
    params = HybridParams(iterations_any=30, iterations_which=30)
    result = run_sync(evaluate(system["db"], params=params, uplift_params={**uplift_params, "threads": 1}))
    browser.click("#tab-models")
    browser.click("#refresh")
    browser.wait_until(lambda: "0.0185" not in browser.text("#metrics-table"), 60, "the real run shown")
    browser.click("#tab-uplift")
    # the chart's bars are the Qini coefficients (random slice, AIPW on targeted rows); a bar of
    # height 0 draws nothing, so bars are expected where some coefficient is not 0
    products = (result["uplift"].get("products") or {}).values()
    qini = [
        m
        for m in products
        if isinstance(m, dict)
        and any((m.get(part) or {}).get("qini") for part in ("random", "targeted_aipw"))
    ]
    if qini:
        charts_read(browser, "12-real-evaluation-uplift", ("#qini-chart",))
    else:
        browser.screenshot(shots() / "12-real-evaluation-uplift.png")
    browser.click("#tab-profiles")
    charts_read(browser, "13-real-evaluation-profiles", ("#profile-chart",))


def test_pages_say_when_the_api_is_down(site: tuple[Browser, dict[str, Any]]) -> None:
    browser, system = site
    stack: Stack = system["stack"]
    api = next(p for p in stack.procs if p.name == "api")
    stack.stop(api)
    stack.procs.remove(api)
    browser.get(f"{system['base']}/login")
    browser.wait_for("#api-error", 30)
    assert "API не отвечает" in browser.text("#api-error")
    browser.screenshot(shots() / "11-api-down.png")
    print(json.dumps({"screenshots": sorted(p.name for p in shots().glob("*.png"))}))
