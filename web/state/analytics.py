"""The analyst's panel: model comparison, uplift and policies, product profiles, one client's
take-up probabilities, and the same client's offers under several strategies side by side."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web import api_client
from web.i18n import label
from web.state.base import AppState, error_text, is_no_model
from web.views import bank, formatting, offers, panel
from web.vocab import STRATEGIES


class AnalyticsState(AppState):
    tab: str = "models"
    loading: bool = False
    error: str = ""
    comparison: dict[str, Any] = {}
    no_model: bool = False
    metric: str = "map@7"

    profiles_raw: list[dict[str, Any]] = []
    profiles_error: str = ""
    product: str = ""
    products_raw: list[dict[str, Any]] = []

    clients_raw: list[dict[str, Any]] = []
    client_search: str = ""
    picked_client: str = ""
    probabilities_raw: list[dict[str, Any]] = []
    probabilities_error: str = ""
    probabilities_loading: bool = False

    strategies: list[str] = ["UPLIFT_RULES", "HYBRID", "POPULARITY"]
    columns: list[panel.StrategyColumn] = []
    compare_loading: bool = False
    compare_error: str = ""

    # --- derived ------------------------------------------------------------------------------

    @rx.var
    def has_comparison(self) -> bool:
        return bool(self.comparison and self.comparison.get("strategies"))

    @rx.var
    def model_version(self) -> str:
        return str((self.comparison or {}).get("version") or "—")

    @rx.var
    def evaluated_at(self) -> str:
        return formatting.short_datetime((self.comparison or {}).get("createdAt")) or "—"

    @rx.var
    def strategy_rows(self) -> list[dict[str, Any]]:
        rows = panel.strategy_rows(self.comparison)
        return [{**{panel.chart_key(k): v for k, v in r.items()}, "strategy": r["strategy"]} for r in rows]

    @rx.var
    def metric_keys(self) -> list[str]:
        return panel.metric_keys(panel.strategy_rows(self.comparison))

    @rx.var
    def metric_options(self) -> list[list[str]]:
        return [[k, k] for k in panel.metric_keys(panel.strategy_rows(self.comparison))]

    @rx.var
    def metric_chart_key(self) -> str:
        return panel.chart_key(self.metric)

    @rx.var
    def metric_table(self) -> list[list[str]]:
        rows = panel.strategy_rows(self.comparison)
        return panel.metric_table(rows, panel.metric_keys(rows))

    @rx.var
    def uplift_rows(self) -> list[dict[str, Any]]:
        names = {str(p.get("code")): formatting.product_name(p, self.lang) for p in self.products_raw}
        return panel.uplift_rows((self.comparison or {}).get("uplift"), names)

    @rx.var
    def qini_axis_width(self) -> int:
        return panel.axis_width([r["product"] for r in self.uplift_rows])

    @rx.var
    def qini_height(self) -> str:
        return f"{40 + 56 * len(self.uplift_rows)}px"

    @rx.var
    def uplift_note(self) -> str:
        uplift = (self.comparison or {}).get("uplift")
        if isinstance(uplift, dict) and uplift.get("available") is False:
            return str(uplift.get("reason") or "")
        return ""

    @rx.var
    def qini_rows(self) -> list[dict[str, Any]]:
        return panel.qini_curves((self.comparison or {}).get("uplift"))

    @rx.var
    def qini_series(self) -> list[str]:
        return panel.qini_series(panel.qini_curves((self.comparison or {}).get("uplift")))

    @rx.var
    def policy_rows(self) -> list[dict[str, Any]]:
        return panel.policy_rows((self.comparison or {}).get("policy"), self.lang)

    @rx.var
    def policy_table(self) -> list[list[str]]:
        return panel.policy_table(panel.policy_rows((self.comparison or {}).get("policy"), self.lang))

    @rx.var
    def policy_height(self) -> str:
        return f"{40 + 44 * len(self.policy_rows)}px"

    @rx.var
    def strategy_height(self) -> str:
        return f"{40 + 44 * len(self.strategy_rows)}px"

    @rx.var
    def policy_note(self) -> str:
        policy = (self.comparison or {}).get("policy")
        if isinstance(policy, dict) and policy.get("available") is False:
            return str(policy.get("reason") or "")
        return ""

    @rx.var
    def product_options(self) -> list[list[str]]:
        names = {str(p.get("code")): formatting.product_name(p, self.lang) for p in self.products_raw}
        codes = [str(p.get("productCode")) for p in self.profiles_raw]
        return [[c, names.get(c, c)] for c in codes]

    @rx.var
    def selected_profile(self) -> dict[str, Any]:
        for p in self.profiles_raw:
            if str(p.get("productCode")) == self.product:
                return dict(p)
        return {}

    @rx.var
    def profile_rows(self) -> list[dict[str, Any]]:
        return panel.profile_ranks(self.selected_profile.get("profile"), self.lang)

    @rx.var
    def profile_table(self) -> list[list[str]]:
        return panel.profile_table(self.selected_profile.get("profile"), self.lang)

    @rx.var
    def profile_axis_width(self) -> int:
        return panel.axis_width([r["field"] for r in self.profile_rows])

    @rx.var
    def profile_facts(self) -> list[str]:
        return panel.profile_facts(self.selected_profile.get("profile"), self.lang)

    @rx.var
    def client_options(self) -> list[list[str]]:
        return [[r.id, f"{r.title} · {r.details}"] for r in bank.client_rows(self.clients_raw, self.lang)]

    @rx.var
    def probability_rows(self) -> list[panel.ProbabilityRow]:
        return panel.probability_rows(self.probabilities_raw, self.lang)

    @rx.var
    def probability_chart(self) -> list[dict[str, Any]]:
        return [
            {"product": r.name, "probability": round(r.probability * 100, 2)}
            for r in panel.probability_rows(self.probabilities_raw, self.lang)
        ]

    @rx.var
    def strategy_options(self) -> list[list[str]]:
        return [[s, label(self.lang, "strategy", s), "1" if s in self.strategies else ""] for s in STRATEGIES]

    # --- loading --------------------------------------------------------------------------------

    @rx.event
    async def on_load(self):  # type: ignore[no-untyped-def]
        if not (self.token and self.role == "ANALYST"):
            yield rx.redirect("/login")
            return
        self.loading = True
        yield
        await self.load_all()
        self.loading = False

    async def load_all(self) -> None:
        api = self.api()
        try:
            self.comparison = await api.model_comparison() or {}
            self.no_model = not self.comparison
            self.error = ""
        except api_client.ApiError as exc:
            self.comparison = {}
            self.no_model = is_no_model(exc)
            self.error = "" if self.no_model else error_text(exc, self.lang)
            if isinstance(exc, api_client.ApiUnavailable):
                return
        keys = self.metric_keys
        if keys and self.metric not in keys:
            self.metric = keys[0]
        try:
            self.products_raw = await api.products()
        except api_client.ApiError:
            self.products_raw = []
        try:
            self.profiles_raw = await api.product_profiles()
            self.profiles_error = ""
            codes = [str(p.get("productCode")) for p in self.profiles_raw]
            if codes and self.product not in codes:
                self.product = codes[0]
        except api_client.ApiError as exc:
            self.profiles_error = error_text(exc, self.lang)
        await self.load_clients()

    async def load_clients(self) -> None:
        try:
            self.clients_raw = await self.api().clients(self.client_search.strip() or None, 30)
        except api_client.ApiError as exc:
            self.clients_raw = []
            self.probabilities_error = error_text(exc, self.lang)
            return
        ids = [str(c.get("id")) for c in self.clients_raw]
        if ids and self.picked_client not in ids:
            self.picked_client = ids[0]

    @rx.event
    async def refresh(self):  # type: ignore[no-untyped-def]
        self.loading = True
        yield
        await self.load_all()
        self.loading = False

    @rx.event
    def set_tab(self, tab: str) -> None:
        self.tab = tab

    @rx.event
    def set_metric(self, metric: str) -> None:
        self.metric = metric

    @rx.event
    def set_product(self, code: str) -> None:
        self.product = code

    @rx.event
    async def set_client_search(self, value: str) -> None:
        self.client_search = value
        await self.load_clients()

    @rx.event
    def pick_client(self, client_id: str) -> None:
        self.picked_client = client_id

    @rx.event
    def toggle_strategy(self, strategy: str) -> None:
        if strategy in self.strategies:
            self.strategies = [s for s in self.strategies if s != strategy]
        elif strategy in STRATEGIES:
            self.strategies = [s for s in STRATEGIES if s in self.strategies or s == strategy]

    @rx.event
    async def load_probabilities(self):  # type: ignore[no-untyped-def]
        if not self.picked_client:
            return
        self.probabilities_loading = True
        yield
        try:
            self.probabilities_raw = await self.api().client_probabilities(self.picked_client)
            self.probabilities_error = ""
        except api_client.ApiError as exc:
            self.probabilities_raw = []
            self.probabilities_error = error_text(exc, self.lang)
        self.probabilities_loading = False

    @rx.event
    async def compare_strategies(self):  # type: ignore[no-untyped-def]
        if not self.picked_client or not self.strategies:
            return
        self.compare_loading = True
        yield
        api = self.api()
        columns = []
        for strategy in self.strategies:
            column = panel.StrategyColumn(strategy=strategy, title=label(self.lang, "strategy", strategy))
            try:
                rec = await api.recommendations(self.picked_client, strategy)
                column.offers = offers.offer_cards(rec, self.lang)
                column.note = str(rec.get("noContactReason") or "")
            except api_client.ApiError as exc:
                column.error = error_text(exc, self.lang)
            columns.append(column)
        self.columns = columns
        self.compare_error = ""
        self.compare_loading = False
