"""The analyst's panel: strategy metrics, uplift (Qini) and policies, median product
profiles, one client's probabilities, rows ready for the charts and tables."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from web.i18n import label, text
from web.views.formatting import pct, product_name
from web.views.offers import OfferCard


@dataclasses.dataclass
class ProbabilityRow:
    code: str = ""
    name: str = ""
    probability: float = 0.0
    percent: str = ""
    held: bool = False


@dataclasses.dataclass
class StrategyColumn:
    strategy: str = ""
    title: str = ""
    error: str = ""
    note: str = ""
    offers: list[OfferCard] = dataclasses.field(default_factory=list)


STRATEGY_METRICS: tuple[str, ...] = (
    "map@7",
    "ndcg@7",
    "recall@7",
    "precision@7",
    "coverage",
    "diversity",
    "novelty",
    "ratio_to_ceiling",
    "ratio_to_oracle",
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(float(value)) else float(value)


# The reachable rows (simulated data) come last: the Bayes ceiling from observables, the
# oracle, and the perfect ranking, so every model reads against them.
STRATEGY_ORDER: tuple[str, ...] = (
    "uplift_rules", "hybrid", "rules", "cf", "popularity", "llm", "ceiling", "oracle", "perfect",
)
POLICY_ORDER: tuple[str, ...] = (
    "uplift", "propensity", "rules", "random", "ceiling", "ceiling_takeup", "oracle",
)


def _ordered(name: str, order: tuple[str, ...]) -> tuple[int, str]:
    return (order.index(name) if name in order else len(order), name)


def strategy_rows(comparison: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per strategy, in a fixed order: {"strategy": name, metric: value, ...} (numbers)."""
    rows = []
    for entry in (comparison or {}).get("strategies") or []:
        metrics = entry.get("metrics") or {}
        row: dict[str, Any] = {"strategy": str(entry.get("strategy", ""))}
        for key, value in metrics.items():
            number = _number(value)
            if number is not None:
                row[key] = round(number, 6)
        rows.append(row)
    return sorted(rows, key=lambda r: _ordered(r["strategy"].lower(), STRATEGY_ORDER))


def metric_keys(rows: list[dict[str, Any]]) -> list[str]:
    present = {k for r in rows for k in r if k != "strategy"}
    ordered = [k for k in STRATEGY_METRICS if k in present]
    return ordered + sorted(present - set(ordered))


def chart_key(metric: str) -> str:
    """Recharts reads dotted/@ keys as paths: chart rows use a safe alias."""
    return "".join(ch if ch.isalnum() else "_" for ch in metric)


def metric_table(rows: list[dict[str, Any]], keys: list[str]) -> list[list[str]]:
    table = []
    for r in rows:
        cells = [str(r["strategy"])]
        for k in keys:
            v = r.get(k)
            cells.append("—" if v is None else f"{v:.4f}")
        table.append(cells)
    return table


def uplift_rows(uplift: Any, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Per-product Qini coefficients (random holdout and AIPW) from the uplift section;
    `product` is the product's name when `names` knows it."""
    if not isinstance(uplift, dict) or uplift.get("available") is False:
        return []
    rows = []
    for code, m in (uplift.get("products") or {}).items():
        if not isinstance(m, dict):
            continue
        rnd = m.get("random") or {}
        aipw = m.get("targeted_aipw") or {}
        rows.append(
            {
                "product": (names or {}).get(str(code), str(code)),
                "code": str(code),
                "qini_random": _number(rnd.get("qini")) or 0.0,
                "qini_aipw": _number(aipw.get("qini")) or 0.0,
                "mean_uplift": _number(m.get("mean_predicted_uplift")) or 0.0,
            }
        )
    return rows


def qini_curves(uplift: Any) -> list[dict[str, Any]]:
    """Qini curve points, when the uplift section carries any.

    Accepted shapes, per product or at the top level under "qini_curve"/"qini_curves":
    a list of [x, y] pairs, a list of {"x", "y"} points, or {"x": [...], "y": [...]}.
    Returns rows {"x": share targeted, <product>: incremental gain, ...} for a line chart.
    """
    if not isinstance(uplift, dict):
        return []
    curves: dict[str, list[tuple[float, float]]] = {}

    def points(raw: Any) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        if isinstance(raw, dict) and isinstance(raw.get("x"), list) and isinstance(raw.get("y"), list):
            raw = list(zip(raw["x"], raw["y"], strict=False))
        if isinstance(raw, list):
            for p in raw:
                if isinstance(p, dict):
                    x, y = _number(p.get("x")), _number(p.get("y"))
                elif isinstance(p, list | tuple) and len(p) == 2:
                    x, y = _number(p[0]), _number(p[1])
                else:
                    x = y = None
                if x is not None and y is not None:
                    out.append((x, y))
        return out

    for key in ("qini_curve", "qini_curves"):
        top = uplift.get(key)
        if isinstance(top, dict) and not {"x", "y"} <= set(top):
            for name, raw in top.items():
                if pts := points(raw):
                    curves[str(name)] = pts
        elif pts := points(top):
            curves["all"] = pts
    for code, m in (uplift.get("products") or {}).items():
        if isinstance(m, dict):
            for sub in (m, m.get("random") or {}, m.get("targeted_aipw") or {}):
                if isinstance(sub, dict) and (pts := points(sub.get("qini_curve"))):
                    curves.setdefault(str(code), pts)
    if not curves:
        return []
    xs = sorted({round(x, 4) for pts in curves.values() for x, _ in pts})
    table = {x: {"x": x} for x in xs}
    for name, pts in curves.items():
        for x, y in pts:
            table[round(x, 4)][chart_key(name)] = round(y, 6)
    return [table[x] for x in xs]


def qini_series(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({k for r in rows for k in r if k != "x"})


def policy_rows(policy: Any, lang: str) -> list[dict[str, Any]]:
    """One row per policy: incremental conversions and value (true when known, else DR)."""
    if not isinstance(policy, dict) or policy.get("available") is False:
        return []
    rows = []
    for name, entry in policy.items():
        if not isinstance(entry, dict):
            continue
        inc = _number(entry.get("incremental_conversions"))
        value = _number(entry.get("policy_value_true"))
        if value is None:
            value = _number(entry.get("policy_value_dr"))
        rows.append(
            {
                "policy": name,
                "incremental": inc if inc is not None else 0.0,
                "value": value if value is not None else 0.0,
                "share_of_oracle": _number(entry.get("share_of_oracle")),
                "contacts": entry.get("contacts"),
            }
        )
    return sorted(rows, key=lambda r: _ordered(r["policy"], POLICY_ORDER))


def policy_table(rows: list[dict[str, Any]]) -> list[list[str]]:
    """[policy, incremental conversions, value per client, share of the oracle] as text."""

    def show(value: Any) -> str:
        number = _number(value)
        if number is None:
            return "—"
        return f"{number:.6f}".rstrip("0").rstrip(".") or "0"  # 0.000092, never 9.2e-05

    return [
        [str(r["policy"]), show(r["incremental"]), show(r["value"]), show(r.get("share_of_oracle"))]
        for r in rows
    ]


PROFILE_NUMERIC: tuple[str, ...] = (
    "age",
    "income",
    "seniority_months",
    "spend_6m",
    "inflow_6m",
    "operations_6m",
    "salary_months_6m",
    "products_held",
)
PROFILE_CATEGORICAL: tuple[str, ...] = ("segment", "sex", "join_channel", "cluster")


PROFILE_MONEY: tuple[str, ...] = ("income", "spend_6m", "inflow_6m")


def _groups(profile: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(holders, recent adopters, all clients) of a product profile; {} where absent."""
    holders = profile.get("holders") if isinstance(profile.get("holders"), dict) else profile
    recent = profile.get("recent_adopters")
    everyone = profile.get("all_clients")
    return (
        holders or {},
        recent if isinstance(recent, dict) else {},
        everyone if isinstance(everyone, dict) else {},
    )


def profile_ranks(profile: dict[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    """Rows {"field", "holders", "recent"} for one chart: each group's mean percentile rank
    among all clients (0-100; 50 = spread like all clients). Ages, months, counts and euros
    share this one axis, so no field vanishes next to a bigger one; None: not known."""
    if not isinstance(profile, dict):
        return []
    holders, recent, _ = _groups(profile)
    hp = holders.get("percentile_ranks") if isinstance(holders.get("percentile_ranks"), dict) else {}
    rp = recent.get("percentile_ranks") if isinstance(recent.get("percentile_ranks"), dict) else {}
    rows = []
    for field in PROFILE_NUMERIC:
        h, r = _number(hp.get(field)), _number(rp.get(field))
        if h is None and r is None:
            continue
        rows.append({"field": label(lang, "profile_field", field), "holders": h, "recent": r})
    return rows


def profile_value(field: str, value: Any) -> str:
    """A median in its unit: '42 000 €', '34', '88'."""
    number = _number(value)
    if number is None:
        return "—"
    if field in PROFILE_MONEY:
        return f"{number:,.0f} €".replace(",", " ")
    return f"{number:,.0f}".replace(",", " ") if number == round(number) else f"{number:.1f}"


def profile_table(profile: dict[str, Any] | None, lang: str) -> list[list[str]]:
    """[field, holders, recent adopters, all clients] medians in their units (the chart's
    percentile ranks say where the groups sit; these say what their values are)."""
    if not isinstance(profile, dict):
        return []
    holders, recent, everyone = _groups(profile)
    rows = []
    for field in PROFILE_NUMERIC:
        values = [g.get(field) for g in (holders, recent, everyone)]
        if all(_number(v) is None for v in values):
            continue
        rows.append([label(lang, "profile_field", field), *(profile_value(field, v) for v in values)])
    return rows


def axis_width(labels: list[str], min_px: int = 90, max_px: int = 170) -> int:
    """Width of a category axis for these labels: the longest on one line when it fits in
    `max_px`, else wrapped (Recharts wraps axis ticks at the axis width, between words)."""
    if not labels:
        return min_px
    longest_word = max((len(w) for lab in labels for w in str(lab).split()), default=0)
    longest = max(len(str(lab)) for lab in labels)
    return max(min_px, 7 * longest_word + 16, min(max_px, 7 * longest + 16))


def profile_facts(profile: dict[str, Any] | None, lang: str) -> list[str]:
    """'Segment: Student' lines of the typical holder (categorical fields and group sizes)."""
    if not isinstance(profile, dict):
        return []
    holders, recent, _ = _groups(profile)
    facts = []
    if holders and "clients" in holders:
        facts.append(f"{text(lang, 'holders')}: {holders['clients']}")
    if recent and "clients" in recent:
        facts.append(f"{text(lang, 'recent_adopters')}: {recent['clients']}")
    for field in PROFILE_CATEGORICAL:
        value = (holders or {}).get(field)
        if value not in (None, "", "nan"):
            shown = label(lang, "segment", str(value)) if field == "segment" else str(value)
            facts.append(f"{label(lang, 'profile_field', field)}: {shown}")
    return facts


def probability_rows(items: list[dict[str, Any]], lang: str) -> list[ProbabilityRow]:
    rows = [
        ProbabilityRow(
            code=str((i.get("product") or {}).get("code", "")),
            name=product_name(i.get("product"), lang),
            probability=round(float(i.get("probability") or 0.0), 6),
            percent=pct(i.get("probability"), digits=2),
            held=bool(i.get("held")),
        )
        for i in items
    ]
    return sorted(rows, key=lambda r: -r.probability)
