"""The pure feature pipeline: frames + cutoff -> one row per client, nothing after the cutoff.

This is the only function that turns data into features. Batch training (all clients,
several cutoffs) and online scoring (one client) both call `build_features`; the adapters in
`core.features.source` only decide which rows to load, so the two paths cannot drift.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import pandas as pd

from core.features.clustering import ClusterModel
from core.features.definitions import (
    CLUSTER_COLUMN,
    categorical_columns,
    feature_columns,
    month_index,
    month_start,
)
from core.features.frames import FeatureFrames, bin_operations, coerce_operations
from core.features.holdings import holding_features
from core.features.labels import label_columns, make_labels
from core.features.operations import operation_features
from core.features.questionnaire import population, questionnaire_features, season_features

Cutoff: TypeAlias = date | datetime | str | pd.Timestamp
KEY_COLUMNS = ("client_id", "cutoff")


def default_products() -> tuple[str, ...]:
    from core.catalog import load_catalog

    return load_catalog().bank_codes


def build_features(
    frames: FeatureFrames,
    cutoff: Cutoff,
    client_ids: Iterable[int] | None = None,
    *,
    products: Sequence[str] | None = None,
    clusters: ClusterModel | None = None,
    coerce: bool = True,
) -> pd.DataFrame:
    """Features of every client existing at `cutoff` (or only `client_ids`).

    Columns: client_id, cutoff (first day of the cutoff month), then
    `definitions.feature_columns(products, with_cluster=clusters is not None)`. Rows are
    sorted by client_id. `coerce=False` skips the dtype normalisation when the frames are
    already canonical (the adapters' output, or a frame reused for several cutoffs).
    """
    products = tuple(products) if products is not None else default_products()
    if coerce:
        frames = frames.coerce()
    m = month_index(cutoff)
    clients = population(frames.clients, m, client_ids)
    ids = clients["id"].to_numpy(dtype=np.int64)
    columns: dict[str, np.ndarray] = {
        "client_id": ids,
        "cutoff": np.full(len(ids), month_start(m).to_datetime64()),
    }
    columns.update(questionnaire_features(clients, m))
    columns.update(holding_features(frames.holdings, frames.events, ids, m, products))
    bins = frames.operation_months
    if bins is None:  # uncoerced frames: bin their raw operations here
        bins = bin_operations(coerce_operations(frames.operations))
    columns.update(operation_features(bins, ids, m))
    columns.update(season_features(m, len(ids)))
    order = [*KEY_COLUMNS, *feature_columns(products)]
    out = pd.DataFrame({c: columns[c] for c in order})
    # One dtype whatever pandas infers from the values (str vs object): plain Python strings.
    out = out.astype(dict.fromkeys(categorical_columns(), object))
    if clusters is not None:
        labels = pd.Series(clusters.labels(out), dtype=object, name=CLUSTER_COLUMN)
        out = pd.concat([out, labels], axis=1)
    return out


def training_frame(
    frames: FeatureFrames,
    cutoffs: Sequence[Cutoff],
    *,
    products: Sequence[str] | None = None,
    clusters: ClusterModel | None = None,
    float32_except: Collection[str] | None = None,
) -> pd.DataFrame:
    """Features + wide labels for several cutoffs stacked: one row per (client_id, cutoff).

    Label columns `label_<code>` are 1/0 for products not held at the cutoff and NaN for
    held ones (see core.features.labels). Every cutoff needs the next month's snapshot.
    `float32_except`: cast the float64 columns (features and the 1/0/NaN labels), except
    these, to float32 cutoff by cutoff (large training sets: the stacked float64 frame alone
    would take gigabytes).
    """
    products = tuple(products) if products is not None else default_products()
    frames = frames.coerce()
    parts = []
    for cutoff in cutoffs:
        feats = build_features(frames, cutoff, products=products, clusters=clusters, coerce=False)
        labels = make_labels(frames.holdings, feats["client_id"].to_numpy(), month_index(cutoff), products)
        part = pd.concat([feats, labels[label_columns(products)]], axis=1)
        del feats, labels
        if float32_except is not None:
            keep = set(float32_except)
            cast = [c for c in part.columns if part[c].dtype == np.float64 and c not in keep]
            part = part.astype(dict.fromkeys(cast, np.float32))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
