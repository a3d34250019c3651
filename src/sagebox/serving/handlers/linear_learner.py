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
lines for ``text/csv``. With ``SAGEMAKER_INFERENCE_OUTPUT`` set (Autopilot's candidates),
``text/csv`` answers hold the keys it names (``serving/inference_keys.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.linear_learner.model import MODEL_NAME, LinearModel, ModelFormatError
from sagebox.serving import codecs, inference_keys, media
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays


def load(model_dir: Path) -> LinearLearnerHandler:
    """The handler for the Linear Learner model in ``model_dir``; raises ``ModelLoadError``."""
    arrays, settings = load_arrays(model_dir, MODEL_NAME)
    try:
        model = LinearModel.from_saved(arrays, settings)
    except ModelFormatError as exc:
        raise ModelLoadError(f"{MODEL_NAME}.npz is not a Linear Learner model: {exc}") from None
    try:
        keys = inference_keys.keys_from(inference_keys.OUTPUT_VARIABLE)
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    return LinearLearnerHandler(model, keys)


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

    def __init__(self, model: LinearModel, inference_output: tuple[str, ...] = ()) -> None:
        super().__init__(model.num_features)
        self.model = model
        self.inference_output = inference_output
        """``SAGEMAKER_INFERENCE_OUTPUT`` (Autopilot's candidates): the keys a CSV answer holds."""

    def encode(self, columns: Columns, accept: str) -> tuple[bytes, str]:
        if accept != media.CSV or not self.inference_output:
            return super().encode(columns, accept)
        scores = np.asarray(columns["score"])
        classes = (
            None
            if "predicted_label" not in columns
            else (2 if scores.ndim == 1 else scores.shape[1])
        )
        rows = inference_keys.select(scores, self.inference_output, classes)
        # The model's own labels: a binary model's threshold need not be 0.5.
        if classes is not None:
            for row, label in zip(
                rows, np.asarray(columns["predicted_label"]).tolist(), strict=True
            ):
                if inference_keys.PREDICTED_LABEL in row:
                    row[inference_keys.PREDICTED_LABEL] = int(label)
        return inference_keys.write_csv(rows, self.inference_output), "text/csv; charset=utf-8"

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        check_finite(features)
        return self.model.predict(features)
