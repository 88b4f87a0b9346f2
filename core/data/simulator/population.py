"""Month-0 population: questionnaire fields, first holdings and latent needs.

Why separate: demographics and initial ownership are the part calibrated to the real sample
(checked by tests with KS / ownership tolerances); everything dynamic builds on this frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.catalog import Catalog

SEGMENTS = ("top", "individual", "student")
INVESTMENT = ("dela_fin", "valo_fin", "fond_fin", "plan_fin", "ctma_fin", "ctpp_fin")


@dataclass
class Population:
    """Arrays per client (length n) and per client x product (n, P)."""

    ids: np.ndarray
    segment: np.ndarray  # int index into SEGMENTS
    age: np.ndarray
    active: np.ndarray  # bool
    income: np.ndarray  # true income (EUR/year), always known to the simulator
    income_missing: np.ndarray  # bool: the questionnaire has no income (imputed in the record)
    eligible: np.ndarray  # (n, P) bool by age
    holdings0: np.ndarray  # (n, P) bool
    need: np.ndarray  # (n, P) latent need multiplier, mean 1
    need_given_income: np.ndarray  # (n, P) E[need | income]: the part of need a bank can see
    frame: pd.DataFrame  # client table rows (CLIENT_COLUMNS)


def _sample_pmf(rng: np.random.Generator, pmf: dict[str, float], n: int) -> np.ndarray:
    keys = list(pmf)
    p = np.array([pmf[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _holdings(
    rng: np.random.Generator,
    cal: dict[str, Any],
    seg: np.ndarray,
    act: np.ndarray,
    minor: np.ndarray,
    eligible: np.ndarray,
    catalog: Catalog,
) -> np.ndarray:
    """Draw whole ownership patterns per cell (keeps co-ownership), then residual products."""
    codes = cal["products"]
    n, n_p = len(seg), len(codes)
    out = np.zeros((n, n_p), dtype=bool)
    for key, cell in cal["ownership_cells"].items():
        s, a, m = key.split("|")
        idx = np.flatnonzero((seg == SEGMENTS.index(s)) & (act == int(a)) & (minor == int(m)))
        if not len(idx):
            continue
        pats = list(cell["patterns"])
        total = cell["n"]
        probs = np.array(
            [cell["patterns"][p] / total for p in pats] + [1 - sum(cell["patterns"].values()) / total]
        )
        choice = rng.choice(len(probs), size=len(idx), p=probs / probs.sum())
        mat = np.array([[c == "1" for c in p] for p in pats] + [[False] * n_p], dtype=bool)
        out[idx] = mat[choice]
        resid = np.array([cell["residual_rate"][c] for c in codes])
        out[idx] |= rng.random((len(idx), n_p)) < resid
    out &= eligible
    col = {c: i for i, c in enumerate(codes)}
    for spec in catalog.bank:  # catalog rules hold from month 0 on
        i = col[spec.code]
        for req in spec.requires:
            out[:, col[req]] |= out[:, i]
        for other in spec.conflicts:
            clash = out[:, i] & out[:, col[other]]
            out[clash, col[other]] = False
    return out


def sample_population(
    rng: np.random.Generator,
    n: int,
    first_id: int,
    cal: dict[str, Any],
    catalog: Catalog,
    snapshot: np.datetime64,
) -> Population:
    codes = cal["products"]
    segs = cal["segments"]
    share = np.array([segs[s]["share"] for s in SEGMENTS])
    seg = rng.choice(3, size=n, p=share / share.sum())
    age = np.zeros(n, dtype=np.int64)
    income = np.zeros(n)
    missing = np.zeros(n, dtype=bool)
    active = np.zeros(n, dtype=bool)
    sex = np.empty(n, dtype=object)
    for k, s in enumerate(SEGMENTS):
        idx = np.flatnonzero(seg == k)
        info = segs[s]
        age[idx] = _sample_pmf(rng, info["age_pmf"], len(idx)).astype(np.int64)
        q = np.asarray(info["income_log_quantiles"])
        u = rng.random(len(idx))
        grid = np.linspace(0.005, 0.995, len(q))
        income[idx] = np.exp(np.interp(u, grid, q))
        missing[idx] = rng.random(len(idx)) < info["income_missing"]
        active[idx] = rng.random(len(idx)) < info["active"]
        sex[idx] = np.where(rng.random(len(idx)) < info["sex_h"], "H", "V")
    income = np.round(income, 2)
    min_age = np.array([catalog[c].min_age for c in codes])
    max_age = np.array([catalog[c].max_age or 200 for c in codes])
    eligible = (age[:, None] >= min_age) & (age[:, None] <= max_age)
    holdings0 = _holdings(rng, cal, seg, active.astype(int), (age < 18).astype(int), eligible, catalog)
    # Latent needs: log-normal (mean 1) per client x product; investment needs rise with income.
    need = rng.lognormal(-0.32, 0.8, size=(n, len(codes)))  # mean exp(-0.32 + 0.8^2 / 2) = 1
    rel_income = np.log(income / np.exp(np.median(segs["individual"]["income_log_quantiles"])))
    inv = np.array([c in INVESTMENT for c in codes])
    need_given_income = np.ones((n, len(codes)))
    need_given_income[:, inv] = np.exp(0.6 * np.clip(rel_income, -2, 3))[:, None] / 1.2
    need *= need_given_income
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    frame = _client_frame(rng, cal, ids, seg, age, active, sex, income, missing, snapshot)
    return Population(
        ids, seg, age, active, income, missing, eligible, holdings0, need, need_given_income, frame
    )


def _client_frame(
    rng: np.random.Generator,
    cal: dict[str, Any],
    ids: np.ndarray,
    seg: np.ndarray,
    age: np.ndarray,
    active: np.ndarray,
    sex: np.ndarray,
    income: np.ndarray,
    missing: np.ndarray,
    snapshot: np.datetime64,
) -> pd.DataFrame:
    n = len(ids)
    years = _sample_pmf(rng, cal["first_contract_year"], n).astype(int)
    days = rng.integers(0, 365, n)
    first = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days
    first = np.minimum(first, snapshot - 1)
    snap = snapshot.astype("datetime64[M]")
    seniority = (snap - first.astype("datetime64[M]")).astype(int)
    prov = _sample_pmf(rng, cal["province"], n)
    prov_code = np.array([int(p.split("|")[0]) for p in prov])
    prov_name = np.array([p.split("|", 1)[1] for p in prov], dtype=object)
    seg_median = {
        k: float(np.exp(np.median(cal["segments"][s]["income_log_quantiles"])))
        for k, s in enumerate(SEGMENTS)
    }
    recorded = np.where(missing, np.vectorize(seg_median.get)(seg), income)
    foreign = rng.random(n) < cal["foreigner"]
    return pd.DataFrame(
        {
            "id": ids,
            "snapshot_month": snapshot,
            "employee_status": "N",
            "country": "ES",
            "sex": sex,
            "age": age,
            "first_contract_date": first,
            "is_new": seniority < 6,
            "seniority_months": seniority,
            "primary_status": np.where(rng.random(n) < 0.0012, 99, 1),
            "last_primary_date": pd.NaT,
            "customer_type": "1",
            "relation_type": np.where(active, "A", "I"),
            "is_resident": True,
            "is_foreigner": foreign,
            "spouse_of_employee": None,
            "join_channel": _sample_pmf(rng, cal["channel"], n),
            "is_deceased": False,
            "address_type": 1,
            "province_code": prov_code,
            "province_name": prov_name,
            "is_active": active,
            "income": np.round(recorded, 2),
            "segment": np.array(SEGMENTS, dtype=object)[seg],
            "language": np.where(foreign, "en", "ru"),
            "marketing_consent": rng.random(n) < 0.95,
            "contact_opt_out": rng.random(n) < 0.03,
            "imputed_fields": [["income"] if m else [] for m in missing],
        }
    )
