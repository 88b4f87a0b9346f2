"""Calibration: aggregates of the real Santander sample plus published facts.

Why: the simulator is the project's yardstick, so its cross-sectional distributions must
look like the real bank's (the sample), and its dynamics must follow what is published about
the full file (add rates, June seasonality). Only AGGREGATES are stored (frequencies,
quantiles, ownership-pattern counts with small cells suppressed); the sample itself never
enters the repository. `recsys data calibrate PATH` regenerates `core/data/calibration.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.catalog import load_catalog

CALIBRATION_FILE = Path(__file__).resolve().parents[1] / "calibration.json"
SEGMENT_MAP = {"01 - TOP": "top", "02 - PARTICULARES": "individual", "03 - UNIVERSITARIO": "student"}
MIN_CELL = 3  # ownership patterns seen fewer times are suppressed (privacy, not noise)
INCOME_Q = np.linspace(0.005, 0.995, 199)
# Take-up propensity by segment and age (see _takeup_propensity): age bands by lower bound,
# a Gamma prior worth PRIOR_OWNERS expected owners, and a clip on the resulting ratios.
AGE_BAND_LOWER = (0, 25, 35, 50, 65)
AGE_BAND_LABELS = ("<25", "25-34", "35-49", "50-64", "65+")
PROPENSITY_SEGMENTS = ("top", "individual", "student")
PRIOR_OWNERS = 2.0
PROPENSITY_CLIP = (0.1, 10.0)

# Published facts about the full train_ver2.csv (competition write-ups), not the sample.
PUBLISHED: dict[str, Any] = {
    "monthly_share_of_clients_adding": 0.035,
    "adds_per_adding_client": 1.2,
    # Approximate share of all additions per product in the full file (rounded, from public
    # exploratory write-ups; the one-month sample cannot measure additions at all).
    "add_share": {
        "recibo": 0.22,
        "nom_pens": 0.13,
        "nomina": 0.12,
        "tjcr_fin": 0.12,
        "cco_fin": 0.10,
        "cno_fin": 0.07,
        "ecue_fin": 0.06,
        "reca_fin": 0.05,
        "dela_fin": 0.03,
        "ctma_fin": 0.02,
        "ctop_fin": 0.02,
        "valo_fin": 0.015,
        "fond_fin": 0.015,
        "ctpp_fin": 0.01,
        "plan_fin": 0.005,
        "ctju_fin": 0.003,
        "pres_fin": 0.002,
        "hip_fin": 0.001,
    },
    # Ownership in the full file where this student-heavy sample shows (almost) none.
    "full_file_ownership": {"ctop_fin": 0.13, "ctpp_fin": 0.045, "hip_fin": 0.006, "pres_fin": 0.003},
    # June seasonality (taxes): multipliers on the add hazard in June.
    "june_multiplier": {"reca_fin": 8.0, "cco_fin": 1.8},
}


def _clean(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, skipinitialspace=True, low_memory=False)
    for col in ("age", "antiguedad", "renta", "ind_actividad_cliente", "cod_prov"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame["segment"] = frame["segmento"].map(SEGMENT_MAP)
    return frame


def _freq(series: pd.Series, top: int | None = None) -> dict[str, float]:
    counts = series.dropna().astype(str).value_counts()
    if top is not None:
        counts = counts.head(top)
    return {k: round(float(v / counts.sum()), 6) for k, v in counts.items()}


def age_band(age: np.ndarray, lower: tuple[int, ...] | list[int] = AGE_BAND_LOWER) -> np.ndarray:
    """Index of the age band (by lower bounds) of each age."""
    return np.searchsorted(np.asarray(lower), np.asarray(age), side="right") - 1


def _shrunk_ratio(observed: float, expected: float) -> float:
    """Posterior mean of an owners/expected-owners ratio under a Gamma(m, m) prior (mean 1)."""
    ratio = (observed + PRIOR_OWNERS) / (expected + PRIOR_OWNERS)
    return round(float(np.clip(ratio, *PROPENSITY_CLIP)), 4)


def _takeup_propensity(frame: pd.DataFrame, own: np.ndarray, codes: list[str]) -> dict[str, Any]:
    """Relative take-up propensity per product by segment and by age band, MEASURED on the sample.

    Modelling assumption: ownership is the cumulative result of past take-up, so how much more
    (or less) often a segment / age band owns a product than clients overall is used as its
    relative take-up propensity. Per product, only clients eligible by the catalog's age
    limits count (minors cannot hold most products; eligibility is applied separately).
    Segment ratio: owners in the segment / (segment clients x overall rate). Age ratio:
    indirectly standardised for segment (students are all 18-34 in the sample, so a raw age
    ratio would count the segment effect twice): owners in the band / sum over the band's
    clients of (overall rate x their segment ratio). Both are shrunk towards 1 with a
    Gamma(m, m) prior worth m = PRIOR_OWNERS expected owners, (O + m) / (E + m), which
    shrinks rare products and small cells (top: 53 clients) hard and common ones little,
    then clipped to PROPENSITY_CLIP. A product nobody owns in the sample gets 1 everywhere.
    """
    catalog = load_catalog()
    seg = frame["segment"].map({s: k for k, s in enumerate(PROPENSITY_SEGMENTS)}).to_numpy()
    age = frame["age"].to_numpy()
    band = age_band(age)
    seg_out: dict[str, dict[str, float]] = {}
    age_out: dict[str, dict[str, float]] = {}
    for j, code in enumerate(codes):
        spec = catalog[code]
        elig = (age >= spec.min_age) & (age <= (spec.max_age or 200))
        o = own[elig, j]
        s, b = seg[elig], band[elig]
        rate = float(o.mean()) if len(o) else 0.0
        seg_ratio = [_shrunk_ratio(float(o[s == k].sum()), float((s == k).sum()) * rate) for k in range(3)]
        expected = rate * np.asarray(seg_ratio)[s]
        age_ratio = [
            _shrunk_ratio(float(o[b == k].sum()), float(expected[b == k].sum()))
            for k in range(len(AGE_BAND_LOWER))
        ]
        seg_out[code] = dict(zip(PROPENSITY_SEGMENTS, seg_ratio, strict=True))
        age_out[code] = dict(zip(AGE_BAND_LABELS, age_ratio, strict=True))
    return {
        "note": (
            "Relative take-up propensity = ownership-rate ratios measured on the sample (ownership "
            "is the cumulative result of past take-up). Per product over age-eligible clients: "
            "segment ratio = owners / (clients x overall rate); age ratio = owners / sum(overall "
            "rate x segment ratio) (standardised for segment); both (O + m) / (E + m) with "
            f"m = {PRIOR_OWNERS} prior owners, clipped to {list(PROPENSITY_CLIP)}. A client's "
            "multiplier is segment x age; the simulator renormalises it to mean 1 over the "
            "eligible population (segment shares x age pmf)."
        ),
        "prior_owners": PRIOR_OWNERS,
        "clip": list(PROPENSITY_CLIP),
        "age_band_lower": list(AGE_BAND_LOWER),
        "age_band_labels": list(AGE_BAND_LABELS),
        "segment": seg_out,
        "age": age_out,
    }


def derive_calibration(path: Path) -> dict[str, Any]:
    """Aggregates of a train_ver2-format file: what the simulator's month 0 must look like."""
    raw = _clean(path)
    codes = load_catalog().bank_codes
    cols = [f"ind_{c}_ult1" for c in codes]
    owned = raw[cols].fillna(0).astype(int).to_numpy()
    ownership = {c: round(float(owned[:, i].mean()), 6) for i, c in enumerate(codes)}
    frame = raw[raw["segment"].notna() & raw["age"].notna()].copy()
    own = frame[cols].fillna(0).astype(int).to_numpy()
    segments: dict[str, Any] = {}
    for seg, part in frame.groupby("segment"):
        ages = part["age"].astype(int).value_counts().sort_index()
        income = part["renta"].dropna()
        segments[str(seg)] = {
            "share": round(len(part) / len(frame), 6),
            "age_pmf": {str(a): round(float(n / ages.sum()), 6) for a, n in ages.items()},
            "income_log_quantiles": [round(float(v), 5) for v in np.log(income.quantile(INCOME_Q))],
            "income_missing": round(float(part["renta"].isna().mean()), 4),
            "active": round(float(part["ind_actividad_cliente"].mean()), 4),
            "sex_h": round(float((part["sexo"] == "H").mean()), 4),
        }
    # Ownership as joint patterns per cell (segment x active x minor): keeps co-ownership.
    frame["minor"] = (frame["age"] < 18).astype(int)
    frame["active"] = frame["ind_actividad_cliente"].fillna(0).astype(int)
    pattern = ["".join(map(str, row)) for row in own]
    frame["pattern"] = pattern
    cells: dict[str, Any] = {}
    for (seg, act, minor), part in frame.groupby(["segment", "active", "minor"]):
        counts = part["pattern"].value_counts()
        kept = counts[counts >= MIN_CELL]
        kept_own = (
            np.array([[int(ch) for ch in p] for p in kept.index]) if len(kept) else np.zeros((0, len(codes)))
        )
        kept_rate = (kept_own * kept.to_numpy()[:, None]).sum(0) / len(part)
        true_rate = own[frame.index.get_indexer(part.index)].mean(0)
        cells[f"{seg}|{act}|{minor}"] = {
            "n": int(len(part)),
            "patterns": {p: int(n) for p, n in kept.items()},
            "residual_rate": {
                c: round(float(max(true_rate[i] - kept_rate[i], 0.0)), 6) for i, c in enumerate(codes)
            },
        }
    co = (owned.T @ owned) / len(owned)
    cal = {
        "source": "train_ver2_sample_10k.csv (one month, 2015-01-28); aggregates only",
        "n_rows": int(len(raw)),
        "products": list(codes),
        "ownership": ownership,
        "co_ownership": {
            f"{a}+{b}": round(float(co[i, j]), 6)
            for i, a in enumerate(codes)
            for j, b in enumerate(codes)
            if i < j and co[i, j] > 0
        },
        "segments": segments,
        "ownership_cells": cells,
        "takeup_propensity": _takeup_propensity(frame, own, list(codes)),
        "channel": _freq(frame["canal_entrada"], top=20),
        "province": {
            f"{int(k)}|{n}": v
            for (k, n), v in (frame.groupby(["cod_prov", "nomprov"]).size() / frame["cod_prov"].notna().sum())
            .round(6)
            .items()
        },
        "foreigner": round(float((frame["indext"] == "S").mean()), 4),
        "first_contract_year": _freq(
            pd.to_datetime(frame["fecha_alta"], errors="coerce").dt.year.dropna().astype(int)
        ),
        "published": PUBLISHED,
        "notes": [
            "Cross-sectional fields (age, income, segment, sex, channel, province, activity, "
            "ownership and co-ownership) come from the sample's aggregates.",
            f"Ownership patterns seen fewer than {MIN_CELL} times in a cell are suppressed; the "
            "missing ownership is restored by independent draws at residual_rate.",
            "takeup_propensity (who takes up what more often, by segment and age band) is "
            "measured on the sample as shrunk ownership-rate ratios; see its own note.",
            "Per-product add shares, adds per adding client, June multipliers and full-file "
            "ownership of ctop/ctpp/hip/pres are published facts about the full file (rounded), "
            "because a one-month sample is silent on additions.",
            "Client-type mix, offer effect sizes, life-event rates and campaign rules are "
            "modelling assumptions documented in core/data/simulator/takeup.py, life_events.py "
            "and campaigns.py; none were tuned on model results.",
        ],
    }
    return cal


def save_calibration(cal: dict[str, Any], path: Path = CALIBRATION_FILE) -> Path:
    path.write_text(json.dumps(cal, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
