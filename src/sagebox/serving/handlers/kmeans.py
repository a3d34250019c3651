"""Serving SageMaker's K-Means: the closest centroid of each row and the distance to it.

Model: ``model_algo-1.npz`` in the model folder, the ``k x feature_dim`` centroids a
K-Means training job saved. Requests are rows of ``feature_dim`` features in any of
the Amazon algorithms' request formats (``text/csv``, ``application/json``,
``application/jsonlines``, ``application/x-recordio-protobuf``, dense or sparse).

Each row is answered with ``closest_cluster`` (the centroid's index, as a float) and
``distance_to_cluster`` (the Euclidean distance to it), both float32 as SageMaker
writes them::

    application/json        {"predictions": [{"closest_cluster": 1.0, "distance_to_cluster": 3.0}]}
    application/jsonlines   {"closest_cluster": 1.0, "distance_to_cluster": 3.0}
    text/csv                1.0,3.0
    recordio-protobuf       label["closest_cluster"], label["distance_to_cluster"]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.kmeans.clustering import closest
from sagebox.serving import codecs
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays

MODEL_NAME = "model_algo-1"
CENTROIDS = "centroids"


def load(model_dir: Path) -> KMeansHandler:
    """The handler for the K-Means model in ``model_dir``; raises ``ModelLoadError``."""
    arrays, _ = load_arrays(model_dir, MODEL_NAME)
    centroids = arrays.get(CENTROIDS)
    if centroids is None or centroids.ndim != 2 or centroids.shape[0] < 1:
        raise ModelLoadError(
            f"{MODEL_NAME}.npz holds no '{CENTROIDS}' matrix (k rows of feature_dim values)"
        )
    return KMeansHandler(centroids)


def check_finite(features: codecs.Features) -> None:
    """Refuse rows with a missing or non-finite feature (distances need every value)."""
    values = features.data if sp.issparse(features) else features
    if np.isfinite(values).all():
        return
    if sp.issparse(features):
        row = int(np.searchsorted(features.indptr, np.argmin(np.isfinite(features.data)), "right"))
    else:
        row = int(np.argmin(np.isfinite(features).all(axis=1))) + 1
    raise BadRequest(
        f"row {row} has a missing or non-finite feature; every feature must be a number"
    )


class KMeansHandler(AmazonHandler):
    """Assigns rows to the closest of the model's centroids."""

    def __init__(self, centroids: np.ndarray) -> None:
        super().__init__(int(centroids.shape[1]))
        self.centroids = np.asarray(centroids, dtype=np.float64)

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        check_finite(features)
        labels, squared = closest(features, self.centroids)
        return {
            "closest_cluster": labels.astype(np.float32),
            "distance_to_cluster": np.sqrt(squared).astype(np.float32),
        }
