"""Serving SageMaker's PCA: each row's projection onto the model's components.

Model: ``model_algo-1.npz`` in the model folder, as a PCA training job saves it:
``v`` (``feature_dim x num_components``), ``s`` (singular values, ascending) and,
when the mean was subtracted in training, ``mean`` (``1 x feature_dim``). A row
``x`` is answered with ``(x - mean) @ v`` (``x @ v`` without a mean): the
components in the model's order, so the largest component comes last, as in
SageMaker. Values are float32.

Responses, as SageMaker's PCA documents them::

    application/json        {"projections": [{"projection": [1.0, 2.0]}, ...]}
    application/jsonlines   {"projection": [1.0, 2.0]}
    text/csv                1.0,2.0
    recordio-protobuf       label["projection"]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.serving import codecs, media
from sagebox.serving.errors import ModelLoadError
from sagebox.serving.handlers.amazon import AmazonHandler, Columns, load_arrays
from sagebox.serving.handlers.kmeans import check_finite

MODEL_NAME = "model_algo-1"
PROJECTION = "projection"


def load(model_dir: Path) -> PCAHandler:
    """The handler for the PCA model in ``model_dir``; raises ``ModelLoadError``."""
    arrays, _ = load_arrays(model_dir, MODEL_NAME)
    components = arrays.get("v")
    if components is None or components.ndim != 2:
        raise ModelLoadError(
            f"{MODEL_NAME}.npz holds no 'v' matrix (feature_dim rows, one column per component)"
        )
    mean = arrays.get("mean")
    if mean is not None and mean.size != components.shape[0]:
        raise ModelLoadError(
            f"{MODEL_NAME}.npz: 'mean' has {mean.size} values but 'v' has "
            f"{components.shape[0]} rows"
        )
    return PCAHandler(components, None if mean is None else mean.reshape(-1))


class PCAHandler(AmazonHandler):
    """Projects rows onto the model's principal components."""

    def __init__(self, components: np.ndarray, mean: np.ndarray | None) -> None:
        super().__init__(int(components.shape[0]))
        self.components = np.asarray(components, dtype=np.float64)
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float64)

    def project(self, features: codecs.Features) -> np.ndarray:
        """``(rows - mean) @ v``, computed without densifying sparse rows."""
        projected = np.asarray(features @ self.components)
        if self.mean is not None:
            projected = projected - self.mean @ self.components
        return projected

    def infer(self, features: codecs.Features, options: Mapping[str, str]) -> Columns:
        check_finite(features)
        rows = sp.csr_matrix(features) if sp.issparse(features) else features
        return {PROJECTION: self.project(rows).astype(np.float32)}

    def encode(self, columns: Columns, accept: str) -> tuple[bytes, str]:
        if accept == media.JSON:
            projections = np.asarray(columns[PROJECTION]).tolist()
            body = {"projections": [{PROJECTION: values} for values in projections]}
            return json.dumps(body).encode(), media.JSON
        return super().encode(columns, accept)
