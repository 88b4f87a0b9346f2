"""True take-up probabilities: organic (no offer) and with an offer, per client x product.

Why: this is the oracle the models are scored against. The organic hazard is a published
add rate per product spread over clients by latent need, segment and age, season and life
events;
the offer effect depends on a hidden client type per (client, product):

- persuadable (20%): an offer multiplies take-up by 2-5x (log-uniform);
- sure thing (12%): high organic need (x3), an offer changes almost nothing (x1.05);
- lost cause (58%): low need (x0.5), an offer changes nothing;
- sleeping dog (10%): an offer cuts take-up to 20-60% and triples churn of what is held.

The mix follows the usual shape reported in uplift-modelling case studies (most clients are
unmoved; persuadables and sleeping dogs are minorities); it is an assumption, not fitted.
Sure things are more likely where a life event links to the product (the client who just
bought a car takes the loan anyway).

Segment and age are not assumed: their multipliers are MEASURED on the real sample
(`calibration.json` -> `takeup_propensity`, derived in calibration.py) as shrunk ratios of a
product's ownership rate in a segment / age band to its overall rate. Modelling assumption:
ownership is the cumulative result of past take-up, so a group that owns a product k times
as often is taken to take it up k times as often. A client's multiplier is segment x age
(the age ratio is standardised for segment, so the product does not count it twice).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.catalog import Catalog
from core.data.simulator.population import SEGMENTS

PERSUADABLE, SURE_THING, LOST_CAUSE, SLEEPING_DOG = 0, 1, 2, 3
# A persistent hidden responsiveness trait per client (responsive / neutral / averse) sets the
# mix of types over its products (see response.py); TYPE_MIX is the population's marginal,
# close to the mix this module assumed before the trait existed (0.20, 0.12, 0.58, 0.10).
TRAIT_PRIOR = np.array([0.2, 0.5, 0.3])
TYPE_MIX_BY_TRAIT = np.array(
    [
        [0.55, 0.12, 0.28, 0.05],
        [0.20, 0.12, 0.58, 0.10],
        [0.05, 0.12, 0.66, 0.17],
    ]
)
TYPE_MIX = TRAIT_PRIOR @ TYPE_MIX_BY_TRAIT
TYPE_NEED = np.array([1.0, 3.0, 0.5, 1.0])
TYPE_NEED_NORM = float(TYPE_MIX @ TYPE_NEED)
SLEEPING_DOG_CHURN = 3.0
MAX_P = 0.6


# Offer multiplier by type: persuadable log-uniform, sure thing fixed, sleeping dog uniform.
PERSUADABLE_EFFECT = (2.0, 5.0)
SURE_THING_EFFECT = 1.05
SLEEPING_DOG_EFFECT = (0.2, 0.6)


def offer_effect(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    """Multiplier on take-up when an offer is shown, fixed per client x product."""
    eff = np.ones(types.shape)
    pers = types == PERSUADABLE
    low, high = PERSUADABLE_EFFECT
    eff[pers] = np.exp(rng.uniform(np.log(low), np.log(high), pers.sum()))
    eff[types == SURE_THING] = SURE_THING_EFFECT
    dog = types == SLEEPING_DOG
    eff[dog] = rng.uniform(*SLEEPING_DOG_EFFECT, dog.sum())
    return eff


def propensity_tables(cal: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment (3, P), age band (B, P), band lower bounds) from the calibration's measured ratios."""
    prop = cal["takeup_propensity"]
    codes = cal["products"]
    seg = np.array([[prop["segment"][c][s] for c in codes] for s in SEGMENTS])
    age = np.array([[prop["age"][c][b] for c in codes] for b in prop["age_band_labels"]])
    return seg, age, np.asarray(prop["age_band_lower"])


def propensity(cal: dict[str, Any], segment: np.ndarray, age: np.ndarray) -> np.ndarray:
    """(n, P) measured segment x age-band multiplier of each client's add hazard."""
    seg, by_age, lower = propensity_tables(cal)
    band = np.searchsorted(lower, np.asarray(age), side="right") - 1
    return seg[segment] * by_age[band]


def mean_propensity(cal: dict[str, Any], catalog: Catalog) -> np.ndarray:
    """(P,) mean multiplier over the age-eligible population, from segment shares x age pmf."""
    seg, by_age, lower = propensity_tables(cal)
    codes = cal["products"]
    min_age = np.array([catalog[c].min_age for c in codes])
    max_age = np.array([catalog[c].max_age or 200 for c in codes])
    total, weight = np.zeros(len(codes)), np.zeros(len(codes))
    for k, s in enumerate(SEGMENTS):
        info = cal["segments"][s]
        ages = np.array([int(a) for a in info["age_pmf"]])
        w = np.array(list(info["age_pmf"].values())) * info["share"]
        elig = (ages[:, None] >= min_age) & (ages[:, None] <= max_age)  # (A, P)
        band = np.searchsorted(lower, ages, side="right") - 1
        mult = seg[k][None, :] * by_age[band]
        total += (w[:, None] * elig * mult).sum(0)
        weight += (w[:, None] * elig).sum(0)
    return np.where(weight > 0, total / np.maximum(weight, 1e-12), 1.0)


def base_hazards(fresh_rate: np.ndarray, mean_mult: np.ndarray, not_held_share: np.ndarray) -> np.ndarray:
    """Per-product monthly fresh-add hazard for an average eligible non-holder.

    `fresh_rate` is the published adds per client-month of each product less its
    re-activations (history.rates); divided by the share of clients who could add it
    (eligible, not holding, from the calibrated month 0) and by the mean segment x age
    multiplier (`mean_propensity`) so the mix averages out.
    """
    return fresh_rate / np.maximum(not_held_share, 0.05) / mean_mult / TYPE_NEED_NORM


def long_run_ownership(cal: dict[str, Any]) -> np.ndarray:
    """Ownership each product's drop rate is balanced against: the sample's, or the full
    file's where the student-heavy sample shows (almost) none."""
    pub = cal["published"]
    return np.array(
        [max(cal["ownership"][c], pub["full_file_ownership"].get(c, 0.0), 0.01) for c in cal["products"]]
    )


def season(cal: dict[str, Any], month_of_year: int) -> np.ndarray:
    """June multipliers (published: taxes -> reca_fin, and cco_fin), mean 1 over the year."""
    mult = np.ones(len(cal["products"]))
    for code, june in cal["published"]["june_multiplier"].items():
        j = cal["products"].index(code)
        mult[j] = (june if month_of_year == 6 else 1.0) / ((june + 11) / 12)
    return mult


def fresh_hazard(
    hazard: np.ndarray,
    seg_mult: np.ndarray,
    need: np.ndarray,
    season_mult: np.ndarray,
    boost: np.ndarray,
    hist_mult: np.ndarray | None = None,
) -> np.ndarray:
    """(n, P) fresh take-up hazard before the client type's need multiplier."""
    base = hazard[None, :] * seg_mult * need * season_mult[None, :] * boost
    return base if hist_mult is None else base * hist_mult


def typed_probabilities(
    base: np.ndarray,
    type_need: np.ndarray | float,
    persuadable: np.ndarray | bool,
    effect: np.ndarray,
    can_add: np.ndarray,
    react: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(p_organic, p_offer) from the fresh hazard and the type's need multiplier and effect.

    `effect` (with contact fatigue already applied) scales fresh take-up when an offer is
    shown. Re-activation (`react`) adds an offer-insensitive chance: the client returns anyway.
    """
    p_org = np.clip(base * type_need, 0.0, MAX_P)
    p_off = np.clip(p_org * effect, 0.0, 0.9)
    aware = persuadable & (effect > 1)  # a small floor: an offer makes people aware
    p_off = np.where(aware, np.maximum(p_off, p_org + 0.002), p_off)
    if react is not None:
        p_org = 1 - (1 - react) * (1 - p_org)
        p_off = 1 - (1 - react) * (1 - p_off)
    p_org = np.where(can_add, p_org, 0.0).astype(np.float32)
    p_off = np.where(can_add, p_off, 0.0).astype(np.float32)
    return p_org, p_off


def probabilities(
    hazard: np.ndarray,
    seg_mult: np.ndarray,
    need: np.ndarray,
    types: np.ndarray,
    effect: np.ndarray,
    season_mult: np.ndarray,
    boost: np.ndarray,
    can_add: np.ndarray,
    hist_mult: np.ndarray | None = None,
    react: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(p_organic, p_offer), both (n, P) float32; zero where the client cannot add.

    Fresh take-up is the hazard times its multipliers (x `hist_mult` from ladders and
    complements) and the type's need; see `typed_probabilities` for the offer and the
    re-activation parts.
    """
    base = fresh_hazard(hazard, seg_mult, need, season_mult, boost, hist_mult)
    return typed_probabilities(base, TYPE_NEED[types], types == PERSUADABLE, effect, can_add, react)


# Mean offer multiplier of each type (the mean of log-uniform(a, b) is (b - a) / ln(b / a)).
_LO, _HI = PERSUADABLE_EFFECT
TYPE_MEAN_EFFECT = np.array(
    [(_HI - _LO) / np.log(_HI / _LO), SURE_THING_EFFECT, 1.0, np.mean(SLEEPING_DOG_EFFECT)]
)
LINKED_SURE_SHARE = 0.3  # share of (client, product) pairs with a linked life event made sure things
