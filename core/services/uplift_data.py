"""The uplift training set: every offer-log row with the client's features at offer time.

An offer for month t is shown shortly after snapshot t-1; the features are those of the
latest snapshot at or before `shown_at` (nothing the client did after the offer leaks in).
Outcomes are product-specific (did the client take up *this* product), so each product's
rows form their own treatment-vs-control problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.features import FeatureFrames, build_features, month_start
from core.features.clustering import ClusterModel
from core.features.frames import month_indices

OFFER_COLUMNS = [
    "id",
    "client_id",
    "product_code",
    "shown_at",
    "assignment",
    "arm",
    "propensity",
    "converted",
]


async def load_offer_log(url: str) -> pd.DataFrame:
    from core.db.session import raw_connection

    async with raw_connection(url) as conn:
        rows = await conn.fetch(
            "SELECT id, client_id, product_code, shown_at, assignment, arm, propensity, "
            "coalesce(converted, false) AS converted FROM offer_log ORDER BY id"
        )
    frame = pd.DataFrame([dict(r) for r in rows], columns=OFFER_COLUMNS)
    frame["shown_at"] = pd.to_datetime(frame["shown_at"], utc=True)
    return frame


def attach_cutoffs(offers: pd.DataFrame, snapshots: pd.Series) -> pd.DataFrame:
    """Add `cutoff` (month index of the latest snapshot at or before each offer)."""
    dates = np.sort(pd.to_datetime(snapshots.drop_duplicates()).to_numpy(dtype="datetime64[ns]"))
    shown = offers["shown_at"].dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    pos = np.searchsorted(dates, shown, side="right") - 1
    out = offers.loc[pos >= 0].copy()
    snap = pd.Series(dates[pos[pos >= 0]])
    out["cutoff"] = month_indices(snap)
    return out


def sample_per_product(offers: pd.DataFrame, max_rows: int, seed: int = 31) -> pd.DataFrame:
    """At most `max_rows` offer rows per product, a uniform random sample (0: all rows).

    Uniform, not stratified: the arms, the random slice and the conversions keep their shares,
    so the logged propensities and the IPW selection stay valid on the sample. Done before
    the features are built, so the dataset never holds the rows left out.
    """
    if max_rows <= 0 or offers.empty:
        return offers
    counts = offers["product_code"].value_counts()
    if int(counts.max()) <= max_rows:
        return offers
    rng = np.random.default_rng(seed)
    keep = np.ones(len(offers), dtype=bool)
    codes = offers["product_code"].to_numpy()
    for code in counts.index[counts > max_rows]:
        rows = np.flatnonzero(codes == code)
        keep[rows] = False
        keep[rng.choice(rows, max_rows, replace=False)] = True
    return offers.loc[keep]


def uplift_dataset(
    frames: FeatureFrames,
    offers: pd.DataFrame,
    products: tuple[str, ...],
    clusters: ClusterModel | None = None,
) -> pd.DataFrame:
    """Offer rows (with `cutoff`) joined with the features of their client at that cutoff."""
    parts = []
    for cutoff, group in offers.groupby("cutoff", sort=True):
        ids = np.unique(group["client_id"].to_numpy())
        feats = build_features(
            frames, month_start(int(cutoff)), ids, products=products, clusters=clusters, coerce=False
        )
        feats = feats.drop(columns=["cutoff"])
        # float32 (half the memory of ~700 float64 columns per offer row): CatBoost, the
        # uplift learners' base, reads float features as float32 anyway.
        wide = feats.select_dtypes(include=["float64"]).columns
        feats = feats.astype(dict.fromkeys(wide, np.float32))
        parts.append(group.merge(feats, on="client_id", how="inner"))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def feature_matrix(data: pd.DataFrame) -> pd.DataFrame:
    """The model inputs of an uplift dataset (offer bookkeeping columns removed)."""
    drop = [*OFFER_COLUMNS, "cutoff"]
    return data.drop(columns=[c for c in drop if c in data.columns])
