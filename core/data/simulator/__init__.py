"""The causal data simulator: Santander-shaped history with a known truth.

`simulate` yields one `Bundle` per chunk of clients (clients are independent, so memory is
bounded and the database writer can stream). Pure: no I/O except reading the catalog.
Timeline: snapshots are the 28th of each month from 2015-01-28; the take-up "in month t"
is what appears in snapshot t and not in t-1; offers for month t are shown a few days after
snapshot t-1 with a 30-day window, so a conversion shows up as an add in snapshot t.
Truth rows are (client, month t >= 1, bank product): p_organic and p_offer for that take-up.
Determinism: same (seed, n_clients, n_months, chunk_size, calibration) -> same data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.catalog import load_catalog
from core.data.bundle import Bundle
from core.data.simulator import campaigns as camp
from core.data.simulator import history as hist
from core.data.simulator import joiners as jn
from core.data.simulator import life_events as le
from core.data.simulator import response as rs
from core.data.simulator import rows as rw
from core.data.simulator import takeup as tk
from core.data.simulator.calibration import load_calibration
from core.data.simulator.population import INVESTMENT, sample_population

FIRST_MONTH = np.datetime64("2015-01-28")


@dataclass(frozen=True)
class MonthState:
    """What the simulator knew when it drew take-up for month t of one chunk of clients.

    Why: the truth Parquet keeps the true probabilities and the Bayes ceiling from
    observables; analyses of what a model could ever learn (bench/bench_ceilings.py) also
    need the hidden state (trait, client type, latent need) and the bounds that know part of
    it, without re-implementing the simulation. Arrays are (n, P) unless noted; nothing here
    is written anywhere.
    """

    t: int
    month_of_year: int
    held: np.ndarray  # holdings at snapshot t-1
    blocked: np.ndarray  # could not add (held, age-ineligible or conflicting)
    hazard: np.ndarray  # (P,) base hazard
    seg_mult: np.ndarray  # measured segment x age multiplier
    season_mult: np.ndarray  # (P,)
    boost: np.ndarray  # life-event multiplier
    need: np.ndarray  # latent need (hidden)
    trait: np.ndarray  # (n,) responsiveness trait (hidden)
    types: np.ndarray  # client type per product (hidden)
    effect: np.ndarray  # offer multiplier (hidden)
    linked_event: np.ndarray  # a life event linked to the product happens in the horizon
    p_organic: np.ndarray
    p_offer: np.ndarray
    treated: np.ndarray  # shown an offer by a logged campaign this month
    adds: np.ndarray  # products added at snapshot t
    react: np.ndarray  # re-activation hazard (observable: months since the drop)
    hist_mult: np.ndarray  # ladder / complement multiplier (observable)
    contacts: np.ndarray  # (n,) offers shown in the fatigue window (observable)
    ceiling_organic: np.ndarray  # E[p_organic | observables, offer answers]
    ceiling_offer: np.ndarray  # E[p_offer | observables, offer answers]
    trait_organic: np.ndarray  # the same knowing the hidden trait (an upper bound)
    trait_offer: np.ndarray
    present: np.ndarray  # (n,) a client by month t (newcomers join later; before, all blocked)


MonthObserver = Callable[[MonthState], None]


def month_dates(n_months: int, first: np.datetime64 = FIRST_MONTH) -> np.ndarray:
    """Snapshot dates: the 28th of each month, like train_ver2.csv."""
    return (first.astype("datetime64[M]") + np.arange(n_months)).astype("datetime64[D]") + 27


def simulate(
    n_clients: int,
    n_months: int,
    seed: int,
    first_id: int = 1,
    calibration: dict[str, Any] | None = None,
    chunk_size: int = 10_000,
    observer: MonthObserver | None = None,
    holdings_only: bool = False,
    only_chunks: Sequence[int] | None = None,
) -> Iterator[Bundle]:
    """Yield bundles of at most `chunk_size` clients each; `observer` sees every month's state.

    `holdings_only`: clients, holdings and add/drop events only (no operations, offer log,
    truth or Bayes ceiling), about 2x faster; the random draws are the same, so the
    holdings equal those of a full run with the same arguments (the Santander export).
    `only_chunks`: yield just these chunk indices (same data as in a full run), so worker
    processes can each simulate a share of one population.
    """
    if holdings_only and observer is not None:
        raise ValueError("an observer needs the full simulation (holdings_only=False)")
    cal = calibration or load_calibration()
    months = month_dates(n_months)
    cal_ctx = _context(cal)
    calendar = camp.calendar(seed, n_months)
    for k, start in enumerate(range(0, n_clients, chunk_size)):
        if only_chunks is not None and k not in only_chunks:
            continue
        rng = np.random.default_rng([seed, k])
        n = min(chunk_size, n_clients - start)
        yield _chunk(
            rng, n, first_id + start, n_months, months, cal, cal_ctx, calendar, observer, holdings_only
        )


def _context(cal: dict[str, Any]) -> dict[str, Any]:
    catalog = load_catalog()
    codes = list(cal["products"])
    not_held = np.array([1 - cal["ownership"][c] for c in codes])
    elig_share = np.array([0.07 if (catalog[c].max_age or 999) < 18 else 1.0 for c in codes])
    own = tk.long_run_ownership(cal)
    rates = hist.rates(cal, own)
    return {
        "catalog": catalog,
        "codes": codes,
        "col": {c: i for i, c in enumerate(codes)},
        "hazard": tk.base_hazards(rates["fresh"], tk.mean_propensity(cal, catalog), not_held * elig_share),
        "rates": rates,
        "own": own,
        "groups": hist.complement_groups(catalog, codes),
        "ladder": hist.ladder_matrix(catalog, codes),
        "links": le.link_matrix(catalog, codes),
        "conflicts": [(codes.index(p.code), [codes.index(o) for o in p.conflicts]) for p in catalog.bank],
    }


def _chunk(
    rng: np.random.Generator,
    n: int,
    first_id: int,
    n_months: int,
    months: np.ndarray,
    cal: dict[str, Any],
    ctx: dict[str, Any],
    calendar: list[list[int]],
    observer: MonthObserver | None = None,
    holdings_only: bool = False,
) -> Bundle:
    codes, col = ctx["codes"], ctx["col"]
    n_p = len(codes)
    pop = sample_population(rng, n, first_id, cal, ctx["catalog"], months[-1])
    # a child stream: the join months do not shift the draws of everything else
    join_rng = rng.spawn(1)[0]
    join = jn.draw_join_months(join_rng, n, n_months)
    first = jn.contract_dates(join_rng, pop.frame["first_contract_date"].to_numpy(), join, months)
    _set_contract_dates(pop.frame, first, months[-1])
    first_rates = jn.first_product_rates(cal, pop)
    moy = months.astype("datetime64[M]").astype(int) % 12 + 1
    events = le.draw_events(rng, pop.age, pop.segment, moy)
    trait = rs.draw_traits(rng, n)
    types = rs.draw_types(rng, trait, n_p)
    # (n, P): a life event linked to the product happens in the horizon
    linked = ((events[:, :, None] >= 0) & ctx["links"][None, :, :]).any(1)
    make_sure = linked & (rng.random((n, n_p)) < tk.LINKED_SURE_SHARE)
    types[make_sure] = tk.SURE_THING
    effect = tk.offer_effect(rng, types)
    seg_mult = tk.propensity(cal, pop.segment, pop.age)  # measured segment x age multipliers
    consent = pop.frame["marketing_consent"].to_numpy() & ~pop.frame["contact_opt_out"].to_numpy()
    med = np.exp(np.median(cal["segments"]["individual"]["income_log_quantiles"]))
    rel_income = np.log(pop.income / med)
    i_nom, i_pens = col["nomina"], col["nom_pens"]
    held = pop.holdings0 & (join == 0)[:, None]
    last_drop = hist.initial_drops(rng, pop.holdings0, pop.eligible, ctx["rates"], ctx["own"])
    last_drop[join > 0] = hist.NO_DROP  # a newcomer has no product history
    last_add = np.full((n, n_p), hist.NO_DROP, dtype=np.int64)
    shown = np.zeros((n, n_months), dtype=np.int64)  # offers shown per client and month
    evidence = rs.Evidence(n, n_p)
    need_seen = pop.need_given_income  # what a bank can know of the latent need

    def couple(p: np.ndarray) -> np.ndarray:
        return hist.co_adopt(p, i_pens, i_nom)

    hold_list, ev_list, truth_list = [rw.holding_rows(pop.ids, months[0], held, codes)], [], []
    offer_list: list[Any] = []  # per campaign: assignment tuples, then their offer-log rows
    for t in range(1, n_months):
        blocked = held | ~pop.eligible
        arriving = join == t
        blocked[join >= t] = True  # not a client yet, or arriving with its first products
        for j, others in ctx["conflicts"]:
            blocked[:, j] |= held[:, others].any(1) if others else False
        boost = le.event_boost(events, ctx["links"], t)
        season_mult = tk.season(cal, int(moy[t]))
        hmult = hist.history_mult(held, last_add, t, ctx["groups"], ctx["ladder"])
        react = hist.react_hazard(last_drop, t, ctx["rates"]["react_first"])
        react = hist.pair_react(react, last_drop, i_pens, i_nom)
        contacts = shown[:, max(0, t - rs.FATIGUE_MONTHS) : t].sum(1)
        fat = rs.fatigue(contacts)
        raw_org, raw_off = tk.probabilities(
            ctx["hazard"],
            seg_mult,
            pop.need,
            types,
            effect * fat[:, None],
            season_mult,
            boost,
            ~blocked,
            hmult,
            react,
        )
        first_now = (arriving[:, None], first_rates)  # a newcomer's first products: cell rates
        p_org, p_off = np.where(*first_now, couple(raw_org)), np.where(*first_now, couple(raw_off))
        if not holdings_only:  # the ceiling draws nothing at random: skipping it changes no data
            by_type = rs.type_probs(
                ctx["hazard"], seg_mult, need_seen, season_mult, boost, ~blocked, hmult, react, fat, couple
            )
            c_org, c_off = (np.where(*first_now, a) for a in by_type.expect(evidence.type_weights(linked)))
        treated = np.zeros((n, n_p), dtype=bool)
        campaigns = []
        for c_idx in calendar[t]:
            c = camp.CAMPAIGNS[c_idx]
            j = col[c.product]
            q = camp.rule_probability(c, rel_income, pop.segment, pop.active, pop.age)
            idx, is_rand, arm, prop = camp.assign(rng, consent & ~blocked[:, j], q)
            treated[idx[arm], j] = True
            campaigns.append((idx, j, c, is_rand, arm, prop))
        adds = hist.draw_adds(rng, np.where(treated, raw_off, raw_org), i_pens, i_nom)
        adds[arriving] = pop.holdings0[arriving]
        dog_hit = (treated & (types == tk.SLEEPING_DOG)).any(1)
        drop_p = ctx["rates"]["drop"][None, :] * np.where(dog_hit, tk.SLEEPING_DOG_CHURN, 1.0)[:, None]
        drops = held & (rng.random((n, n_p)) < drop_p)
        drops[:, i_nom] |= drops[:, i_pens] & held[:, i_nom]  # the pair flips together
        drops[:, i_pens] |= drops[:, i_nom] & held[:, i_pens]
        new = (held | adds) & ~drops
        new[:, i_nom] &= new[:, i_pens]  # catalog rule: nomina only with nom_pens
        adds &= new  # an offer converted only if the product is held at the next snapshot
        if observer is not None:
            knowing_trait = by_type.expect(evidence.type_weights(linked, trait))
            t_org, t_off = (np.where(*first_now, a) for a in knowing_trait)
            observer(
                MonthState(
                    t,
                    int(moy[t]),
                    held,
                    np.where(arriving[:, None], ~pop.eligible, blocked),
                    ctx["hazard"],
                    seg_mult,
                    season_mult,
                    boost,
                    pop.need,
                    trait,
                    types,
                    effect,
                    linked,
                    p_org,
                    p_off,
                    treated,
                    adds,
                    react,
                    hmult,
                    contacts,
                    c_org,
                    c_off,
                    t_org,
                    t_off,
                    join <= t,
                )
            )
        shown[:, t] = treated.sum(1)
        last_drop[held & ~new] = t
        last_add[new & ~held] = t
        hold_list.append(rw.holding_rows(pop.ids, months[t], new, codes))
        ev_list.append(rw.event_rows(pop.ids, months[t], new & ~held, held & ~new, codes))
        if holdings_only:
            for idx, *_ in campaigns:
                rw.offer_draws(rng, len(idx))
            held = new
            continue
        for idx, j, _c, _r, arm, _p in campaigns:
            evidence.add(idx, j, arm, adds[idx, j], by_type)
        seen = join <= t  # truth rows of the clients by now
        po, pf, co, cf = (a[seen] for a in (p_org, p_off, c_org, c_off))
        truth_list.append(rw.truth_rows(pop.ids[seen], months[t], po, pf, co, cf, codes))
        offer_list += [
            rw.offer_rows(rng, pop.ids, months[t - 1], idx, j, c, is_rand, arm, prop, adds[idx, j])
            for idx, j, c, is_rand, arm, prop in campaigns
        ]
        held = new
    if holdings_only:
        return Bundle(
            clients=pop.frame,
            holdings=pd.concat(hold_list, ignore_index=True),
            product_events=pd.concat(ev_list, ignore_index=True) if ev_list else Bundle().product_events,
        )
    from core.data.simulator.operations import simulate_operations

    inv = np.array([c in INVESTMENT for c in codes])
    ops = simulate_operations(
        rng, pop.ids, months, pop.income, pop.age, pop.segment, pop.active, events, pop.need[:, inv].mean(1)
    )
    ops = jn.visible_operations(ops, pop.ids, join, months)
    empty_offers = Bundle().offers
    return Bundle(
        clients=pop.frame,
        holdings=pd.concat(hold_list, ignore_index=True),
        product_events=pd.concat(ev_list, ignore_index=True) if ev_list else Bundle().product_events,
        operations=ops,
        offers=pd.concat(offer_list, ignore_index=True) if offer_list else empty_offers,
        truth=pd.concat(truth_list, ignore_index=True) if truth_list else None,
    )


def _set_contract_dates(frame: pd.DataFrame, first: np.ndarray, snapshot: np.datetime64) -> None:
    """First contract date, seniority and the 'new' flag (as of the client row's snapshot)."""
    frame["first_contract_date"] = first
    seniority = (snapshot.astype("datetime64[M]") - first.astype("datetime64[M]")).astype(int)
    frame["seniority_months"] = seniority
    frame["is_new"] = seniority < 6


def truth_summary(truth_path: str | Path) -> dict[str, float]:
    """Mean true uplift per product, mean(p_offer - p_organic) over rows where take-up was possible."""
    frame = pd.read_parquet(truth_path, columns=["product_code", "p_organic", "p_offer"])
    frame = frame[(frame["p_organic"] > 0) | (frame["p_offer"] > 0)]
    diff = (frame["p_offer"] - frame["p_organic"]).astype("float64")
    return {
        str(k): float(v)
        for k, v in diff.groupby(frame["product_code"].astype(str), observed=True).mean().items()
    }
