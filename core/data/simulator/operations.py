"""Dated operations (transactions): the time series where needs and life events show up.

Why: behaviour models should be able to discover life events from spending before the
linked product is taken up. Each client has a personal spending mix; in an event's month the
mix shifts (car purchase: auto spend and one large auto payment, a month of research before;
child: kids spend from then on; relocation: home purchases, then higher utilities; salary
rise: the salary inflow jumps; travel: travel spend and a booking). Salary and pension are
scheduled monthly inflows. Vectorised over all client-months of a chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.domain import LIFE_EVENTS, OPERATION_CATEGORIES

CAT = {c: i for i, c in enumerate(OPERATION_CATEGORIES)}
EV = {e: i for i, e in enumerate(LIFE_EVENTS)}
# Share of a typical client's operations and mean amount (EUR) per category.
MIX: dict[str, tuple[float, float]] = {
    "transfer": (0.06, 150),
    "cash": (0.06, 60),
    "groceries": (0.25, 35),
    "restaurants": (0.12, 25),
    "utilities": (0.04, 70),
    "telecom": (0.03, 35),
    "travel": (0.03, 120),
    "auto": (0.05, 50),
    "kids": (0.01, 40),
    "health": (0.03, 45),
    "home": (0.03, 60),
    "education": (0.01, 80),
    "entertainment": (0.07, 20),
    "shopping": (0.12, 45),
    "taxes": (0.005, 200),
    "insurance": (0.015, 60),
    "investments": (0.005, 300),
    "loan_payment": (0.01, 250),
}
BIG_EVENT_OP: dict[str, tuple[str, float, float]] = {  # event -> (category, low, high) EUR
    "car_purchase": ("auto", 6_000, 25_000),
    "relocation": ("home", 1_000, 6_000),
    "travel": ("travel", 400, 3_000),
}


def monthly_weights(
    n: int,
    months_of_year: np.ndarray,
    events: np.ndarray,
    has_kids: np.ndarray,
    invest_need: np.ndarray,
    personal: np.ndarray,
) -> np.ndarray:
    """(n, M, C) unnormalised category weights per client-month."""
    n_m = len(months_of_year)
    w = np.broadcast_to(personal[:, None, :], (n, n_m, personal.shape[1])).copy()
    t = np.arange(n_m)[None, :]
    ev = {k: events[:, EV[k]][:, None] for k in EV}
    w[:, :, CAT["kids"]] *= np.where(has_kids[:, None] | (t >= ev["child"]) & (ev["child"] >= 0), 8.0, 1.0)
    w[:, :, CAT["auto"]] *= np.where(t == ev["car_purchase"] - 1, 2.0, 1.0) * np.where(
        t == ev["car_purchase"], 4.0, 1.0
    )
    w[:, :, CAT["travel"]] *= np.where(t == ev["travel"], 6.0, 1.0)
    w[:, :, CAT["home"]] *= np.where(t == ev["relocation"], 5.0, 1.0)
    w[:, :, CAT["utilities"]] *= np.where((t >= ev["relocation"]) & (ev["relocation"] >= 0), 1.6, 1.0)
    tax = np.select([months_of_year == 6, months_of_year == 5], [4.0, 2.0], 1.0)
    w[:, :, CAT["taxes"]] *= tax[None, :]
    w[:, :, CAT["investments"]] *= invest_need[:, None]
    return w


def simulate_operations(
    rng: np.random.Generator,
    ids: np.ndarray,
    month_starts: np.ndarray,
    income: np.ndarray,
    age: np.ndarray,
    segment: np.ndarray,
    active: np.ndarray,
    events: np.ndarray,
    invest_need: np.ndarray,
) -> pd.DataFrame:
    """Operations of all clients over all months (calendar month of each snapshot)."""
    n, n_m = len(ids), len(month_starts)
    n_cat = len(OPERATION_CATEGORIES)
    months_of_year = month_starts.astype("datetime64[M]").astype(int) % 12 + 1
    base = np.zeros(n_cat)
    mean_amt = np.zeros(n_cat)
    for c, (share, amt) in MIX.items():
        base[CAT[c]], mean_amt[CAT[c]] = share, amt
    personal = base[None, :] * rng.gamma(4.0, 0.25, size=(n, n_cat))
    has_kids = (age >= 30) & (age <= 50) & (segment != 2) & (rng.random(n) < 0.4)
    w = monthly_weights(n, months_of_year, events, has_kids, invest_need, personal).reshape(n * n_m, n_cat)
    cum = np.cumsum(w, axis=1)
    cum /= cum[:, -1:]
    lam = np.where(active, rng.uniform(24, 40, n), rng.uniform(16, 28, n))
    counts = rng.poisson(np.repeat(lam, n_m))
    row = np.repeat(np.arange(n * n_m), counts)
    flat = (cum + np.arange(n * n_m)[:, None]).ravel()
    cat = np.searchsorted(flat, row + rng.random(len(row)) * 0.999999) - row * n_cat
    cat = np.clip(cat, 0, n_cat - 1)
    scale = (income / 90_000.0) ** 0.35
    amount = mean_amt[cat] * scale[row // n_m] * rng.lognormal(-0.18, 0.6, len(row))
    sign = np.where((cat == CAT["transfer"]) & (rng.random(len(row)) < 0.4), 1.0, -1.0)
    parts = [(row, cat, sign * amount, rng.random(len(row)))]
    # Scheduled inflows: salary for the employed (jumps after a rise), pension from 65.
    salaried = ((segment != 2) & (age >= 18) & (age < 65) & (rng.random(n) < 0.85)) | (
        (segment == 2) & (rng.random(n) < 0.25)
    )
    monthly_pay = income / 14 * np.where(segment == 2, 0.2, 1.0)
    rise = 1 + rng.uniform(0.15, 0.35, n)
    t = np.arange(n_m)[None, :]
    e_rise = events[:, EV["salary_rise"]][:, None]
    pay = monthly_pay[:, None] * np.where((t >= e_rise) & (e_rise >= 0), rise[:, None], 1.0)
    cid, tm = np.nonzero(np.broadcast_to(salaried[:, None], (n, n_m)))
    parts.append(
        (cid * n_m + tm, np.full(len(cid), CAT["salary"]), pay[cid, tm], rng.uniform(0.8, 0.9, len(cid)))
    )
    cid, tm = np.nonzero(np.broadcast_to((age >= 65)[:, None], (n, n_m)))
    parts.append(
        (
            cid * n_m + tm,
            np.full(len(cid), CAT["pension"]),
            (income / 14 * 0.6)[cid],
            rng.uniform(0.0, 0.1, len(cid)),
        )
    )
    for ev, (cname, lo, hi) in BIG_EVENT_OP.items():
        e = events[:, EV[ev]]
        cid = np.flatnonzero((e >= 0) & (e < n_m))
        amt_big = -rng.uniform(lo, hi, len(cid)) * scale[cid] ** 0.5
        parts.append((cid * n_m + e[cid], np.full(len(cid), CAT[cname]), amt_big, rng.random(len(cid))))
    row = np.concatenate([p[0] for p in parts])
    cat = np.concatenate([p[1] for p in parts]).astype(np.int16)
    amount = np.concatenate([p[2] for p in parts])
    frac = np.concatenate([p[3] for p in parts])
    start = month_starts.astype("datetime64[M]")
    days = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)
    t_idx = row % n_m
    us = start.astype("datetime64[D]").astype("datetime64[us]").astype(np.int64)[t_idx]
    us = us + (frac * days[t_idx] * 86_400e6).astype(np.int64)
    return pd.DataFrame(
        {
            "client_id": ids[row // n_m],
            "occurred_at": pd.to_datetime(us, unit="us", utc=True),
            "amount_cents": np.round(amount * 100).astype(np.int64),
            "category": pd.Categorical.from_codes(cat, categories=list(OPERATION_CATEGORIES)),
        }
    )
