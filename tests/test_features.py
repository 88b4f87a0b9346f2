"""Point-in-time features: hand-computed values, no leakage, batch == online, DB == Parquet."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.bundle import CLIENT_COLUMNS, OFFER_COLUMNS, Bundle
from core.features import (
    FeatureFrames,
    build_features,
    build_features_db,
    export_parquet,
    feature_columns,
    fit_clusters,
    from_bundle,
    load_clusters,
    load_frames_db,
    load_frames_parquet,
    make_labels,
    month_index,
    training_frame,
)
from core.features.definitions import NEVER_MONTHS
from core.features.frames import coerce_clients

PRODUCTS = ("cco_fin", "recibo", "tjcr_fin")
CUTOFF = date(2015, 6, 28)


def client_row(cid: int, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {c: None for c in CLIENT_COLUMNS}
    row.update(
        id=cid,
        snapshot_month=pd.Timestamp("2015-06-28"),
        employee_status="N",
        country="ES",
        sex="V",
        age=30,
        first_contract_date=pd.Timestamp("2010-01-01"),
        is_new=False,
        seniority_months=60,
        primary_status=1,
        customer_type="1",
        relation_type="A",
        is_resident=True,
        is_foreigner=False,
        spouse_of_employee=None,
        join_channel="KFC",
        is_deceased=False,
        address_type=1,
        province_code=28,
        province_name="MADRID",
        is_active=True,
        income=30000.0,
        segment="individual",
        language="ru",
        marketing_consent=True,
        contact_opt_out=False,
        imputed_fields=[],
    )
    row.update(kw)
    return row


def hold(cid: int, product: str, months: list[str]) -> list[dict[str, object]]:
    return [{"client_id": cid, "month": pd.Timestamp(m), "product_code": product} for m in months]


def op(cid: int, when: str, amount: float, category: str) -> dict[str, object]:
    return {
        "client_id": cid,
        "occurred_at": pd.Timestamp(when, tz="UTC"),
        "amount": amount,
        "category": category,
    }


def tiny() -> FeatureFrames:
    clients = pd.DataFrame(
        [
            client_row(
                1,
                snapshot_month=pd.Timestamp("2016-05-28"),
                age=40,
                seniority_months=100,
                first_contract_date=pd.Timestamp("2015-02-10"),
                income=50000.0,
                segment=None,
            ),
            client_row(2),
            client_row(3, first_contract_date=pd.Timestamp("2015-08-03")),  # joins after cutoff
        ]
    )
    months = [f"2015-0{i}-28" for i in range(1, 7)]
    holdings = pd.DataFrame(
        hold(1, "cco_fin", months)
        + hold(1, "recibo", months[3:])
        + hold(1, "tjcr_fin", [months[1]])
        + hold(2, "cco_fin", months[5:])
    )
    events = pd.DataFrame(
        [
            {"client_id": 1, "month": pd.Timestamp("2015-04-28"), "product_code": "recibo", "kind": "add"},
            {"client_id": 1, "month": pd.Timestamp("2015-02-28"), "product_code": "tjcr_fin", "kind": "add"},
            {"client_id": 1, "month": pd.Timestamp("2015-03-28"), "product_code": "tjcr_fin", "kind": "drop"},
        ]
    )
    operations = pd.DataFrame(
        [
            op(1, "2015-06-15", -10, "groceries"),
            op(1, "2015-05-10", -20, "groceries"),
            op(1, "2015-03-01", -30, "groceries"),
            op(1, "2014-12-31", -40, "groceries"),
            op(1, "2015-06-30 23:59", -50, "travel"),
            op(1, "2015-07-01 00:00", -999, "travel"),
            op(1, "2015-06-01", 1000, "salary"),
            op(1, "2015-05-01", 1000, "salary"),
            op(1, "2015-04-01", 1200, "salary"),
            op(1, "2015-02-01", 800, "salary"),
        ]
    )
    return FeatureFrames(clients, holdings, events, operations)


@pytest.fixture(scope="module")
def feats() -> pd.DataFrame:
    return build_features(tiny(), CUTOFF, products=PRODUCTS).set_index("client_id")


def test_population_and_columns(feats: pd.DataFrame) -> None:
    assert list(feats.index) == [1, 2]  # client 3 joined after the cutoff
    assert list(feats.columns) == ["cutoff", *feature_columns(PRODUCTS)]
    assert (feats["cutoff"] == pd.Timestamp("2015-06-01")).all()


def test_questionnaire_shifted_to_cutoff(feats: pd.DataFrame) -> None:
    c = feats.loc[1]
    assert c["age"] == pytest.approx(40 - 11 / 12)
    assert c["seniority_months"] == 89
    assert c["is_new"] == 1 and feats.loc[2, "is_new"] == 0
    assert c["log_income"] == pytest.approx(math.log1p(50000))
    assert c["segment"] == "missing" and c["province_code"] == "28"
    assert c["target_month"] == 7 and c["is_june"] == 0


def test_holdings_lags_events(feats: pd.DataFrame) -> None:
    c = feats.loc[1]
    assert [c[f"hold_cco_fin_l{k}"] for k in (0, 1, 2, 3, 6, 12)] == [1, 1, 1, 1, 0, 0]
    assert [c[f"hold_recibo_l{k}"] for k in (0, 1, 2, 3)] == [1, 1, 1, 0]
    assert [c[f"hold_tjcr_fin_l{k}"] for k in (0, 1, 2, 3, 6)] == [0, 0, 0, 0, 0]  # Feb = l4
    assert c["n_held_l0"] == 2 and c["n_held_l3"] == 1
    assert (c["n_add_recibo"], c["n_drop_recibo"], c["months_since_change_recibo"]) == (1, 0, 2)
    assert (c["n_add_tjcr_fin"], c["n_drop_tjcr_fin"], c["months_since_change_tjcr_fin"]) == (1, 1, 3)
    assert c["months_since_change_cco_fin"] == NEVER_MONTHS
    assert (c["n_add_3m"], c["n_drop_3m"]) == (1, 0)
    assert c["history_months"] == 6 and feats.loc[2, "history_months"] == 1


def test_drops_flips_and_relations() -> None:
    """Client 1 added tjcr_fin in Feb and dropped it in Mar (cutoff Jun): 3 months since the
    drop, dropped within 6 months but not 1 or 3, two flips. Relations from the catalog:
    nomina requires nom_pens; cno_fin, nomina and dela_fin share a partner complement."""
    from core.features.history import relation_matrices

    f = build_features(tiny(), CUTOFF, products=PRODUCTS).set_index("client_id")
    assert (
        f.loc[1, "months_since_drop_tjcr_fin"] == 3 and f.loc[1, "months_since_drop_recibo"] == NEVER_MONTHS
    )
    assert f.loc[1, ["dropped_1m_tjcr_fin", "dropped_3m_tjcr_fin", "dropped_6m_tjcr_fin"]].tolist() == [
        0,
        0,
        1,
    ]
    assert f.loc[1, "flips_12m_tjcr_fin"] == 2 and f.loc[1, "flips_12m_recibo"] == 1
    assert f.loc[2, "flips_12m_tjcr_fin"] == 0

    products = ("nom_pens", "nomina", "cno_fin", "dela_fin", "cco_fin")
    requires, related = relation_matrices(products)
    assert requires[1, 0] and requires.sum() == 1
    assert related[1, 0] and related[0, 1] and related[2, 3] and related[1, 2] and not related[4].any()
    months = ["2015-04-28", "2015-05-28", "2015-06-28"]
    frames = FeatureFrames(
        tiny().clients,
        pd.DataFrame(
            hold(1, "nom_pens", months) + hold(1, "cno_fin", months[2:]) + hold(2, "cco_fin", months)
        ),
        pd.DataFrame(
            [
                {"client_id": 1, "month": pd.Timestamp(m), "product_code": p, "kind": "add"}
                for m, p in (("2015-04-28", "nom_pens"), ("2015-06-28", "cno_fin"))
            ]
        ),
        tiny().operations,
    )
    g = build_features(frames, CUTOFF, products=products).set_index("client_id")
    assert g.loc[1, "req_met_nomina"] == 1 and g.loc[2, "req_met_nomina"] == 0
    assert g.loc[1, "req_met_cco_fin"] == 1  # nothing required
    # nomina relates to nom_pens (requires) and cno_fin (sibling): both held
    assert g.loc[1, "n_related_held_nomina"] == 2 and g.loc[1, "n_related_held_dela_fin"] == 1
    assert g.loc[1, "related_added_3m_nomina"] == 2 and g.loc[1, "related_added_3m_dela_fin"] == 1
    assert g.loc[2, ["n_related_held_nomina", "related_added_3m_nomina"]].tolist() == [0, 0]


def test_offer_history_hand_computed() -> None:
    """Cutoff June: offers shown before June count; answers known by July 1; control rows are
    no contact."""
    rows = [
        # client, product, shown, arm, converted, outcome, window
        (1, "recibo", "2015-02-01", "treatment", True, "2015-02-10", 30),
        (1, "recibo", "2015-05-29", "treatment", False, None, 30),  # declined (closed Jun 28)
        (1, "tjcr_fin", "2015-05-30", "treatment", False, None, 45),  # still open on Jul 1: seen only
        (1, "partner_auto", "2015-04-02", "treatment", False, None, 30),  # declined, not a product column
        (1, "tjcr_fin", "2015-03-01", "control", True, "2015-03-05", 30),  # not a contact
        (1, "recibo", "2015-06-29", "treatment", True, "2015-06-30", 30),  # cutoff month: not yet
        (2, "cco_fin", "2015-05-20", "treatment", True, "2015-07-02", 60),  # answered after the cutoff
    ]
    offers = pd.DataFrame(
        rows,
        columns=["client_id", "product_code", "shown_at", "arm", "converted", "outcome_at", "window_days"],
    )
    offers["shown_at"] = pd.to_datetime(offers["shown_at"], utc=True)
    offers["outcome_at"] = pd.to_datetime(offers["outcome_at"], utc=True)
    t = tiny()
    f = build_features(
        FeatureFrames(t.clients, t.holdings, t.events, t.operations, offers=offers), CUTOFF, products=PRODUCTS
    ).set_index("client_id")
    r = f.loc[1]
    assert [r[f"offer_{s}_recibo"] for s in ("seen", "answered", "declined", "months_since", "3m", "6m")] == [
        2,
        1,
        1,
        1,
        1,
        2,
    ]
    assert [r[f"offer_{s}_tjcr_fin"] for s in ("seen", "answered", "declined", "months_since")] == [
        1,
        0,
        0,
        1,
    ]
    assert r["offer_seen_cco_fin"] == 0 and r["offer_months_since_cco_fin"] == NEVER_MONTHS
    assert [r[f"offers_{s}"] for s in ("seen", "answered", "declined", "months_since", "3m", "6m")] == [
        4,
        1,
        2,
        1,
        3,
        4,
    ]
    assert r["offers_answer_rate"] == pytest.approx(1 / 3)
    c2 = f.loc[2]
    assert [c2["offer_seen_cco_fin"], c2["offer_answered_cco_fin"], c2["offer_declined_cco_fin"]] == [1, 0, 0]
    assert c2["offers_answer_rate"] == -1.0 and c2["offers_seen"] == 1


def test_operation_windows(feats: pd.DataFrame) -> None:
    c = feats.loc[1]
    assert [c[f"op_groceries_cnt_{w}m"] for w in (1, 3, 6)] == [1, 2, 3]
    assert [c[f"op_groceries_abs_{w}m"] for w in (1, 3, 6)] == [10, 30, 60]
    assert c["op_groceries_share_1m"] == pytest.approx(10 / 60)
    assert c["op_travel_share_1m"] == pytest.approx(50 / 60)
    assert c["op_groceries_share_6m"] == pytest.approx(60 / 110)
    assert c["op_salary_share_6m"] == 0  # inflows are not spend
    assert c["op_groceries_trend"] == pytest.approx(math.log1p(10) - math.log1p(50 / 3))
    assert c["op_groceries_recency_days"] == pytest.approx(16)
    assert c["op_travel_recency_days"] == pytest.approx(1 / 1440)
    assert c["op_travel_abs_1m"] == 50  # the -999 of July 1st is the future
    assert (c["ops_spend_1m"], c["ops_inflow_1m"], c["ops_cnt_1m"]) == (60, 1000, 3)
    empty = feats.loc[2]
    assert empty["op_groceries_recency_days"] == 365  # capped: 2014-07-01 .. 2015-07-01
    assert empty["ops_cnt_6m"] == 0 and empty["op_groceries_trend"] == 0


def test_salary_regularity(feats: pd.DataFrame) -> None:
    c = feats.loc[1]
    assert c["salary_months_6m"] == 4
    assert c["salary_cv_6m"] == pytest.approx(math.sqrt(20000) / 1000)
    assert c["salary_change"] == pytest.approx(math.log1p(1000) - math.log1p(2200 / 3))
    assert feats.loc[2, "salary_cv_6m"] == 0


def random_frames(n: int = 300, seed: int = 1) -> FeatureFrames:
    """A random population over 2015-01..2016-05 with three behaviour profiles."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2015-01-28", periods=17, freq="MS") + pd.Timedelta(days=27)
    clients = pd.DataFrame(
        [
            client_row(
                i,
                snapshot_month=months[-1],
                age=int(rng.integers(18, 80)),
                first_contract_date=pd.Timestamp("2012-01-01")
                + pd.Timedelta(days=int(rng.integers(0, 1600))),
                income=float(rng.lognormal(10, 0.5)),
                segment=str(rng.choice(["top", "individual", "student"])),
            )
            for i in range(1, n + 1)
        ]
    )
    held = rng.random((n, 17, len(PRODUCTS))) < np.array([0.9, 0.4, 0.2])
    ci, mi, pi = np.nonzero(held)
    holdings = pd.DataFrame(
        {"client_id": ci + 1, "month": months[mi], "product_code": np.array(PRODUCTS)[pi]}
    )
    prev = np.concatenate([np.zeros((n, 1, len(PRODUCTS)), bool), held[:, :-1]], axis=1)
    rows = []
    for kind, mask in (("add", held & ~prev), ("drop", prev & ~held)):
        mask[:, 0] = False
        ci, mi, pi = np.nonzero(mask)
        rows.append(
            pd.DataFrame(
                {
                    "client_id": ci + 1,
                    "month": months[mi],
                    "product_code": np.array(PRODUCTS)[pi],
                    "kind": kind,
                }
            )
        )
    profile = rng.integers(0, 3, n)
    cats = np.array([["groceries", "restaurants"], ["travel", "entertainment"], ["kids", "health"]])
    n_ops = 17 * 8 * n
    cid = rng.integers(1, n + 1, n_ops)
    when = pd.Timestamp("2015-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 516 * 86400, n_ops), unit="s"
    )
    ops = pd.DataFrame(
        {
            "client_id": cid,
            "occurred_at": when,
            "amount": -rng.gamma(2, 20, n_ops).round(2),
            "category": cats[profile[cid - 1], rng.integers(0, 2, n_ops)],
        }
    )
    sal = pd.DataFrame(
        {
            "client_id": np.repeat(np.arange(1, n + 1), 17),
            "occurred_at": np.tile(pd.date_range("2015-01-02", periods=17, freq="MS", tz="UTC"), n),
            "amount": 1500.0,
            "category": "salary",
        }
    )
    return FeatureFrames(
        clients, holdings, pd.concat(rows), pd.concat([ops, sal]), offers=random_offers(rng, n)
    )


def random_offers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Offers shown 1-4 days after each month's 28th snapshot, some converting within 24 days."""
    k = 17 * n // 2
    snapshots = pd.date_range("2015-01-28", periods=16, freq="MS", tz="UTC") + pd.Timedelta(days=27)
    shown = pd.DatetimeIndex(snapshots[rng.integers(0, 16, k)]) + pd.to_timedelta(
        rng.integers(1, 5, k), unit="D"
    )
    converted = rng.random(k) < 0.3
    outcome = shown + pd.to_timedelta(rng.uniform(0.2, 24, k), unit="D")
    return pd.DataFrame(
        {
            "client_id": rng.integers(1, n + 1, k),
            "product_code": rng.choice([*PRODUCTS, "partner_auto"], k),
            "shown_at": shown,
            "arm": np.where(rng.random(k) < 0.8, "treatment", "control"),
            "converted": converted,
            "outcome_at": pd.Series(outcome).where(converted).to_numpy(),
            "window_days": 30,
        }
    )


def test_no_leakage_from_after_the_cutoff() -> None:
    frames = random_frames(120)
    cutoff = "2015-09-28"
    rng = np.random.default_rng(7)
    end = pd.Timestamp("2015-10-01", tz="UTC")
    ops = frames.operations
    h, e = frames.holdings, frames.events
    o = frames.offers
    in_cutoff_month = pd.Timestamp("2015-09-01", tz="UTC")
    old = o[o["shown_at"] < in_cutoff_month]
    # what happens after the cutoff month: offers shown in or after it (an uplift row's own
    # offer is shown just after the cutoff's snapshot), and late outcomes of older offers
    late = old["outcome_at"] >= end
    future_offers = pd.concat(
        [
            old.assign(outcome_at=old["outcome_at"].where(~late, old["outcome_at"] + pd.Timedelta(days=3))),
            o[o["shown_at"] >= in_cutoff_month].assign(converted=True, arm="treatment"),
            pd.DataFrame(
                {
                    "client_id": [1, 2, 3],
                    "product_code": "recibo",
                    "shown_at": pd.to_datetime(
                        ["2015-09-29 00:00", "2015-09-30 23:00", "2015-10-02 00:00"], utc=True
                    ),
                    "arm": "treatment",
                    "converted": True,
                    "outcome_at": pd.to_datetime(["2015-09-30", "2015-10-01", "2015-10-05"], utc=True),
                    "window_days": 30,
                }
            ),
            # an older offer, not converted by the cutoff's end, converting after it
            pd.DataFrame(
                {
                    "client_id": [4],
                    "product_code": "recibo",
                    "shown_at": pd.to_datetime(["2015-08-25"], utc=True),
                    "arm": "treatment",
                    "converted": True,
                    "outcome_at": pd.to_datetime(["2015-10-03"], utc=True),
                    "window_days": 60,
                }
            ),
        ]
    )
    past_offers = pd.concat([old, future_offers.iloc[-1:].assign(converted=False, outcome_at=pd.NaT)])
    frames = FeatureFrames(
        frames.clients, frames.holdings, frames.events, frames.operations, offers=past_offers
    )
    before = build_features(frames, cutoff, products=PRODUCTS)
    assert (before["offers_seen"] > 0).any() and (before["offers_answered"] > 0).any()
    assert (before["months_since_drop_recibo"] < NEVER_MONTHS).any()
    future = FeatureFrames(
        clients=pd.concat(
            [frames.clients, pd.DataFrame([client_row(9999, first_contract_date=pd.Timestamp("2015-10-05"))])]
        ),
        holdings=pd.concat(
            [
                h[h["month"] <= pd.Timestamp(cutoff)],
                h[h["month"] > pd.Timestamp(cutoff)].sample(frac=0.5, random_state=1),
                pd.DataFrame(hold(5, "tjcr_fin", ["2015-10-28", "2016-01-28"])),
            ]
        ),
        events=pd.concat(
            [
                e,
                pd.DataFrame(
                    [
                        {
                            "client_id": 5,
                            "month": pd.Timestamp("2015-10-28"),
                            "product_code": "tjcr_fin",
                            "kind": "add",
                        }
                    ]
                ),
            ]
        ),
        operations=pd.concat(
            [
                ops[ops["occurred_at"] < end],
                ops[ops["occurred_at"] >= end].assign(amount=lambda d: d["amount"] * 3),
                pd.DataFrame(
                    [op(int(c), "2015-10-01 00:00", -1e6, "auto") for c in rng.integers(1, 121, 20)]
                ),
            ]
        ),
        offers=future_offers,
    )
    after = build_features(future, cutoff, products=PRODUCTS)
    pd.testing.assert_frame_equal(before, after)


def test_online_equals_batch_and_training_frame() -> None:
    frames = random_frames(80)
    batch = build_features(frames, "2015-12-28", products=PRODUCTS)
    for cid in (1, 17, 80):
        one = build_features(frames, "2015-12-28", client_ids=[cid], products=PRODUCTS)
        pd.testing.assert_frame_equal(one, batch[batch["client_id"] == cid].reset_index(drop=True))
    train = training_frame(frames, ["2015-11-28", "2015-12-28"], products=PRODUCTS)
    nov = build_features(frames, "2015-11-28", products=PRODUCTS)
    assert train.groupby("cutoff").size().tolist() == [len(nov), len(batch)]
    pd.testing.assert_frame_equal(train.iloc[len(nov) :, : batch.shape[1]].reset_index(drop=True), batch)
    assert {"label_cco_fin", "label_recibo", "label_tjcr_fin"} <= set(train.columns)


def test_operation_months_bins_give_the_raw_features() -> None:
    """Features read monthly bins: binned frames (as the database sends them, categories in
    any order) featurise exactly like the raw operations they summarise."""
    frames = random_frames(80)
    raw = build_features(frames, "2015-12-28", products=PRODUCTS)
    bins = frames.coerce().operation_months
    assert bins is not None and int(bins["n"].sum()) == len(frames.operations)
    shuffled = list(reversed(bins["category"].cat.categories))
    arrow_like = bins.assign(category=bins["category"].cat.set_categories(shuffled))
    assert arrow_like["category"].dtype == bins["category"].dtype  # equal, codes differ
    binned = FeatureFrames(
        frames.clients, frames.holdings, frames.events, operation_months=arrow_like, offers=frames.offers
    )
    pd.testing.assert_frame_equal(build_features(binned, "2015-12-28", products=PRODUCTS), raw)


def test_training_frame_float32() -> None:
    frames = random_frames(60)
    cutoffs = ["2015-11-28", "2015-12-28"]
    wide = training_frame(frames, cutoffs, products=PRODUCTS)
    small = training_frame(frames, cutoffs, products=PRODUCTS, float32_except=["ops_spend_6m"])
    assert small["ops_spend_6m"].dtype == np.float64 and small["op_cash_abs_1m"].dtype == np.float32
    assert small["label_recibo"].dtype == np.float32
    pd.testing.assert_frame_equal(small.astype(wide.dtypes.to_dict()), wide, rtol=1e-6)


def test_training_frame_in_client_chunks_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large training sets are built a chunk of clients at a time and stacked into one
    preallocated float32 block: the frame must equal the one-pass, concatenated one."""
    from core.features import pipeline

    frames = random_frames(60)
    cutoffs = ["2015-10-28", "2015-11-28", "2015-12-28"]
    whole = training_frame(frames, cutoffs, products=PRODUCTS)
    monkeypatch.setattr(pipeline, "CHUNK_CLIENTS", 7)
    chunked = training_frame(frames, cutoffs, products=PRODUCTS, float32_except=["ops_spend_6m"])
    assert chunked["op_cash_abs_1m"].dtype == np.float32 and chunked["ops_spend_6m"].dtype == np.float64
    pd.testing.assert_frame_equal(chunked.astype(whole.dtypes.to_dict()), whole, rtol=1e-6)


def test_labels_hand_computed() -> None:
    holdings = pd.DataFrame(
        hold(1, "cco_fin", ["2015-06-28", "2015-07-28"])
        + hold(1, "recibo", ["2015-07-28"])
        + hold(2, "tjcr_fin", ["2015-06-28"])
    )
    labels = make_labels(holdings, np.array([1, 2, 3]), month_index(CUTOFF), PRODUCTS)
    got = labels.set_index("client_id")
    assert np.isnan(got.loc[1, "label_cco_fin"]) and got.loc[1, "label_recibo"] == 1
    assert got.loc[1, "label_tjcr_fin"] == 0 and np.isnan(got.loc[2, "label_tjcr_fin"])
    assert got.loc[3].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="after the cutoff"):
        make_labels(holdings, np.array([1]), month_index("2015-07-28"), PRODUCTS)


def test_clustering_deterministic_and_criterion(tmp_path: Path) -> None:
    frames = random_frames(300)
    base = build_features(frames, "2015-12-28", products=PRODUCTS)
    a = fit_clusters(base, seed=3)
    b = fit_clusters(base, seed=3)
    assert a.k == b.k == max(a.scores, key=lambda k: (a.scores[k], -k))
    assert set(a.scores) == set(range(3, 11))
    assert (a.predict(base) == b.predict(base)).all()
    loaded = load_clusters(a.save(tmp_path / "clusters.pkl"))
    with_c = build_features(frames, "2015-12-28", products=PRODUCTS, clusters=loaded)
    assert (with_c["cluster"] == a.labels(base)).all()  # labelled from the columns, or the frame
    assert with_c.columns[-1] == "cluster" and with_c["cluster"].dtype == object
    assert {type(v) for v in with_c["cluster"]} == {str}
    assert a.labels({c: base[c].to_numpy() for c in base.columns}).tolist() == a.labels(base).tolist()
    one = build_features(frames, "2015-12-28", client_ids=[42], products=PRODUCTS, clusters=loaded)
    assert one["cluster"].iloc[0] == with_c.loc[with_c["client_id"] == 42, "cluster"].iloc[0]


def bundle_of(frames: FeatureFrames) -> Bundle:
    ops = frames.operations
    offers = frames.offers.assign(channel="app", strategy="test", assignment="random", propensity=0.5)
    return Bundle(
        offers=offers.loc[:, list(OFFER_COLUMNS)],
        clients=frames.clients.loc[:, list(CLIENT_COLUMNS)],
        holdings=frames.holdings,
        product_events=frames.events,
        operations=pd.DataFrame(
            {
                "client_id": ops["client_id"].to_numpy(),
                "occurred_at": pd.to_datetime(ops["occurred_at"], utc=True),
                "amount_cents": np.round(ops["amount"].to_numpy() * 100).astype(np.int64),
                "category": ops["category"].astype(str).to_numpy(),
            }
        ),
    )


async def test_db_and_parquet_match_pure(conn, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from core.data.store import create_dataset, write_bundle

    bundle = bundle_of(random_frames(60, seed=5))
    async with conn.transaction():
        ds = await create_dataset(conn, "synthetic", "features-test", {}, date(2015, 1, 28), 17)
        await write_bundle(conn, bundle, ds)
    pure_frames = from_bundle(bundle)
    products = None  # the catalog's bank products, as in production
    for cutoff in ("2015-08-28", "2016-04-28"):
        pure = build_features(pure_frames, cutoff, products=products)
        full = build_features(await load_frames_db(db_url), cutoff, products=products)
        pd.testing.assert_frame_equal(pure, full)
        pd.testing.assert_frame_equal(pure, await build_features_db(conn, cutoff, products=products))
        cid = int(pure["client_id"].iloc[len(pure) // 2])
        one = await build_features_db(db_url, cutoff, [cid], products=products)
        assert len(one) == 1 and one["op_salary_abs_1m"].iloc[0] == 1500
        pd.testing.assert_frame_equal(one, pure[pure["client_id"] == cid].reset_index(drop=True))
    # live serving: operations after the cutoff month count as its last instant
    cutoff = "2015-08-28"
    end = pd.Timestamp("2015-09-01", tz="UTC")
    raw = pure_frames.operations
    clamped = raw.assign(
        occurred_at=raw["occurred_at"].where(raw["occurred_at"] < end, end - pd.Timedelta(1, "us"))
    )
    expected = build_features(
        FeatureFrames(
            pure_frames.clients, pure_frames.holdings, pure_frames.events, clamped, offers=pure_frames.offers
        ),
        cutoff,
    )
    cids = [int(c) for c in expected["client_id"].iloc[3:9]]  # several: the bins are grouped per client
    live = await build_features_db(conn, cutoff, cids, live=True)
    pd.testing.assert_frame_equal(live, expected[expected["client_id"].isin(cids)].reset_index(drop=True))
    assert (live["op_salary_abs_1m"] > 1500).all()  # later salaries folded into the month
    counts = await export_parquet(db_url, tmp_path / "export")
    assert counts["clients"] == 60 and counts["operations"] == len(bundle.operations)
    assert counts["offers"] == len(bundle.offers) and (pure["offers_seen"] > 0).any()
    for cutoff in ("2015-08-28", "2016-04-28"):
        pure = build_features(pure_frames, cutoff)
        pd.testing.assert_frame_equal(
            pure, build_features(load_frames_parquet(tmp_path / "export", cutoff), cutoff)
        )
        pd.testing.assert_frame_equal(pure, build_features(load_frames_parquet(tmp_path / "export"), cutoff))
        cid = int(pure["client_id"].iloc[len(pure) // 2])
        one = build_features(load_frames_parquet(tmp_path / "export", cutoff, [cid]), cutoff, [cid])
        assert len(one) == 1
        pd.testing.assert_frame_equal(one, pure[pure["client_id"] == cid].reset_index(drop=True))


def test_life_events_detected_from_feature_rows() -> None:
    import math

    import pandas as pd

    from core.features.life_events import detect_life_events

    rows = pd.DataFrame(
        {
            "op_auto_abs_3m": [12_000.0, 100.0, 0.0],
            "op_home_abs_3m": [0.0, 2_000.0, 0.0],
            "op_travel_abs_1m": [0.0, 0.0, 499.0],
            "op_kids_trend": [0.0, 1.0, 0.0],
            "op_kids_cnt_3m": [0.0, 5.0, 0.0],
            "salary_change": [0.0, math.log(1.2), math.log(1.05)],
        }
    )
    assert detect_life_events(rows) == [{"car_purchase"}, {"relocation", "child", "salary_rise"}, set()]


def test_coerce_clients_canonical_whatever_the_source() -> None:
    """Hand-made or database frames give the same canonical clients: sorted by id, missing
    flags False, numbers as float, missing categorical fields missing (the features write
    them as "missing"), the province code a number."""
    clients = random_frames(3).clients.iloc[::-1].reset_index(drop=True)  # ids descending
    clients = clients.astype({"sex": object, "segment": "string", "province_code": object})
    clients.loc[0, "sex"] = None
    clients.loc[1, "segment"] = pd.NA
    clients["province_code"] = ["28", None, 7]
    clients["is_active"] = [True, None, False]
    out = coerce_clients(clients)
    assert out["id"].tolist() == sorted(clients["id"].tolist())
    by_id = out.set_index("id")
    first, second, third = (int(i) for i in clients["id"])
    assert pd.isna(by_id.loc[first, "sex"]) and pd.isna(by_id.loc[second, "segment"])
    assert by_id.loc[third, "sex"] == clients.loc[2, "sex"]
    assert by_id.loc[first, "province_code"] == 28 and pd.isna(by_id.loc[second, "province_code"])
    assert by_id.loc[third, "province_code"] == 7
    assert [bool(by_id.loc[i, "is_active"]) for i in (first, second, third)] == [True, False, False]
    assert out["is_active"].dtype == bool and out["age"].dtype == np.float64


def test_assembled_frame_equals_a_plain_one() -> None:
    """_assemble (blocks per dtype placed at their columns' positions) gives the frame the
    plain constructor gives: same order, dtypes and values; categoricals as Python strings."""
    from core.features.pipeline import _assemble

    rng = np.random.default_rng(5)
    n = 7
    columns = {
        "a": rng.normal(size=n),
        "cat1": np.array(["x", None, "y", "x", "z", "y", "x"], dtype=object),
        "b": rng.integers(0, 9, n).astype(np.int8),
        "c": rng.normal(size=n),
        "cat2": np.array(list("pqrpqrp")),  # numpy strings: still Python str objects
        "d": rng.integers(0, 900, n).astype(np.int16),
        "when": np.full(n, np.datetime64("2015-06-01", "us")),
    }
    order = ["when", "cat2", "a", "d", "b", "cat1", "c"]
    got = _assemble(columns, order, {"cat1", "cat2"})
    want = pd.DataFrame({c: columns[c] for c in order})
    want["cat1"], want["cat2"] = want["cat1"].astype(object), want["cat2"].astype(object)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.columns) == order and {type(v) for v in got["cat2"]} == {str}
    assert got._mgr.nblocks == 5  # one block per dtype (5 here), not one per column
