"""A fitted CatBoost model's trees as CatBoost's own JSON export (a dict).

Why: the numpy replays of CatBoost's oblivious trees (SHAP reasons in
core.models.oblivious_shap, small-batch uplift predictions in core.uplift.fast_trees) read
the splits, borders and leaf values from it; CatBoost writes that format only to a file.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from catboost import CatBoost


def model_json(model: CatBoost) -> dict[str, Any]:
    """The model saved with `format="json"`, read back (through a temporary folder)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.json"
        model.save_model(str(path), format="json")
        spec: dict[str, Any] = json.loads(path.read_text())
    return spec
