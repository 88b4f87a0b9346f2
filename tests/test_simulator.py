"""The causal simulator: invariants, calibration against the real sample, DB round trip."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import numpy as np
import pandas as pd
import pytest

from core.catalog import load_catalog
from core.data.bundle import Bundle
from core.data.simulator import simulate, truth_summary
from core.data.simulator import takeup as tk
from core.data.simulator.calibration import derive_calibration, load_calibration


def _one(n: int, months: int, seed: int = 5) -> Bundle:
    return next(simulate(n, months, seed, chunk_size=n))


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return _one(6000, 13)


def test_deterministic_by_seed() -> None:
    a, b, c = _one(300, 4, 1), _one(300, 4, 1), _one(300, 4, 2)
    pd.testing.assert_frame_equal(a.operations, b.operations)
    pd.testing.assert_frame_equal(a.offers, b.offers)
    assert not a.operations["amount_cents"].equals(c.operations["amount_cents"])


def test_observer_sees_the_truth_without_changing_the_data() -> None:
    """The month states an analysis sees are the ones the truth rows were written from."""
    from core.data.simulator import MonthState

    states: list[MonthState] = []
    seen = next(simulate(400, 5, 3, chunk_size=400, observer=states.append))
    plain = _one(400, 5, 3)
    pd.testing.assert_frame_equal(seen.holdings, plain.holdings)
    pd.testing.assert_frame_equal(seen.offers, plain.offers)
    assert [s.t for s in states] == [1, 2, 3, 4]
    last = states[-1]
    truth = plain.truth[plain.truth["month"] == plain.truth["month"].max()]
    assert np.array_equal(truth["p_organic"].to_numpy(), last.p_organic[last.present].ravel())
    assert np.array_equal(truth["p_offer"].to_numpy(), last.p_offer[last.present].ravel())
    added = plain.product_events[
        (plain.product_events["kind"] == "add") & (plain.product_events["month"] == truth["month"].iloc[0])
    ]
    assert len(added) == last.adds.sum()


def test_ceiling_prior_averages_over_hidden_trait_and_types() -> None:
    """With no offer answers yet, the ceiling's expectation equals a Monte Carlo average over
    drawn traits, types and effects (re-activation, ladders and fatigue included)."""
    from core.data.simulator import response as rs

    rng = np.random.default_rng(0)
    n, n_p = 40_000, 3
    hazard = np.array([0.004, 0.01, 0.02])
    linked = np.zeros((n, n_p), dtype=bool)
    linked[: n // 2, 1] = True
    ones = np.ones((n, n_p))
    react = np.zeros((n, n_p))
    react[::3, 2] = 0.3
    hist_mult = np.where(rng.random((n, n_p)) < 0.2, 2.0, 1.0)
    fat = rs.fatigue(rng.integers(0, 4, n))
    can_add = np.ones((n, n_p), bool)
    types = rs.draw_types(rng, rs.draw_traits(rng, n), n_p)
    types[linked & (rng.random((n, n_p)) < tk.LINKED_SURE_SHARE)] = tk.SURE_THING
    effect = tk.offer_effect(rng, types) * fat[:, None]
    p_org, p_off = tk.probabilities(
        hazard, ones, ones, types, effect, np.ones(n_p), ones, can_add, hist_mult, react
    )
    by_type = rs.type_probs(
        hazard, ones, ones, np.ones(n_p), ones, can_add, hist_mult, react, fat, lambda p: p
    )
    e_org, e_off = by_type.expect(rs.Evidence(n, n_p).type_weights(linked))
    for part in (linked[:, 1], ~linked[:, 1]):
        assert e_org[part].mean(0) == pytest.approx(p_org[part].mean(0), rel=0.03)
        # a persuadable's effect is replaced by its mean (the awareness floor makes that inexact)
        true_u = (p_off - p_org)[part].mean(0)
        assert (e_off - e_org)[part].mean(0) == pytest.approx(true_u, rel=0.08, abs=2e-4)
    assert (e_off - e_org)[linked[:, 1], 1].mean() < (e_off - e_org)[~linked[:, 1], 1].mean()
    # re-activation is a sure thing: it raises take-up, not the offer's effect
    again = react[:, 2] > 0
    assert e_org[again, 2].mean() > 5 * e_org[~again, 2].mean()
    assert (e_off - e_org)[again, 2].mean() < (e_off - e_org)[~again, 2].mean()


@pytest.fixture(scope="module")
def states() -> list:
    """Month states of a 17-month population (the observer sees the hidden truth)."""
    out: list = []
    next(simulate(5000, 17, 21, chunk_size=5000, observer=out.append))
    return out


def test_ceiling_posterior_is_calibrated_on_answer_history(states: list) -> None:
    """Among clients who only declined offers and those never shown one (the groups large
    enough to measure on a small population: the ~80 who answered are too few, their true
    uplift swings with the hidden need), the ceiling's expected uplift matches the true
    uplift of the group. `test_trait_posterior_from_answers_is_exact` checks the answers."""
    sums = {name: np.zeros(2) for name in ("declined", "never")}
    n = len(states[0].trait)
    answered, shown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for prev, s in zip(states[:-1], states[1:], strict=True):  # pooled over months 8-16
        answered |= (prev.treated & prev.adds).any(1)
        shown |= prev.treated.any(1)
        if s.t < 8:
            continue
        live = ~s.blocked
        true_u = (s.p_offer - s.p_organic).astype(float)
        ceil_u = (s.ceiling_offer - s.ceiling_organic).astype(float)
        for name, grp in (("declined", shown & ~answered), ("never", ~shown)):
            mask = live & grp[:, None]
            sums[name] += (ceil_u[mask].sum(), true_u[mask].sum())
    for name, (ceiling, true) in sums.items():
        assert ceiling == pytest.approx(true, rel=0.15), name


def test_trait_posterior_from_answers_is_exact() -> None:
    """Where the likelihood is exact (the need known, effects at their means), the posterior
    over types of a product never offered, learnt through the trait from answers to offers
    of other products, matches the frequency of each type among clients who answered the
    same way: Bayes' rule, checked by Monte Carlo."""
    from core.data.simulator import response as rs

    rng = np.random.default_rng(3)
    n, n_p = 60_000, 3
    can_add = np.ones((n, n_p), bool)
    base = np.full((n, n_p), 0.05)
    by_type = rs.TypeProbs(
        *map(
            list,
            zip(
                *[
                    tk.typed_probabilities(
                        base,
                        tk.TYPE_NEED[k],
                        k == tk.PERSUADABLE,
                        np.full((n, 1), tk.TYPE_MEAN_EFFECT[k]),
                        can_add,
                    )
                    for k in range(4)
                ],
                strict=True,
            ),
        )
    )
    types = rs.draw_types(rng, rs.draw_traits(rng, n), n_p)
    evidence = rs.Evidence(n, n_p)
    idx = np.arange(n)
    answers = np.zeros(n, dtype=int)
    for j in (0, 1):  # two offers each of products 0 and 1, all shown
        for _ in range(2):
            p = np.choose(types[:, j], [by_type.offer[k][:, j] for k in range(4)])
            y = rng.random(n) < p
            answers += y
            evidence.add(idx, j, np.ones(n, bool), y, by_type)
    weights = evidence.type_weights(np.zeros((n, n_p), bool))
    for grp in (answers == 0, answers >= 1, answers >= 2):
        predicted = weights[grp, 2].mean(0)
        observed = np.bincount(types[grp, 2], minlength=4) / grp.sum()
        assert predicted == pytest.approx(observed, abs=0.03), (grp.sum(), predicted, observed)
    assert (
        weights[answers >= 2, 2, tk.PERSUADABLE].mean()
        > weights[answers == 0, 2, tk.PERSUADABLE].mean() + 0.05
    )


def test_ceilings_within_the_calibrated_ranges(states: list) -> None:
    """Loose version of bench_ceilings' targets on a small population: the observable MAP@7
    ceiling is a large share of perfect, offer history makes uplift targeting beat take-up
    targeting, and the oracle stays above every observable ceiling."""
    from core.evaluation.metrics import map_at_k
    from core.services.uplift_eval import choose, true_incremental

    test = [s for s in states if s.t >= 12]

    def mean_map(score) -> float:  # type: ignore[no-untyped-def]
        return float(np.mean([map_at_k(s.adds, np.where(s.blocked, -1.0, score(s)), 7) for s in test]))

    perfect = mean_map(lambda s: s.adds.astype(float))
    ceiling = mean_map(lambda s: np.where(s.treated, s.ceiling_offer, s.ceiling_organic))
    oracle = mean_map(lambda s: np.where(s.treated, s.p_offer, s.p_organic))
    assert 0.75 <= ceiling / perfect <= 0.98
    assert oracle > ceiling
    inc = {"uplift": 0.0, "takeup": 0.0, "oracle": 0.0}
    for s in test:
        true_u = (s.p_offer - s.p_organic).astype(float)
        for name, sc in (
            ("uplift", s.ceiling_offer - s.ceiling_organic),
            ("takeup", s.ceiling_organic),
            ("oracle", true_u),
        ):
            inc[name] += true_incremental(choose(np.where(s.blocked, -np.inf, sc.astype(float)), 0.2), true_u)
    assert 1.1 <= inc["uplift"] / inc["takeup"] <= 4.0
    assert inc["oracle"] > inc["uplift"]


def test_history_drives_which_product(states: list) -> None:
    """A product dropped last month comes back far more often than a never-held one is added,
    and payroll arrives with its pension line."""
    back, fresh = [], []
    for prev, cur in zip(states[:-1], states[1:], strict=True):
        dropped = prev.held & ~cur.held  # dropped at snapshot prev.t: may come back at cur.t
        dropped &= ~cur.blocked
        back.append(cur.adds[dropped].mean())
        never = ~cur.blocked & ~dropped & (cur.react == 0)
        fresh.append(cur.adds[never].mean())
    assert np.nanmean(back) > 20 * np.mean(fresh)
    from core.data.simulator import _context
    from core.data.simulator.calibration import load_calibration

    codes = _context(load_calibration())["codes"]
    i_nom, i_pens = codes.index("nomina"), codes.index("nom_pens")
    nom = np.concatenate([s.adds[:, i_nom] & ~s.held[:, i_pens] for s in states])
    pens = np.concatenate([s.adds[:, i_pens] for s in states])
    assert nom.sum() > 0 and pens[nom].all()


def test_nomina_only_with_nom_pens(bundle: Bundle) -> None:
    h = bundle.holdings
    keys = set(zip(h.client_id, h.month, h.product_code.astype(str), strict=True))
    nomina = h[h.product_code == "nomina"]
    assert len(nomina) > 0
    assert all((c, m, "nom_pens") in keys for c, m in zip(nomina.client_id, nomina.month, strict=True))


def test_age_eligibility(bundle: Bundle) -> None:
    cat = load_catalog()
    h = bundle.holdings.merge(bundle.clients[["id", "age"]], left_on="client_id", right_on="id")
    for code, part in h.groupby(h.product_code.astype(str)):
        spec = cat[code]
        assert (part.age >= spec.min_age).all(), code
        assert spec.max_age is None or (part.age <= spec.max_age).all(), code


def test_events_match_holdings(bundle: Bundle) -> None:
    h = bundle.holdings.assign(product_code=bundle.holdings.product_code.astype(str), held=1)
    wide = h.pivot_table(index=["client_id", "product_code"], columns="month", values="held", fill_value=0)
    months = list(wide.columns)
    ev = bundle.product_events
    for prev, cur in zip(months[:-1], months[1:], strict=True):
        adds = wide.index[(wide[cur] == 1) & (wide[prev] == 0)]
        drops = wide.index[(wide[cur] == 0) & (wide[prev] == 1)]
        e = ev[ev.month == cur]
        got = e.assign(product_code=e.product_code.astype(str))
        assert set(adds) == set(
            zip(*got[got.kind == "add"][["client_id", "product_code"]].T.values, strict=True)
        )
        assert set(drops) == set(
            zip(*got[got.kind == "drop"][["client_id", "product_code"]].T.values, strict=True)
        )


def test_truth_offer_effects(bundle: Bundle) -> None:
    t = bundle.truth
    assert t is not None
    live = t[t.p_organic > 0]
    assert (live.p_offer != live.p_organic).mean() > 0.3
    assert (live.p_offer < live.p_organic).mean() > 0.05  # sleeping dogs exist
    assert (live.p_offer > live.p_organic).mean() > 0.15  # persuadables exist


def test_life_events_precede_takeup() -> None:
    """Clients with a car-purchase auto spike have a higher true take-up of pres_fin (the
    product linked to it) than the rest.

    Judged on pres_fin alone: recibo and tjcr_fin are not linked to a car purchase. Judged on
    the true probability, not on realised adds: since re-activations carry most additions,
    the fresh pres_fin hazard expects about one add among the ~750 event clients here, too
    few to compare.
    """
    b = _one(20000, 8, 11)
    ops = b.operations
    big_auto = ops[(ops.category == "auto") & (ops.amount_cents < -500_000)].client_id.unique()
    assert len(big_auto) > 0
    assert b.truth is not None
    t = b.truth[(b.truth.product_code == "pres_fin") & (b.truth.p_organic > 0)]
    with_event = t.client_id.isin(big_auto)
    assert t[with_event].p_organic.mean() > 2 * t[~with_event].p_organic.mean()
    assert t[with_event].p_ceiling_organic.mean() > 2 * t[~with_event].p_ceiling_organic.mean()


def _existing_client_adds(bundle: Bundle) -> pd.DataFrame:
    """Add events, without newcomers' first products (added in their join month)."""
    ev = bundle.product_events
    first = bundle.clients.set_index("id")["first_contract_date"]
    joined = _month(first.reindex(ev["client_id"])) == _month(ev["month"])
    return ev[(ev.kind == "add").to_numpy() & ~joined]


def test_june_reca_seasonality(bundle: Bundle) -> None:
    adds = _existing_client_adds(bundle)
    reca = adds[adds.product_code == "reca_fin"]
    by_month = reca.groupby(reca.month.dt.month).size()
    assert by_month.get(6, 0) > 2 * by_month.drop(6).mean()


def test_offer_log(bundle: Bundle) -> None:
    o = bundle.offers
    assert ((o.propensity > 0) & (o.propensity <= 1)).all()
    share_random = (o.assignment == "random").mean()
    assert 0.07 < share_random < 0.13
    rnd = o[o.assignment == "random"]
    assert (rnd.propensity == 0.5).all()
    assert 0.45 < (rnd.arm == "treatment").mean() < 0.55
    assert o.outcome_at.notna().eq(o.converted).all()
    # a conversion is an add in the next snapshot
    ev = bundle.product_events
    adds = set(
        zip(ev[ev.kind == "add"].client_id, ev[ev.kind == "add"].product_code.astype(str), strict=True)
    )
    conv = o[o.converted]
    assert all((c, p) in adds for c, p in zip(conv.client_id, conv.product_code, strict=True))


def _month(values: object) -> np.ndarray:
    """Month precision of dates, timestamps or a column of them (UTC, naive)."""
    stamps = pd.to_datetime(pd.Series(np.asarray(values)), utc=True).dt.tz_localize(None)
    return stamps.to_numpy().astype("datetime64[M]")


def test_monthly_add_rate(bundle: Bundle) -> None:
    """About 3.5% of the clients of a month add a product the next (a newcomer's first
    products are not counted: the published rate is over clients of consecutive months)."""
    adds = _existing_client_adds(bundle)
    first = bundle.clients.set_index("id")["first_contract_date"]
    months = np.unique(_month(bundle.product_events["month"]))
    present = pd.Series([(_month(first) < m).sum() for m in months], index=months)
    rate = adds.groupby(_month(adds["month"])).client_id.nunique() / present
    assert 0.03 <= rate.mean() <= 0.05, rate


def test_clients_join_during_the_horizon(bundle: Bundle) -> None:
    """Newcomers arrive as in the real file (about a third of May 2016's clients joined after
    January 2015, most of them in July 2015) and leave no trace before their first month."""
    from core.data.simulator.joiners import join_pmf

    first = bundle.clients.set_index("id")["first_contract_date"]
    late = first[_month(first) > _month([bundle.holdings["month"].min()])[0]]
    expected = 1.0 - join_pmf(13)[0]
    assert abs(len(late) / len(first) - expected) < 0.03, (len(late) / len(first), expected)
    tables = ((bundle.holdings, "month"), (bundle.operations, "occurred_at"), (bundle.offers, "shown_at"))
    for frame, col in tables:
        rows = frame[frame["client_id"].isin(late.index)]
        assert (_month(rows[col]) >= _month(late.reindex(rows["client_id"]))).all(), col
    # a newcomer's first snapshot holds its first products (added that month); most have one
    ev = bundle.product_events
    adds = ev[(ev.kind == "add") & ev["client_id"].isin(late.index)]
    at_join = adds[_month(adds["month"]) == _month(late.reindex(adds["client_id"]))]
    assert at_join.client_id.nunique() >= 0.5 * len(late)


def test_calibration_against_sample(santander_sample: Path) -> None:
    from scipy.stats import ks_2samp

    cal = derive_calibration(santander_sample)
    raw = pd.read_csv(santander_sample, skipinitialspace=True, low_memory=False)
    b = _one(20000, 1, 3)
    n = len(b.clients)
    first = b.holdings
    for code in cal["products"]:
        real = float(raw[f"ind_{code}_ult1"].fillna(0).mean())
        sim = float((first.product_code == code).sum()) / n
        tol = 0.03 if real >= 0.05 else max(0.3 * real, 4 * np.sqrt(max(real, 1e-4) / n))
        assert abs(sim - real) <= tol, (code, real, sim)
    age = pd.to_numeric(raw["age"], errors="coerce").dropna()
    assert ks_2samp(b.clients["age"], age).statistic <= 0.1
    income = pd.to_numeric(raw["renta"], errors="coerce").dropna()
    measured = b.clients[[not f for f in b.clients.imputed_fields]]["income"].astype(float)
    assert ks_2samp(measured, income).statistic <= 0.1


def test_takeup_propensity_measured_on_sample(santander_sample: Path) -> None:
    """The segment/age hazard multipliers are ownership ratios of the real sample, not assumptions."""
    cal = load_calibration()
    prop = cal["takeup_propensity"]
    raw = pd.read_csv(santander_sample, skipinitialspace=True, low_memory=False)
    raw["age"] = pd.to_numeric(raw["age"], errors="coerce")
    raw = raw[raw["segmento"].notna() & raw["age"].notna() & (raw["age"] >= 18)]
    owned = raw["ind_ecue_fin_ult1"].fillna(0).astype(int)
    top = raw["segmento"] == "01 - TOP"
    m = prop["prior_owners"]
    expected = top.sum() * owned.mean()
    ratio = np.clip((owned[top].sum() + m) / (expected + m), *prop["clip"])
    assert prop["segment"]["ecue_fin"]["top"] == pytest.approx(ratio, abs=1e-4)
    assert derive_calibration(santander_sample)["takeup_propensity"] == prop
    mult = tk.propensity(cal, np.array([0, 2]), np.array([45, 22]))
    assert mult[0, cal["products"].index("ecue_fin")] > 1 > mult[1, cal["products"].index("ecue_fin")]


def test_committed_calibration_is_aggregates() -> None:
    cal = load_calibration()
    assert "notes" in cal and cal["n_rows"] > 0
    assert all("ncodpers" not in k for k in cal)


async def test_generate_to_db(db_url: str, tmp_path: Path) -> None:
    from core.data.generate import generate_to_db

    report = await generate_to_db(300, 6, 9, url=db_url, truth_dir=tmp_path, show_progress=False)
    expected = _one(300, 6, 9)
    conn = await asyncpg.connect(db_url)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM client WHERE dataset_id=$1", report.dataset_id) == 300
        )
        ops = await conn.fetchval("SELECT count(*) FROM operation")
        offers = await conn.fetchval("SELECT count(*) FROM offer_log")
        holdings = await conn.fetchval("SELECT count(*) FROM holding")
        path = await conn.fetchval("SELECT truth_path FROM dataset WHERE id=$1", report.dataset_id)
    finally:
        await conn.close()
    assert ops == len(expected.operations) and offers == len(expected.offers)
    assert holdings == len(expected.holdings)
    assert Path(path).exists() and expected.truth is not None
    assert 0 < report.truth_rows == len(expected.truth) <= 300 * 5 * 18
    summary = truth_summary(path)
    assert set(summary) <= set(load_catalog().bank_codes) and summary
    again = await generate_to_db(10, 2, 1, url=db_url, if_empty=True, show_progress=False)
    assert again.skipped
    assert tk.TYPE_MIX.sum() == pytest.approx(1.0)
