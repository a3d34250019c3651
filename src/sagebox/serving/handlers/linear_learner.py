"""Serving SageMaker's Linear Learner: a score (and a label) for each row.

Model: ``model_algo-1.npz`` in the model folder, as a Linear Learner training job
saves it (weights for the raw features, the bias, the predictor type, the loss and
the tuned decision threshold). Requests are rows of the model's features in any of
the Amazon algorithms' request formats (``text/csv``, ``application/json``,
``application/jsonlines``, ``application/x-recordio-protobuf``, dense or sparse).

Answers, as SageMaker documents them::

    binary_classifier      {"score": 0.4, "predicted_label": 0}
    multiclass_classifier  {"score": [0.1, 0.2, 0.4, 0.3], "predicted_label": 2}
    regressor              {"score": 0.4}

wrapped in ``{"predictions": [...]}`` for ``application/json``, one object per line
for ``application/jsonlines``, the ``label`` map of one record per row for
``application/x-recordio-protobuf`` (float32), and ``score[,...],predicted_label``
lines for ``text/csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.linear_learner.model import MODEL_NAME, LinearModel, ModelFormatError
from sagebox.serving import codecs
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays


def load(model_dir: Path) -> LinearLearnerHandler:
    """The handler for the Linear Learner model in ``model_dir``; raises ``ModelLoadError``."""
    arrays, settings = load_arrays(model_dir, MODEL_NAME)
    try:
        model = LinearModel.from_saved(arrays, settings)
    except ModelFormatError as exc:
        raise ModelLoadError(f"{MODEL_NAME}.npz is not a Linear Learner model: {exc}") from None
    return LinearLearnerHandler(model)


def check_finite(features: codecs.Features) -> None:
    """Refuse rows with a missing or non-finite feature: a linear score needs every value."""
    if sp.issparse(features):
        finite = np.isfinite(features.data)
        if finite.all():
            return
        row = int(np.searchsorted(features.indptr, int(np.argmin(finite)), "right"))
    else:
        rows = np.isfinite(features).all(axis=1)
        if rows.all():
            return
        row = int(np.argmin(rows)) + 1
    raise BadRequest(
        f"row {row} has a missing or non-finite feature; every feature must be a number"
    )


class LinearLearnerHandler(AmazonHandler):
    """Scores rows with the model's weights; classifiers add the predicted label."""

    def __init__(self, model: LinearModel) -> None:
        super().__init__(model.num_features)
        self.model = model

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        check_finite(features)
        return self.model.predict(features)
