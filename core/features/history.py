"""Product-history features beyond holdings: drops, flips, and catalog relations.

Why: a client who dropped a product last month often takes it back (re-activation), one who
keeps switching a product flips again, and products come in ladders (a product that
`requires` another follows it; products that complement the same need are adopted together,
e.g. payroll and pension payroll). The catalog (`requires`, `complements`) says which
products are related, so these features follow the catalog, not a hand-written list.

Vectorised like the holdings features: per (client, product) matrices from one pass over
the events (np.bincount / np.maximum.at), relations as a small product x product matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from core.features.definitions import DROP_WINDOWS, FLIP_MONTHS, NEVER_MONTHS, RELATED_RECENT_MONTHS


@lru_cache(maxsize=32)
def relation_matrices(products: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(requires, related) over `products` from the catalog.

    requires[i, j]: product i requires product j. related[i, j] (symmetric, no diagonal):
    j is required by or requires i, j complements i or i complements j, or both are
    complemented by the same catalog product (a partner offer's bank products serve one
    need). Products unknown to the catalog relate to nothing.
    """
    from core.catalog import load_catalog

    catalog = load_catalog()
    index = {p: i for i, p in enumerate(products)}
    n = len(products)
    requires = np.zeros((n, n), dtype=bool)
    related = np.zeros((n, n), dtype=bool)
    for spec in catalog.products:
        i = index.get(spec.code)
        for j in (index.get(q) for q in spec.requires):
            if i is not None and j is not None:
                requires[i, j] = True
        linked = [index[q] for q in spec.complements if q in index]
        if i is not None:
            related[i, linked] = True
        for a in linked:  # siblings under one complementing product
            related[a, linked] = True
    related |= requires
    related |= related.T
    np.fill_diagonal(related, False)
    return requires, related


def history_features(
    month: np.ndarray,
    pos: np.ndarray,
    prod: np.ndarray,
    is_add: np.ndarray,
    held_now: np.ndarray,
    m: int,
    products: Sequence[str],
) -> dict[str, np.ndarray]:
    """Events already filtered to the clients (`pos`), known products and months <= m."""
    n, n_p = held_now.shape
    flat = pos * n_p + prod
    size = n * n_p
    last_drop = np.full(size, -1, dtype=np.int64)
    drop = ~is_add
    if drop.any():
        np.maximum.at(last_drop, flat[drop], month[drop])
    last_drop = last_drop.reshape(n, n_p)
    since = np.where(last_drop >= 0, (m - last_drop).astype(float), NEVER_MONTHS)
    age = m - month
    flips = np.bincount(flat[age < FLIP_MONTHS], minlength=size).reshape(n, n_p)
    recent_add = np.bincount(flat[is_add & (age < RELATED_RECENT_MONTHS)], minlength=size).reshape(n, n_p)
    requires, related = relation_matrices(tuple(products))
    held = held_now.astype(np.int16)
    rel = related.astype(np.int16)
    req = requires.astype(np.int16)
    n_related_held = held @ rel.T
    req_met = (held @ req.T) == req.sum(axis=1)
    related_added = recent_add.astype(np.int16) @ rel.T
    out: dict[str, np.ndarray] = {}
    for j, p in enumerate(products):
        out[f"months_since_drop_{p}"] = since[:, j]
    for j, p in enumerate(products):
        for k in DROP_WINDOWS:
            out[f"dropped_{k}m_{p}"] = (since[:, j] < k).astype(np.int8)
    for j, p in enumerate(products):
        out[f"flips_{FLIP_MONTHS}m_{p}"] = flips[:, j].astype(np.int16)
    for j, p in enumerate(products):
        out[f"req_met_{p}"] = req_met[:, j].astype(np.int8)
    for j, p in enumerate(products):
        out[f"n_related_held_{p}"] = n_related_held[:, j].astype(np.int16)
    for j, p in enumerate(products):
        out[f"related_added_{RELATED_RECENT_MONTHS}m_{p}"] = related_added[:, j].astype(np.int16)
    return out
