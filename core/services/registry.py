"""Model artifacts on disk + their `model_run` rows: save a trained set, load the latest.

A "model set" is everything serving needs, trained together on one window: the hybrid
scorer, the behaviour clusters, cold start and the baselines. It lives in
`<RECSYS_HOME>/models/<version>/`; the `model_run` row (kind 'models') records the version,
the training window, parameters and metrics, and points at the folder. Serving loads the
newest row's folder, so a new training run is picked up without code changes.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pandas as pd

from core.features import ClusterModel, load_clusters
from core.models.base import Recommender
from core.models.cold_start import ColdStart
from core.models.hybrid import HybridScorer
from core.models.shap_reasons import ReasonSource

KIND = "models"


@dataclass
class ModelSet:
    version: str
    products: tuple[str, ...]
    hybrid: HybridScorer
    clusters: ClusterModel
    cold_start: ColdStart
    baselines: dict[str, Recommender]
    serve_cutoff: str
    folder: Path
    uplift: dict[str, Any] = field(default_factory=dict)  # product -> fitted UpliftModel

    def uplift_scores(self, features: pd.DataFrame) -> np.ndarray:
        """Estimated uplift per product (NaN where the product has no uplift model)."""
        out = np.full((len(features), len(self.products)), np.nan)
        for j, code in enumerate(self.products):
            model = self.uplift.get(code)
            if model is not None and len(features):
                out[:, j] = model.predict(features)[f"uplift_{code}"].to_numpy()
        return out

    def score_with_reasons(self, features: pd.DataFrame) -> tuple[np.ndarray, ReasonSource]:
        """score(features) for the hybrid, with the source of its per-product reasons (one
        pool for both; reasons are worked out per (row, product) when asked)."""
        p_take, reasons = self.hybrid.predict_with_reasons(features)
        return self.cold_start.blend(features, p_take), reasons

    def strategies(self) -> dict[str, Recommender]:
        return {"hybrid": self.hybrid, **self.baselines}  # type: ignore[dict-item]

    def score(self, features: pd.DataFrame, strategy: str = "hybrid") -> np.ndarray:
        """Take-up probabilities (rows x products); cold clients get the cold-start blend."""
        if strategy == "hybrid":
            return self.cold_start.blend(features, self.hybrid.predict_proba(features))
        return self.strategies()[strategy].predict_proba(features)

    def save(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.hybrid.save(self.folder / "hybrid")
        self.clusters.save(self.folder / "clusters.pkl")
        (self.folder / "cold_start.pkl").write_bytes(pickle.dumps(self.cold_start))
        (self.folder / "baselines.pkl").write_bytes(pickle.dumps(self.baselines))
        (self.folder / "uplift.pkl").write_bytes(pickle.dumps(self.uplift))
        meta = {"version": self.version, "products": list(self.products), "serve_cutoff": self.serve_cutoff}
        (self.folder / "modelset.json").write_text(json.dumps(meta, indent=2))
        return self.folder


def load_model_set(folder: Path) -> ModelSet:
    """Load a model set saved by ModelSet.save (our own, locally produced artifacts)."""
    meta = json.loads((folder / "modelset.json").read_text())
    uplift = pickle.loads((folder / "uplift.pkl").read_bytes()) if (folder / "uplift.pkl").exists() else {}  # noqa: S301
    for model in uplift.values():
        model.compile_small_batches()  # the serving path's few-client batches (fast_trees)
    return ModelSet(
        version=meta["version"],
        products=tuple(meta["products"]),
        hybrid=HybridScorer.load(folder / "hybrid"),
        clusters=load_clusters(folder / "clusters.pkl"),
        cold_start=pickle.loads((folder / "cold_start.pkl").read_bytes()),  # noqa: S301
        baselines=pickle.loads((folder / "baselines.pkl").read_bytes()),  # noqa: S301
        serve_cutoff=meta["serve_cutoff"],
        folder=folder,
        uplift=uplift,
    )


def json_safe(value: Any) -> Any:
    """NaN and infinities -> None (PostgreSQL's JSON has no such numbers); numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


async def record_run(
    conn: asyncpg.Connection,
    kind: str,
    version: str,
    *,
    train_from: date | None,
    train_to: date | None,
    params: dict[str, Any],
    metrics: dict[str, Any],
    artifact_path: str | None,
    dataset_id: int | None = None,
) -> int:
    return int(
        await conn.fetchval(
            "INSERT INTO model_run (kind, version, dataset_id, train_from, train_to, params, metrics, "
            "artifact_path) VALUES ($1,$2,$3,$4,$5,$6::jsonb,$7::jsonb,$8) RETURNING id",
            kind,
            version,
            dataset_id,
            train_from,
            train_to,
            json.dumps(json_safe(params), default=str),
            json.dumps(json_safe(metrics), default=str),
            artifact_path,
        )
    )


async def latest_run(conn: asyncpg.Connection, kind: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT id, kind, version, train_from, train_to, params, metrics, artifact_path, created_at "
        "FROM model_run WHERE kind = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        kind,
    )
    if row is None:
        return None
    out = dict(row)
    for key in ("params", "metrics"):
        if isinstance(out[key], str):
            out[key] = json.loads(out[key])
    return out


async def latest_artifact(conn: asyncpg.Connection) -> Path | None:
    """The folder of the latest registered model set, when it is still on disk."""
    run = await latest_run(conn, KIND)
    if run is None or not run["artifact_path"] or not Path(run["artifact_path"]).exists():
        return None
    return Path(run["artifact_path"])


async def load_latest(conn: asyncpg.Connection) -> ModelSet | None:
    folder = await latest_artifact(conn)
    return None if folder is None else load_model_set(folder)
