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


def test_positions_follow_each_frames_columns_and_are_not_pickled() -> None:
    """The encoder keeps where its columns sat in the last frame; a frame with its columns in
    another order (or another set) must be read by name again, not by the kept positions."""
    import pickle

    enc = FrameEncoder().fit(pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0], "s": ["a", "b"]}))
    first = enc.transform(pd.DataFrame({"x": [1.0], "y": [3.0], "s": ["b"]}))
    swapped = enc.transform(pd.DataFrame({"s": ["b"], "extra": [9.0], "y": [1.0], "x": [3.0]}))
    col = {c: enc.columns.index(c) for c in enc.columns}
    assert first[0, col["x"]] == 1.0 and first[0, col["y"]] == 3.0
    assert swapped[0, col["x"]] == 3.0 and swapped[0, col["y"]] == 1.0 and swapped[0, col["s"]] == 1.0
    copy = pickle.loads(pickle.dumps(enc))
    assert "_cached_positions" in enc.__dict__ and "_cached_positions" not in copy.__dict__
    assert copy == enc
    with pytest.raises(KeyError, match="missing"):  # and a frame lacking one still raises
        enc.transform(pd.DataFrame({"x": [1.0], "s": ["a"]}))
