"""SHAP contributions of the hybrid's two stages, read fast, and each offer's top reasons.

Why a module of its own: the hybrid's fit and scoring do not need it, but every served
explanation does (the worker and the API compute reasons for each scored client), and its
speed depends on reading CatBoost's SHAP array without its Python copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from catboost import CatBoostClassifier, Pool
from catboost.core import EFstrType, EShapCalcType

from core.models.oblivious_shap import ObliviousShap


def shap_values(model: CatBoostClassifier, pool: Pool) -> np.ndarray:
    """Approximate SHAP values, as `get_feature_importance(type="ShapValues")` returns them.

    Approximate SHAP is 1.5-4x faster on the serving path than exact, with correlation
    > 0.99. CatBoost 1.2 computes the values into a numpy array in C++, then rebuilds that
    array element by element in Python (three nested comprehensions): for a batch of 500
    clients x 16 classes x 424 features that copy costs ~0.5 s against ~0.07 s for the
    computation, and it dominated the worker's rescoring. The private `_calc_fstr` returns
    the array itself; when its signature or result changes (another CatBoost version) the
    public call is used. tests/test_modeling.py checks that both give the same values.
    """
    try:
        fstr, _ = model._calc_fstr(
            EFstrType.ShapValues,
            pool,
            None,
            -1,
            0,
            "Raw",
            "Auto",
            None,
            EShapCalcType.Approximate.value,
            32,
            512,
            False,
        )
        values = np.asarray(fstr, dtype=np.float64)
        if values.ndim in (2, 3) and values.shape[0] == pool.num_row():
            return values
    except (TypeError, AttributeError, ValueError):
        pass
    return np.asarray(
        model.get_feature_importance(pool, type="ShapValues", shap_calc_type="Approximate"), dtype=np.float64
    )


class ReasonSource:
    """One scored batch's model reasons, worked out only for the (row, product) pairs asked for.

    Why lazily: a client is offered two or three of ~18 products, and a product's reasons are
    its own SHAP values, so computing and sorting every pair of every client (the dense way)
    was half the serving path's CPU. Stage A (will the client add anything) is one vector per
    row and is gathered for the whole batch at once; stage B (which product) per pair asked.
    Where a model has splits `ObliviousShap` does not handle, its dense CatBoost SHAP is used.
    """

    def __init__(
        self,
        any_part: tuple[np.ndarray, np.ndarray],
        which_part: tuple[ObliviousShap, np.ndarray, np.ndarray] | np.ndarray | None,
        feature_columns: Sequence[str],
        class_of: dict[str, int],
    ) -> None:
        # any_part: (rows x features_any contributions, their flat feature indexes);
        # which_part: (tables, leaf indexes, flat indexes) or the dense (rows, classes, features).
        any_values, any_features = any_part
        which_features = (
            which_part[2] if isinstance(which_part, tuple)
            else np.arange(which_part.shape[2]) if which_part is not None
            else np.zeros(0, dtype=np.int64)
        )
        self.columns = np.union1d(any_features, which_features)
        self._any = np.zeros((len(any_values), len(self.columns)))
        self._any[:, np.searchsorted(self.columns, any_features)] = any_values
        self._which = which_part
        self._which_at = np.searchsorted(self.columns, which_features)
        self._names = np.asarray(feature_columns, dtype=object)[self.columns]
        self._class_of = class_of

    def top_many(
        self, requests: Sequence[tuple[int, Sequence[str]]], top: int = 3
    ) -> list[dict[str, list[tuple[str, float]]]]:
        """For each (row, product codes) asked: per code the model ranks, the `top` features
        with the largest positive contribution to that product's score, largest first (4
        decimals). One vectorised pass for all the pairs: per-call numpy overhead would cost
        more than the arithmetic of a client's two or three offers."""
        rows: list[int] = []
        codes: list[str] = []
        for row, wanted in requests:
            for code in wanted:
                if code in self._class_of:
                    rows.append(row)
                    codes.append(code)
        out: list[dict[str, list[tuple[str, float]]]] = [{} for _ in requests]
        if not rows:
            return out
        at = np.asarray(rows, dtype=np.intp)
        classes = np.asarray([self._class_of[c] for c in codes], dtype=np.intp)
        contrib = self._any[at]
        if isinstance(self._which, tuple):
            tables, leaves, _ = self._which
            contrib[:, self._which_at] += tables.pair_values(leaves, at, classes)
        elif self._which is not None:
            contrib[:, self._which_at] += self._which[at, classes]
        k = min(top, contrib.shape[1])
        # The top k by a partition, then only those k sorted; ties (which only zero
        # contributions have in practice, and those are not reasons) go to the lower column.
        if k < contrib.shape[1]:
            part = np.argpartition(-contrib, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(contrib.shape[1]), contrib.shape)
        picked = np.take_along_axis(contrib, part, axis=1)
        order = np.lexsort((part, -picked), axis=1)[:, :k]
        values = np.round(np.take_along_axis(picked, order, axis=1), 4).tolist()
        names = self._names[np.take_along_axis(part, order, axis=1)].tolist()
        slot = 0
        for i, (_, wanted) in enumerate(requests):
            for code in wanted:
                if code in self._class_of:
                    pairs = zip(names[slot], values[slot], strict=True)
                    out[i][code] = [(str(n), v) for n, v in pairs if v > 0]
                    slot += 1
        return out

    def all_rows(self, top: int = 3) -> list[dict[str, list[tuple[str, float]]]]:
        """Every product's reasons for every row (analysis and tests; serving asks per offer)."""
        codes = list(self._class_of)
        return self.top_many([(i, codes) for i in range(len(self._any))], top)


@dataclass(frozen=True)
class RowReasons:
    """One scored client's row in its batch's ReasonSource: what a decision asks for."""

    source: ReasonSource
    row: int
