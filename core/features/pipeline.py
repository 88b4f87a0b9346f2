"""The pure feature pipeline: frames + cutoff -> one row per client, nothing after the cutoff.

This is the only function that turns data into features. Batch training (all clients,
several cutoffs) and online scoring (one client) both call `build_features`; the adapters in
`core.features.source` only decide which rows to load, so the two paths cannot drift.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import TypeAlias

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from core.features.clustering import ClusterModel
from core.features.definitions import (
    CLUSTER_COLUMN,
    categorical_columns,
    feature_columns,
    month_index,
    month_start,
)
from core.features.frames import FeatureFrames, bin_operations, coerce_offers, coerce_operations
from core.features.holdings import holding_features
from core.features.labels import label_columns, make_labels
from core.features.offers import offer_features
from core.features.operations import operation_features
from core.features.questionnaire import population, questionnaire_features, season_features

Cutoff: TypeAlias = date | datetime | str | pd.Timestamp
CHUNK_CLIENTS = 25_000  # training features are built this many clients at a time
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
    offers = frames.offers
    if "shown_at" not in offers or str(offers["shown_at"].dtype) != "datetime64[us, UTC]":
        offers = coerce_offers(offers)  # uncoerced frames
    columns.update(offer_features(offers, ids, m, products))
    columns.update(season_features(m, len(ids)))
    order = [*KEY_COLUMNS, *feature_columns(products)]
    if clusters is not None:  # from the columns: cheaper than from the assembled frame
        columns[CLUSTER_COLUMN] = clusters.labels(columns)
        order.append(CLUSTER_COLUMN)
    return _assemble(columns, order, {*categorical_columns(), CLUSTER_COLUMN})


def _assemble(columns: dict[str, np.ndarray], order: list[str], cats: set[str]) -> pd.DataFrame:
    """The feature frame, columns in `order`, built from one 2-D block per dtype.

    Why blocks: a DataFrame from a dict of ~700 arrays checks and copies them one by one,
    about 10 ms whatever the rows on a worker batch of a few clients (build 56-64 -> 50-51 ms
    at 5 clients, 94-99 -> 75-85 ms at 500), and a per-column astype would leave one pandas
    block per column, which every later column selection (model pools, uplift encoders)
    pays for. Each block is placed at its columns' positions in `order`
    (`create_dataframe_from_blocks`, pandas' public API for this): concatenating the blocks
    and then selecting `order` cost another ~6 ms per call, at any size. The categorical
    columns are plain Python strings (object dtype) whatever pandas would infer.
    """
    groups: dict[tuple[str, bool], list[int]] = {}
    for at, name in enumerate(order):
        is_cat = name in cats
        dtype = "object" if is_cat else np.asarray(columns[name]).dtype.str
        groups.setdefault((dtype, is_cat), []).append(at)
    n_rows = len(columns[order[0]]) if order else 0
    blocks = []
    for (_, is_cat), places in groups.items():
        # (columns x rows): pandas' own block layout, taken as it is
        block = np.vstack([np.asarray(columns[order[at]]).reshape(1, -1) for at in places])
        blocks.append((block.astype(object) if is_cat else block, np.asarray(places, dtype=np.intp)))
    return create_dataframe_from_blocks(blocks, index=pd.RangeIndex(n_rows), columns=pd.Index(order))


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
    parts = (_cutoff_part(frames, cutoff, products, clusters) for cutoff in cutoffs)
    if float32_except is None:
        return pd.concat(list(parts), ignore_index=True)
    return _stack_float32(parts, len(frames.clients) * len(cutoffs), set(float32_except))


def _cutoff_part(
    frames: FeatureFrames, cutoff: Cutoff, products: tuple[str, ...], clusters: ClusterModel | None
) -> pd.DataFrame:
    """Features + labels of one cutoff, built CHUNK_CLIENTS clients at a time.

    Why chunks: one pass over 100k clients holds ~2 GB of temporaries (dense client x
    category x month arrays, the feature dict and its frame), the peak of training; features
    are per client, so chunks give the same rows (tests/test_features.py)."""
    ids = population(frames.clients, month_index(cutoff), None)["id"].to_numpy(dtype=np.int64)
    chunks = [None] if len(ids) <= CHUNK_CLIENTS else np.array_split(ids, -(-len(ids) // CHUNK_CLIENTS))
    feats = pd.concat(
        [
            build_features(frames, cutoff, chunk, products=products, clusters=clusters, coerce=False)
            for chunk in chunks
        ],
        ignore_index=True,
    )
    labels = make_labels(frames.holdings, feats["client_id"].to_numpy(), month_index(cutoff), products)
    return pd.concat([feats, labels[label_columns(products)]], axis=1)


def _stack_float32(parts: Iterable[pd.DataFrame], max_rows: int, keep: set[str]) -> pd.DataFrame:
    """Stack cutoff parts, their float64 columns (except `keep`) as float32, without a 2nd copy.

    Why: concatenating the parts holds the stacked frame twice (parts + result): 1.2 GB
    extra at 100k clients x 6 cutoffs. The float columns go straight into one preallocated
    (columns x rows) float32 block, pandas' own block layout, so the frame wraps it without
    copying; rows are bounded by clients x cutoffs (pages never written are never
    resident). Column order is the parts' order.
    """
    block: np.ndarray | None = None
    columns: list[str] = []
    cast: list[str] = []
    others: list[pd.DataFrame] = []
    row = 0
    for part in parts:
        if block is None:
            columns = list(part.columns)
            cast = [c for c in columns if part[c].dtype == np.float64 and c not in keep]
            block = np.empty((len(cast), max_rows), dtype=np.float32)
        if list(part.columns) != columns or row + len(part) > max_rows:
            raise ValueError("training parts differ in columns, or exceed clients x cutoffs rows")
        block[:, row : row + len(part)] = part[cast].to_numpy(dtype=np.float32).T
        others.append(part.drop(columns=cast))
        row += len(part)
        del part
    if block is None:
        raise ValueError("no cutoffs to stack")
    rest = pd.concat(others, ignore_index=True)
    del others
    position = {c: i for i, c in enumerate(cast)}
    pieces: list[pd.DataFrame] = []
    for is_float, run in itertools.groupby(columns, key=lambda c: c in position):
        names = list(run)
        if is_float:
            lo, hi = position[names[0]], position[names[-1]] + 1
            pieces.append(pd.DataFrame(block[lo:hi, :row].T, columns=names, copy=False))
        else:
            pieces.append(rest[names])
    return pd.concat(pieces, axis=1)
