"""Automatic point-in-time features (see core.features.definitions for the declarations).

Public API:
- build_features(frames, cutoff, client_ids=None, *, products=None, clusters=None)
- training_frame(frames, cutoffs, *, products=None, clusters=None)
- make_labels(holdings, ids, month_index, products)
- fit_clusters(features, ...) -> ClusterModel; ClusterModel.save/predict; load_clusters
- load_frames_db / build_features_db (asyncpg), export_parquet / load_frames_parquet
- FeatureFrames, feature_columns, categorical_columns, horizon, month_index
"""

from core.features.clustering import ClusterModel, add_clusters, fit_clusters, load_clusters
from core.features.definitions import (
    categorical_columns,
    feature_columns,
    horizon,
    month_index,
    month_start,
)
from core.features.frames import FeatureFrames, from_bundle
from core.features.labels import label_columns, make_labels
from core.features.pipeline import build_features, training_frame
from core.features.source import (
    build_features_db,
    export_parquet,
    load_frames_db,
    load_frames_parquet,
)

__all__ = [
    "ClusterModel",
    "FeatureFrames",
    "add_clusters",
    "build_features",
    "build_features_db",
    "categorical_columns",
    "export_parquet",
    "feature_columns",
    "fit_clusters",
    "from_bundle",
    "horizon",
    "label_columns",
    "load_clusters",
    "load_frames_db",
    "load_frames_parquet",
    "make_labels",
    "month_index",
    "month_start",
    "training_frame",
]
