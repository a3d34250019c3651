"""Serving SageMaker's k-NN: each row's predicted label and, on request, its neighbors.

Model: ``model_algo-1.npz`` in the model folder, as a k-NN training job saves it
(sampled points or a serialized IVF index, their labels, the dimension reduction,
the settings); the faiss index is rebuilt once at load. Requests are rows of
``feature_dim`` features in any of the Amazon algorithms' request formats
(``text/csv``, ``application/json``, ``application/jsonlines``,
``application/x-recordio-protobuf``, dense or sparse).

Each row is answered with ``predicted_label``: the majority label of its ``k``
nearest points (the smallest label on a tie) for a classifier, their mean label for
a regressor. With ``verbose=true`` in the Accept header (e.g.
``application/json; verbose=true``) the answer also holds, nearest first,
``distances`` (squared L2 distance; inner product or cosine similarity for those
metrics) and the neighbors' ``labels``. Values are float32, as SageMaker writes them::

    application/json        {"predictions": [{"predicted_label": 2.0}]}
    application/json; verbose=true
                            {"predictions": [{"predicted_label": 2.0,
                              "distances": [1.08, 3.05, 5.25], "labels": [2.0, 2.0, 0.0]}]}
    application/jsonlines   {"predicted_label": 2.0}
    text/csv                2.0   (verbose: 2.0,<k distances>,<k labels>)
    recordio-protobuf       label["predicted_label"] (verbose: also "distances", "labels")
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.knn.model import MODEL_NAME, KnnModel
from sagebox.serving import codecs
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays

_TRUE = ("true", "1", "yes")


def load(model_dir: Path) -> KnnHandler:
    """The handler for the k-NN model in ``model_dir``; raises ``ModelLoadError``."""
    arrays, settings = load_arrays(model_dir, MODEL_NAME)
    try:
        model = KnnModel.from_saved(arrays, settings)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ModelLoadError(
            f"{MODEL_NAME}.npz is not a k-NN model sagebox can load: {exc}"
        ) from None
    return KnnHandler(model)


def check_finite(features: codecs.Features) -> None:
    """Refuse rows with a missing or non-finite feature (distances need every value)."""
    values = features.data if sp.issparse(features) else features
    finite = np.isfinite(values)
    if finite.all():
        return
    if sp.issparse(features):
        row = int(np.searchsorted(features.indptr, np.argmin(finite), side="right"))
    else:
        row = int(np.argmin(finite.all(axis=1))) + 1
    raise BadRequest(
        f"row {row} has a missing or non-finite feature; every feature must be a number"
    )


def is_verbose(options: Mapping[str, str]) -> bool:
    """Whether the Accept header asks for ``verbose=true``."""
    return any(
        key.strip().lower() == "verbose" and str(value).strip().strip('"').lower() in _TRUE
        for key, value in options.items()
    )


class KnnHandler(AmazonHandler):
    """Predicts labels from the nearest sampled training points."""

    def __init__(self, model: KnnModel) -> None:
        super().__init__(model.config.feature_dim)
        self.model = model

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        check_finite(features)
        prediction = self.model.predict(features)
        columns: dict[str, np.ndarray] = {
            "predicted_label": prediction.predicted_label.astype(np.float32)
        }
        if is_verbose(options):
            columns["distances"] = prediction.distances.astype(np.float32)
            columns["labels"] = prediction.labels.astype(np.float32)
        return columns
