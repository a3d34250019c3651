"""Serving SageMaker's Factorization Machines: a score (and label) per row.

Model: ``factorization_machines.npz`` (w0, w, V and the predictor type a
``factorization-machines`` training job saved). Requests are rows of ``feature_dim``
features in any of the Amazon algorithms' request formats (``text/csv``,
``application/json``, ``application/jsonlines``, ``application/x-recordio-protobuf``),
dense or sparse; sparse rows count absent features as 0.

Answers, as SageMaker documents them::

    regressor           {"predictions": [{"score": 3.2}]}
    binary_classifier   {"predictions": [{"score": 0.73, "predicted_label": 1}]}

``score`` is the prediction (the probability of label 1 for classifiers, whose
``predicted_label`` is 1 when the score is at least 0.5); JSON Lines has one such
object per line, RecordIO-protobuf one record per row with the outputs in
``label``, CSV one line per row (``score`` then ``predicted_label``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.factorization_machines.model import MODEL_NAME, FactorizationMachine
from sagebox.serving import codecs
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays


def load(model_dir: Path) -> FactorizationMachinesHandler:
    """The handler for the model in ``model_dir``; raises ``ModelLoadError``."""
    arrays, settings = load_arrays(model_dir, MODEL_NAME)
    try:
        model = FactorizationMachine.from_arrays(arrays, str(settings.get("predictor_type")))
    except ValueError as exc:
        raise ModelLoadError(
            f"{MODEL_NAME}.npz is not a Factorization Machines model: {exc}"
        ) from None
    return FactorizationMachinesHandler(model)


class FactorizationMachinesHandler(AmazonHandler):
    """Predicts with the model's w0, w and V."""

    def __init__(self, model: FactorizationMachine) -> None:
        super().__init__(model.num_features)
        self.model = model

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        values = features.data if sp.issparse(features) else features
        if not np.isfinite(values).all():
            raise BadRequest(
                "a row has a missing or non-finite feature; send every feature as a number "
                "(sparse rows leave zeros out)"
            )
        return self.model.predict(features)
