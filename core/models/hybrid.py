"""The hybrid take-up scorer: content features + CatBoost, in two stages.

Why two stages: only about 3-5% of clients add any product in a month, and one binary model
per product (18 of them over every client row) costs too much time on a 2-core machine. The
Santander winners instead learned *which* product is added among the rows that add one
(multiclass) - a ranking model. We keep that and multiply by a binary model of *whether*
the client adds anything next month, so the output is a probability vector:

    P(take up j) = P(adds something) x P(j | adds something, j not held)

Stage B's distribution is renormalised over the products the client does not hold. The
features already carry the time series (lags, windows, trends), the season (target month,
June flag: the tax product's peak) and the client's behaviour cluster.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, Pool

from core.models.base import TrainSet, held_now
from core.models.oblivious_shap import ObliviousShap
from core.models.shap_reasons import ReasonSource, shap_values

META_FILE = "meta.json"
# Up to this many rows a scoring pool is built from one object matrix (see HybridScorer._pool).
SMALL_POOL_ROWS = 32


class _Clock:
    """Wall and process-CPU seconds since creation."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        return {
            "wall": round(time.perf_counter() - self.wall, 2),
            "cpu": round(time.process_time() - self.cpu, 2),
        }


@dataclass
class HybridParams:
    iterations_any: int = 250
    iterations_which: int = 250
    depth_any: int = 6
    depth_which: int = 4  # few rows per class: shallow trees generalise, and are 10x faster
    border_count: int = 32
    learning_rate: float = 0.08
    negatives_per_positive: float = 4.0  # stage A negative subsampling (weights undo it)
    # Stage B rows sampled per tree (Bernoulli): its 16-class histograms cost ~70% of the fit,
    # in proportion to the rows. 1.0 = CatBoost's default (Bayesian bootstrap, every row);
    # 0.66 halved the fit on 20k clients, map@7 0.01934 vs 0.01960 (within seed noise).
    subsample_which: float = 1.0
    threads: int = -1
    seed: int = 31
    early_stopping: bool = True  # tree counts chosen on the latest training month
    # After early stopping, refit on every month with the chosen tree count (True), or keep
    # the early-stopped model, trained on all months but the latest (False: half the fits).
    # On 20,000 clients (same test month, side by side): refit 345.8 CPU s, MAP@7 0.030731;
    # kept 172.4 CPU s, MAP@7 0.030859 - the latest month adds nothing measurable.
    refit: bool = False


@dataclass
class HybridScorer:
    products: tuple[str, ...]
    params: HybridParams = field(default_factory=HybridParams)
    feature_columns: list[str] = field(default_factory=list)
    cat_columns: list[str] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    model_any: CatBoostClassifier | None = None
    model_which: CatBoostClassifier | None = None
    fit_seconds: float = 0.0
    best_iterations: dict[str, int] = field(default_factory=dict)
    # wall and process-CPU seconds of each CatBoost fit ("Logloss/probe", "MultiClass/final"...):
    # CPU time is the figure to compare on a shared machine, where wall time follows the load.
    stage_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    prior_log: list[float] = field(default_factory=list)  # stage B offset per class
    name: str = "hybrid"

    # ------------------------------------------------------------------ training
    def fit(self, train: TrainSet, cat_columns: list[str] | None = None) -> HybridScorer:
        """Fit both stages. The number of trees of each stage is chosen by early stopping
        on the latest training month (a temporal validation split, so the choice mimics
        predicting an unseen month), then each stage is refitted on all months with it.
        With few additions to learn from, this keeps the model from fitting noise."""
        started = time.perf_counter()
        X = train.X
        self.feature_columns = [c for c in X.columns if c not in ("client_id", "cutoff")]
        self.feature_columns = [c for c in self.feature_columns if not c.startswith("label_")]
        self.cat_columns = [c for c in (cat_columns or []) if c in self.feature_columns]
        y = np.nan_to_num(np.asarray(train.y, dtype=float)) > 0
        adds_any = y.any(axis=1)
        rng = np.random.default_rng(self.params.seed)
        latest = self._latest_month_rows(X)

        # Stage A: does the client add anything? Subsample negatives, weight them back.
        pos = np.flatnonzero(adds_any)
        neg = np.flatnonzero(~adds_any)
        n_neg = min(len(neg), int(max(len(pos), 1) * self.params.negatives_per_positive))
        keep_neg = rng.choice(neg, n_neg, replace=False) if n_neg < len(neg) else neg
        rows = np.concatenate([pos, keep_neg])
        weights = np.ones(len(rows))
        weights[len(pos) :] = len(neg) / max(n_neg, 1)
        target = adds_any[rows].astype(int)
        self.model_any = self._fit_stage(
            "Logloss",
            self.params.iterations_any,
            self.params.depth_any,
            X.iloc[rows],
            target,
            weights,
            latest[rows],
        )

        # Stage B: which product, among rows that add (one row per added product).
        r, j = np.nonzero(y)
        self.classes = sorted(set(j.tolist()))
        # Prior offset: the log take-up rate of each product among clients who could take it
        # (did not hold it). Stage B starts from "rank like popularity" and learns only the
        # corrections the data supports; without it a small sample ranks by share of
        # additions, which under-rates products most clients already hold.
        could = ~held_now(X, self.products)
        rates = ((y & could).sum(axis=0) + 1.0) / (could.sum(axis=0) + 2.0)
        self.prior_log = np.log(rates[self.classes]).tolist()
        if len(self.classes) >= 2:
            # One-hot categoricals: per-class target statistics (CTRs) for 18 classes cost
            # minutes and overfit the few rows each class has.
            self.model_which = self._fit_stage(
                "MultiClass",
                self.params.iterations_which,
                self.params.depth_which,
                X.iloc[r],
                j,
                None,
                latest[r],
                baseline=self._baseline(len(r)),
                one_hot_max_size=255,
                **self._which_sampling(),
            )
        else:
            self.model_which = self._classifier("MultiClass", 1, self.params.depth_which)
        self.fit_seconds = time.perf_counter() - started
        return self

    def _which_sampling(self) -> dict[str, Any]:
        if self.params.subsample_which >= 1.0:
            return {}
        return {"bootstrap_type": "Bernoulli", "subsample": self.params.subsample_which}

    @staticmethod
    def _latest_month_rows(X: pd.DataFrame) -> np.ndarray:
        if "cutoff" not in X.columns:
            return np.zeros(len(X), dtype=bool)
        cutoff = pd.to_datetime(X["cutoff"]).to_numpy()
        return cutoff == cutoff.max() if len(cutoff) else np.zeros(0, dtype=bool)

    def _fit_stage(
        self,
        loss: str,
        iterations: int,
        depth: int,
        X: pd.DataFrame,
        y: np.ndarray,
        weight: np.ndarray | None,
        valid: np.ndarray,
        baseline: np.ndarray | None = None,
        **extra: Any,
    ) -> CatBoostClassifier:
        features = self._x(X)
        b_fit = None if baseline is None else baseline[~valid]
        b_val = None if baseline is None else baseline[valid]
        best = iterations
        fit_rows, val_rows = ~valid, valid
        # Early stopping needs both parts, and every class of the validation part in training.
        if self.params.early_stopping and fit_rows.sum() > 50 and val_rows.sum() > 20:
            probe = self._classifier(loss, iterations, depth, **extra)
            w_fit = None if weight is None else weight[fit_rows]
            w_val = None if weight is None else weight[val_rows]
            if set(np.unique(y[val_rows])) <= set(np.unique(y[fit_rows])):
                clock = _Clock()
                probe.fit(
                    Pool(
                        features[fit_rows],
                        y[fit_rows],
                        cat_features=self.cat_columns,
                        weight=w_fit,
                        baseline=b_fit,
                    ),
                    eval_set=Pool(
                        features[val_rows],
                        y[val_rows],
                        cat_features=self.cat_columns,
                        weight=w_val,
                        baseline=b_val,
                    ),
                    early_stopping_rounds=max(20, iterations // 10),
                    use_best_model=True,
                )
                best = max(10, int((probe.get_best_iteration() or 0) + 1))
                self.stage_seconds[f"{loss}/probe"] = clock.read()
                if not self.params.refit:
                    self.best_iterations[loss] = best
                    return probe
        self.best_iterations[loss] = best
        clock = _Clock()
        model = self._classifier(loss, best, depth, **extra)
        model.fit(Pool(features, y, cat_features=self.cat_columns, weight=weight, baseline=baseline))
        self.stage_seconds[f"{loss}/final"] = clock.read()
        return model

    def _baseline(self, n: int) -> np.ndarray | None:
        if not self.prior_log:
            return None
        return np.tile(np.asarray(self.prior_log, dtype=float), (n, 1))

    def _classifier(self, loss: str, iterations: int, depth: int, **extra: Any) -> CatBoostClassifier:
        return CatBoostClassifier(
            loss_function=loss,
            iterations=iterations,
            depth=depth,
            border_count=self.params.border_count,
            max_ctr_complexity=1,
            learning_rate=self.params.learning_rate,
            random_seed=self.params.seed,
            thread_count=self.params.threads,
            verbose=False,
            allow_writing_files=False,
            **extra,
        )

    def _check_columns(self, X: pd.DataFrame) -> None:
        have = set(X.columns.tolist())  # probing the Index itself: ~5 µs a name (Arrow strings)
        missing = [c for c in self.feature_columns if c not in have]
        if missing:
            raise ValueError(f"feature frame lacks {len(missing)} model columns, e.g. {missing[:5]}")

    def _x(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_columns(X)
        out = X.loc[:, self.feature_columns].copy()
        for c in self.cat_columns:
            out[c] = out[c].astype(str)
        return out

    # ------------------------------------------------------------------ scoring
    def _pool(self, X: pd.DataFrame) -> Pool:
        if len(X) <= SMALL_POOL_ROWS:
            # A worker's batch of a few events: CatBoost reads a DataFrame column by column
            # (~65-200 ms for ~700 columns whatever the rows), one object matrix in ~10 ms.
            # The matrix comes straight from X (the copied frame of _x and its per-column
            # string casts cost ~10 ms more); the categorical columns are cast as _x casts
            # them. Same values, same predictions; past a few dozen rows the DataFrame path wins.
            self._check_columns(X)
            names = list(self.feature_columns)
            values = X[names].to_numpy(dtype=object)
            cats = [names.index(c) for c in self.cat_columns]
            for j, c in zip(cats, self.cat_columns, strict=True):
                values[:, j] = X[c].astype(str).to_numpy(dtype=object)
            return Pool(values, cat_features=cats, feature_names=names)
        return Pool(self._x(X), cat_features=self.cat_columns)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._predict(X, self._pool(X))

    def predict_with_reasons(self, X: pd.DataFrame) -> tuple[np.ndarray, ReasonSource]:
        """predict_proba and the batch's reasons from one CatBoost pool: building a pool from
        ~400 pandas columns costs more than either model call on the serving path. Reasons
        are worked out when asked for (ReasonSource.top_many), for the products actually offered."""
        if self.model_any is None:
            raise RuntimeError("HybridScorer is not fitted")
        pool = self._pool(X)
        source = self._reason_source(pool, len(X))
        return self._predict(X, pool), source

    def _predict(self, X: pd.DataFrame, pool: Pool) -> np.ndarray:
        """Stage A on `pool` as it is, then stage B with its prior offset (set on `pool`)."""
        if self.model_any is None:
            raise RuntimeError("HybridScorer is not fitted")
        p_any = self.model_any.predict_proba(pool)[:, 1]
        which = np.full((len(X), len(self.products)), 1e-6)
        if len(self.classes) >= 2 and self.model_which is not None:
            baseline = self._baseline(len(X))
            if baseline is not None:
                pool.set_baseline(baseline)
            which[:, self.classes] = np.maximum(self.model_which.predict_proba(pool), 1e-6)
        elif len(self.classes) == 1:
            which[:, self.classes[0]] = 1.0
        which = np.where(held_now(X, self.products), 0.0, which)
        total = which.sum(axis=1, keepdims=True)
        which = np.divide(which, total, out=np.zeros_like(which), where=total > 0)
        return p_any[:, None] * which

    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[dict[str, list[tuple[str, float]]]]:
        """Per row and product: the features that pushed its score up most (SHAP, log-odds).

        Contributions of stage A (will the client add anything) and of stage B's class for
        the product (why this product rather than another) are added; explanations cite the
        positive ones, so a client hears why *this* offer, in the model's own terms.
        """
        if self.model_any is None:
            return [{} for _ in range(len(X))]
        return self._reason_source(self._pool(X), len(X)).all_rows(top)

    def _tables(self, stage: str) -> ObliviousShap | None:
        """The stage's tabulated trees for fast SHAP (built on first use, ~0.2 s), or None."""
        cache: dict[str, ObliviousShap | None] = self.__dict__.setdefault("_shap_tables", {})
        if stage not in cache:
            model = self.model_any if stage == "any" else self.model_which
            cache[stage] = ObliviousShap.from_model(model) if model is not None else None
        return cache[stage]

    def _reason_source(self, pool: Pool, n_rows: int) -> ReasonSource:
        """Stage A's contributions for every row now; stage B's per pair when asked."""
        assert self.model_any is not None
        any_tables = self._tables("any")
        if any_tables is not None:
            leaves = self.model_any.calc_leaf_indexes(pool)
            values = any_tables.pair_values(leaves, np.arange(n_rows), np.zeros(n_rows, dtype=np.int64))
            any_part = (values, any_tables.features)
        else:
            dense = shap_values(self.model_any, pool)[:, :-1]
            any_part = (dense, np.arange(dense.shape[1]))
        which_part: tuple[ObliviousShap, np.ndarray, np.ndarray] | np.ndarray | None = None
        if len(self.classes) >= 2 and self.model_which is not None:
            tables = self._tables("which")
            if tables is not None:
                which_part = (tables, self.model_which.calc_leaf_indexes(pool), tables.features)
            else:
                which_part = shap_values(self.model_which, pool)[:, :, :-1]
        class_of = {self.products[cls]: k for k, cls in enumerate(self.classes)}
        return ReasonSource(any_part, which_part, self.feature_columns, class_of)

    def feature_importance(self, top: int = 20) -> list[tuple[str, float]]:
        if self.model_any is None:
            return []
        imp = self.model_any.get_feature_importance()
        order = np.argsort(-imp)[:top]
        return [(self.feature_columns[i], float(imp[i])) for i in order]

    # ------------------------------------------------------------------ persistence
    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        assert self.model_any is not None and self.model_which is not None
        self.model_any.save_model(str(folder / "any.cbm"))
        if len(self.classes) >= 2:
            self.model_which.save_model(str(folder / "which.cbm"))
        meta = {
            "products": list(self.products),
            "feature_columns": self.feature_columns,
            "cat_columns": self.cat_columns,
            "classes": self.classes,
            "params": self.params.__dict__,
            "fit_seconds": self.fit_seconds,
            "best_iterations": self.best_iterations,
            "stage_seconds": self.stage_seconds,
            "prior_log": self.prior_log,
            **(extra or {}),
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path) -> HybridScorer:
        meta = json.loads((folder / META_FILE).read_text())
        model = cls(
            products=tuple(meta["products"]),
            params=HybridParams(**meta["params"]),
            feature_columns=meta["feature_columns"],
            cat_columns=meta["cat_columns"],
            classes=meta["classes"],
            prior_log=meta.get("prior_log", []),
        )
        model.model_any = CatBoostClassifier()
        model.model_any.load_model(str(folder / "any.cbm"))
        model.model_which = CatBoostClassifier()
        if (folder / "which.cbm").exists():
            model.model_which.load_model(str(folder / "which.cbm"))
        return model
