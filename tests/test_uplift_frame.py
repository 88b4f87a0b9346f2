"""FrameEncoder: the float matrix every uplift base learner reads, the same at fit and predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.uplift._frame import UNKNOWN_CODE, FrameEncoder


def test_categories_coded_as_at_fit_unknown_and_missing_as_unknown() -> None:
    fit = pd.DataFrame(
        {
            "x": [1.5, 2.0, 3.0],
            "obj": ["b", "a", "c"],
            "cat": pd.Categorical(["p", "q", "p"]),
            "txt": pd.array(["u", "v", "u"], dtype="string"),
        }
    )
    enc = FrameEncoder().fit(fit)
    assert set(enc.categories) == {"obj", "cat", "txt"}
    new = pd.DataFrame(
        {
            "txt": pd.array(["v", None, "w"], dtype="string"),  # columns in another order
            "x": [np.nan, 0.5, 7.0],
            "obj": ["c", None, "zz"],
            "cat": pd.Categorical(["q", None, "p"]),
        }
    )
    out = enc.transform(new)
    assert out.dtype == np.float32 and out.shape == (3, 4)
    col = {c: enc.columns.index(c) for c in enc.columns}
    assert np.isnan(out[0, col["x"]]) and out[2, col["x"]] == 7.0
    assert out[:, col["obj"]].tolist() == [2.0, UNKNOWN_CODE, UNKNOWN_CODE]  # sorted: a, b, c
    assert out[:, col["cat"]].tolist() == [1.0, UNKNOWN_CODE, 0.0]
    assert out[:, col["txt"]].tolist() == [1.0, UNKNOWN_CODE, UNKNOWN_CODE]


def test_a_column_seen_at_fit_must_be_there() -> None:
    enc = FrameEncoder().fit(pd.DataFrame({"x": [1.0], "s": ["a"]}))
    with pytest.raises(KeyError, match="missing"):
        enc.transform(pd.DataFrame({"x": [1.0]}))
