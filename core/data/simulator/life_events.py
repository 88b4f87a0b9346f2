"""Life events: when each client buys a car, has a child, moves, gets a raise, travels.

Why: these are the hidden causes a behaviour model should discover. Each event leaves a
trace in operations in its month (auto/kids/home/salary/travel signals, see operations.py)
and raises the take-up of the catalog's linked products only AFTER that month, so the
signal precedes the product. Rates are modelling assumptions (annual rates of the order of
official Spanish statistics: car purchase ~6%, birth ~3% at 25-42, moving ~8%, pay rise
~10% of employed, a holiday trip ~25% in a year), not tuned on model results.
"""

from __future__ import annotations

import numpy as np

from core.catalog import Catalog
from core.domain import LIFE_EVENTS

# Annual rate per event, and the age band it can happen in.
ANNUAL_RATE: dict[str, float] = {
    "car_purchase": 0.06,
    "child": 0.05,
    "relocation": 0.08,
    "salary_rise": 0.10,
    "travel": 0.25,
}
AGE_BAND: dict[str, tuple[int, int]] = {
    "car_purchase": (20, 75),
    "child": (24, 44),
    "relocation": (20, 65),
    "salary_rise": (21, 64),
    "travel": (18, 80),
}
# Take-up multiplier on linked products, by months since the event (0 = event month).
BOOST_BY_LAG = np.array([1.5, 8.0, 5.0, 3.0, 1.5])
NO_EVENT = -100


def travel_season(month_of_year: np.ndarray) -> np.ndarray:
    """Summer holidays: travel is 2.5x as likely in June-August (mean 1 over a year)."""
    m = np.asarray(month_of_year)
    raw = np.where((m >= 6) & (m <= 8), 2.5, 1.0)
    return raw / ((3 * 2.5 + 9) / 12)


def draw_events(
    rng: np.random.Generator, age: np.ndarray, segment: np.ndarray, months_of_year: np.ndarray
) -> np.ndarray:
    """Month index of each client's first event of each kind in the horizon, or NO_EVENT.

    Returns (n, len(LIFE_EVENTS)) int. Students (segment 2) get no salary rise.
    """
    n, n_m = len(age), len(months_of_year)
    out = np.full((n, len(LIFE_EVENTS)), NO_EVENT, dtype=np.int64)
    for k, ev in enumerate(LIFE_EVENTS):
        lo, hi = AGE_BAND[ev]
        ok = (age >= lo) & (age <= hi)
        if ev == "salary_rise":
            ok &= segment != 2
        monthly = 1 - (1 - ANNUAL_RATE[ev]) ** (1 / 12)
        hazard = np.full(n_m, monthly)
        if ev == "travel":
            hazard = hazard * travel_season(months_of_year)
        hit = rng.random((n, n_m)) < hazard[None, :]
        first = np.where(hit.any(1), hit.argmax(1), NO_EVENT)
        out[:, k] = np.where(ok, first, NO_EVENT)
    return out


def link_matrix(catalog: Catalog, codes: list[str]) -> np.ndarray:
    """(n_events, P) bool: which products each life event makes more likely (catalog links)."""
    mat = np.zeros((len(LIFE_EVENTS), len(codes)), dtype=bool)
    for j, code in enumerate(codes):
        for ev in catalog[code].life_events:
            mat[LIFE_EVENTS.index(ev), j] = True
    return mat


def event_boost(events: np.ndarray, links: np.ndarray, t: int) -> np.ndarray:
    """(n, P) take-up multiplier in month t from all events of each client."""
    lag = t - events  # (n, E)
    in_window = (lag >= 0) & (lag < len(BOOST_BY_LAG))
    factor = np.where(in_window, BOOST_BY_LAG[np.clip(lag, 0, len(BOOST_BY_LAG) - 1)], 1.0)
    boost = np.ones((events.shape[0], links.shape[1]))
    for k in range(links.shape[0]):
        boost[:, links[k]] *= factor[:, k : k + 1]
    return boost
