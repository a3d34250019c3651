"""Serving SageMaker's Random Cut Forest: an anomaly score per row.

Model: ``random_cut_forest.npz`` (the forest a ``randomcutforest`` training job
saved). Requests are rows of ``feature_dim`` numbers in any of the Amazon
algorithms' request formats (``text/csv``, ``application/json``,
``application/jsonlines``, ``application/x-recordio-protobuf``; sparse rows count
absent features as 0).

Answers, shaped as SageMaker's RCF documents them (note ``scores``, not
``predictions``)::

    application/json        {"scores": [{"score": 0.02}, {"score": 0.25}]}
    application/jsonlines   {"score": 0.02}  (one line per row)
    recordio-protobuf       one record per row, label["score"]
    text/csv                one score per line
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.random_cut_forest.forest import MODEL_NAME, RandomCutForest
from sagebox.algorithms.random_cut_forest.scoring import ForestScorer
from sagebox.serving import codecs, media
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays


def load(model_dir: Path) -> RandomCutForestHandler:
    """The handler for the forest in ``model_dir``; raises ``ModelLoadError``."""
    arrays, _ = load_arrays(model_dir, MODEL_NAME)
    try:
        forest = RandomCutForest.from_arrays(arrays)
    except ValueError as exc:
        raise ModelLoadError(f"{MODEL_NAME}.npz is not a Random Cut Forest model: {exc}") from None
    return RandomCutForestHandler(forest)


def dense_features(features: codecs.Features) -> np.ndarray:
    """Float32 rows; raises ``BadRequest`` for a missing or non-finite value."""
    rows = features.toarray() if sp.issparse(features) else np.asarray(features)
    rows = np.asarray(rows, dtype=np.float32)
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        raise BadRequest(
            f"row {int(np.argmin(finite)) + 1} has a missing or non-finite feature; "
            "every feature must be a number"
        )
    return rows


class RandomCutForestHandler(AmazonHandler):
    """Scores rows with the model's forest."""

    def __init__(self, forest: RandomCutForest) -> None:
        super().__init__(forest.num_features)
        self.scorer = ForestScorer(forest)

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        return {"score": self.scorer.score(dense_features(features))}

    def encode(self, columns: Columns, accept: str) -> tuple[bytes, str]:
        if accept == media.JSON:
            scores = [{"score": value} for value in np.asarray(columns["score"]).tolist()]
            return json.dumps({"scores": scores}).encode(), media.JSON
        return super().encode(columns, accept)
