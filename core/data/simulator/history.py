"""Product history: what a client held and added before decides what it adds next.

Why: on the real Santander file the competition winners ranked the added product at about
0.89 of a perfect ranking (MAP@7 ~0.031 of ~0.035) from features a model can see, and
their write-ups name product history (lags of the product flags, months since a product
was dropped, how often it flipped) as what carried that signal. A simulator whose take-up
ignores history caps every model far below that (`bench/bench_ceilings.py` measured 0.56).
The mechanisms here are the ones those write-ups describe; docs/DATA.md tables each
parameter with its source.

- Re-activation: a dropped product comes back with a hazard that is highest the month
  after the drop and decays geometrically (payroll that missed one month, direct debits
  that paused). A returning client returns whether or not an offer is shown: the
  re-activation part of take-up is offer-insensitive (a "sure thing" a bank can see).
- Drop and return rates keep the published add rate per product: at a stationary state
  the drops of a product equal its adds, so `REACT_SHARE` (the share of a product's drops
  that come back) is also the share of its adds that are re-activations.
- Co-adoption: payroll (`nomina`) requires pension contributions (`nom_pens`, catalog
  `requires`) and, in the real file, the two are added and dropped together (their add
  shares are 0.12 and 0.13): a payroll add brings the pension line along, a pension drop
  takes payroll with it, and a pair dropped together comes back together (through payroll).
  The pension line's own rates are what is left of its published rates after payroll's.
- Ladders (`requires`): holding the required product raises the hazard of the product that
  requires it. Complements: bank products that the catalog lists together as one partner
  offer's complements (home: hip_fin + recibo; salary: cno_fin + nomina + dela_fin; kids:
  ctju_fin + plan_fin) are used together; adding one raises the others' hazard for a few
  months.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.catalog import Catalog

NO_DROP = -1000
# Share of a product's drops that come back (= share of its adds that are re-activations).
# Products whose monthly flag follows a recurring flow (payroll, pension contributions,
# direct debits, card use, payroll account) flip month to month in the real file; one-off
# contracts (deposits, securities, loans) rarely come back once closed.
REACT_SHARE: dict[str, float] = {
    "nomina": 0.9,
    "nom_pens": 0.9,
    "recibo": 0.9,
    "tjcr_fin": 0.8,
    "cno_fin": 0.8,
    "reca_fin": 0.6,
    "ecue_fin": 0.6,
    "cco_fin": 0.6,
}
REACT_SHARE_OTHER = 0.3
REACT_DECAY = 0.35  # month-over-month ratio of the return hazard
REACT_HORIZON = 24  # months over which the return probability is summed
DROP_CLIP = (0.002, 0.3)  # monthly drop rate per holder
LADDER_MULT = 2.0  # hazard multiplier while the product a product requires is held
COMPLEMENT_MULT = 3.0  # hazard multiplier after a complement was added ...
COMPLEMENT_MONTHS = 3  # ... within this many months


def react_first(share: float, decay: float = REACT_DECAY, horizon: int = REACT_HORIZON) -> float:
    """First-month return hazard A so that 1 - prod_k (1 - A decay^k) equals `share`."""
    lo, hi = 0.0, 1.0
    k = decay ** np.arange(horizon)
    for _ in range(60):
        mid = (lo + hi) / 2
        if 1 - np.prod(1 - mid * k) < share:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def survival(first: np.ndarray, months: int, decay: float = REACT_DECAY) -> np.ndarray:
    """(months+1, P): probability a drop has not come back k = 0..months months later."""
    h = first[None, :] * decay ** np.arange(months)[:, None]
    return np.vstack([np.ones(len(first)), np.cumprod(1 - h, axis=0)])


def react_hazard(last_drop: np.ndarray, t: int, first: np.ndarray, decay: float = REACT_DECAY) -> np.ndarray:
    """(n, P) return hazard in month t for products dropped at snapshot `last_drop`."""
    k = t - last_drop  # >= 1 for a past drop
    return np.where(k >= 1, first[None, :] * decay ** np.clip(k - 1, 0, 60), 0.0)


def complement_groups(catalog: Catalog, codes: list[str]) -> np.ndarray:
    """(G, P) bool: bank products listed together as one partner offer's complements."""
    col = {c: i for i, c in enumerate(codes)}
    groups = []
    for spec in catalog.partner:
        members = [col[c] for c in spec.complements if c in col]
        if len(members) >= 2:
            row = np.zeros(len(codes), dtype=bool)
            row[members] = True
            groups.append(row)
    return np.array(groups, dtype=bool).reshape(-1, len(codes))


def ladder_matrix(catalog: Catalog, codes: list[str]) -> np.ndarray:
    """(P, P) bool: [j, r] is True when product j requires product r (catalog `requires`)."""
    col = {c: i for i, c in enumerate(codes)}
    mat = np.zeros((len(codes), len(codes)), dtype=bool)
    for spec in catalog.bank:
        for req in spec.requires:
            mat[col[spec.code], col[req]] = True
    return mat


def history_mult(
    held: np.ndarray, last_add: np.ndarray, t: int, groups: np.ndarray, ladder: np.ndarray
) -> np.ndarray:
    """(n, P) multiplier on the fresh hazard from ladders and recently added complements."""
    mult = np.ones(held.shape)
    needs = np.asarray(ladder.any(axis=1))
    if needs.any():
        have_all = (held[:, None, :] | ~ladder[None, :, :]).all(2)  # (n, P)
        mult = np.where(needs[None, :] & have_all, LADDER_MULT, mult)
    since = t - last_add
    recent: np.ndarray = (since >= 1) & (since <= COMPLEMENT_MONTHS)  # (n, P)
    for g in groups:
        hit = recent[:, g].any(1)
        mult[:, g] *= np.where(hit, COMPLEMENT_MULT, 1.0)[:, None]
    return mult


def co_adopt(p: np.ndarray, i_pens: int, i_nom: int) -> np.ndarray:
    """Marginal add probabilities once a payroll add brings the pension line along.

    The draw in `draw_adds` is independent per product plus this coupling, so the marginal
    is exact: P(nom_pens) = 1 - (1 - p_pens)(1 - p_nom) where the pension line can be added.
    """
    out = p.copy()
    pens, nom = p[..., i_pens], p[..., i_nom]
    out[..., i_pens] = np.where(pens > 0, 1 - (1 - pens) * (1 - nom), 0.0)
    return out


def draw_adds(rng: np.random.Generator, p: np.ndarray, i_pens: int, i_nom: int) -> np.ndarray:
    """Adds drawn from raw (pre-coupling) probabilities, with payroll bringing its pension line."""
    adds = rng.random(p.shape) < p
    adds[:, i_pens] |= adds[:, i_nom] & (p[:, i_pens] > 0)
    return adds


def pair_react(react: np.ndarray, last_drop: np.ndarray, i_pens: int, i_nom: int) -> np.ndarray:
    """A pension line dropped together with payroll comes back with payroll, not on its own."""
    out = react.copy()
    out[:, i_pens] = np.where(last_drop[:, i_pens] == last_drop[:, i_nom], 0.0, react[:, i_pens])
    return out


def react_shares(codes: list[str]) -> np.ndarray:
    return np.array([REACT_SHARE.get(c, REACT_SHARE_OTHER) for c in codes])


def rates(cal: dict[str, Any], ownership: np.ndarray) -> dict[str, np.ndarray]:
    """Per product: drop rate, first-month return hazard and fresh add rate.

    The stationary balance (drops = adds) gives the drop rate per holder; a share of drops
    returns (re-activation) and the rest of the published add rate is fresh take-up.
    `ownership` is the long-run share of clients holding each product.
    """
    pub = cal["published"]
    codes = cal["products"]
    total = pub["monthly_share_of_clients_adding"] * pub["adds_per_adding_client"]
    shares = np.array([pub["add_share"].get(c, 0.001) for c in codes])
    add_rate = total * shares / shares.sum()
    own_rate = add_rate.copy()  # adds a product makes on its own (payroll brings the pension line)
    if "nomina" in codes and "nom_pens" in codes:
        i_nom, i_pens = codes.index("nomina"), codes.index("nom_pens")
        own_rate[i_pens] = max(add_rate[i_pens] - add_rate[i_nom], 0.1 * add_rate[i_pens])
    drop = np.clip(own_rate / ownership, *DROP_CLIP)
    share = react_shares(codes)
    react_rate = drop * ownership * share
    fresh = np.maximum(own_rate - react_rate, 0.05 * own_rate)
    first = np.array([react_first(s) for s in share])
    return {"drop": drop, "react_first": first, "fresh": fresh}


def initial_drops(
    rng: np.random.Generator,
    held0: np.ndarray,
    eligible: np.ndarray,
    r: dict[str, np.ndarray],
    ownership: np.ndarray,
) -> np.ndarray:
    """Month of the last drop (<= 0) of products not held at month 0, from the stationary state.

    Why: without a past, re-activations would start at zero and the first year's add rate
    would sit below the published one. A product not held at month 0 was dropped k months
    before (k >= 1) and has not come back with probability drop x own x survival(k-1) / (1 - own).
    """
    n, n_p = held0.shape
    months = 12
    surv = survival(r["react_first"], months)
    last = np.full((n, n_p), NO_DROP, dtype=np.int64)
    free = ~held0 & eligible
    u = rng.random((n, n_p))
    acc = np.zeros(n_p)
    for k in range(1, months + 1):
        pk = r["drop"] * ownership * surv[k - 1] / np.maximum(1 - ownership, 0.05)
        hit = free & (u >= acc[None, :]) & (u < (acc + pk)[None, :])
        last[hit] = 1 - k
        acc = acc + pk
    return last
