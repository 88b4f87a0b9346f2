"""Training on a random sample of clients when a bank has far more than the models need.

Why clients, not client-months: features are built per client from its whole history, so
keeping every month of a sampled client keeps lags and add/drop counts exact, and the cost
of feature building and of CatBoost both fall in proportion. The Santander winners trained
on a subset of client-months for the same reason. Only fitting is sampled: evaluation
scores and `recommend --all` decide for every client.

How large a sample is enough is measured, not assumed: bench/bench_santander_scale.py
reports MAP@7 of the hybrid trained on the sample and on more (see the project note).
"""

from __future__ import annotations

import numpy as np

from core.features.frames import FeatureFrames


def sample_clients(frames: FeatureFrames, max_clients: int | None, seed: int = 31) -> FeatureFrames:
    """`frames` restricted to `max_clients` random clients (all of them when fewer or None)."""
    ids = frames.clients["id"].to_numpy()
    if not max_clients or len(ids) <= max_clients:
        return frames
    keep = np.sort(np.random.default_rng(seed).choice(ids, size=max_clients, replace=False))

    def rows(frame):  # type: ignore[no-untyped-def]
        key = "id" if frame is frames.clients else "client_id"
        if frame is None or key not in frame.columns or frame.empty:
            return frame
        return frame[np.isin(frame[key].to_numpy(), keep)].reset_index(drop=True)

    return FeatureFrames(
        clients=rows(frames.clients),
        holdings=rows(frames.holdings),
        events=rows(frames.events),
        operations=rows(frames.operations),
        operation_months=rows(frames.operation_months),
        offers=rows(frames.offers),
    )
