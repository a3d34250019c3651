"""A trained Linear Learner model: weights for the raw features, and how it answers.

- ``regressor``: ``score = x . w + b`` (in the label's own units)
- ``binary_classifier``: ``score`` = the probability of class 1 (``logistic``) or the
  raw margin (``hinge_loss``); ``predicted_label`` = 1 when ``score > threshold``,
  the threshold tuned on the validation (else training) data for the criterion
- ``multiclass_classifier``: ``score`` = the class probabilities (softmax),
  ``predicted_label`` = the most probable class
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS, PREDICTOR_TYPES
from sagebox.algorithms.linear_learner.losses import link

MODEL_NAME = "model_algo-1"
"""The model file (``model_algo-1.npz``), named after the file SageMaker's container writes."""
FORMAT_VERSION = 1


class ModelFormatError(ValueError):
    """The saved arrays or settings are not a Linear Learner model."""


@dataclass(frozen=True)
class LinearModel:
    """``weights``: ``[features]`` (``[features, classes]`` for multiclass); ``bias``: ``[]`` or ``[classes]``."""

    predictor_type: str
    loss: str
    weights: np.ndarray
    bias: np.ndarray
    threshold: float = 0.5

    @property
    def num_features(self) -> int:
        return int(self.weights.shape[0])

    def raw_scores(self, features: np.ndarray | sp.spmatrix) -> np.ndarray:
        """``x . w + b`` for each row (``[rows]``, or ``[rows, classes]``)."""
        return np.asarray(features @ self.weights) + self.bias

    def predict(self, features: np.ndarray | sp.spmatrix) -> dict[str, np.ndarray]:
        """The named outputs SageMaker answers with, one entry per row."""
        scores = link(self.loss, self.raw_scores(features))
        if self.predictor_type == BINARY:
            return {"score": scores, "predicted_label": (scores > self.threshold).astype(np.int64)}
        if self.predictor_type == MULTICLASS:
            return {"score": scores, "predicted_label": np.argmax(scores, axis=1).astype(np.int64)}
        return {"score": scores}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "bias": np.asarray(self.bias)}

    def settings(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "predictor_type": self.predictor_type,
            "loss": self.loss,
            "threshold": float(self.threshold),
            "num_features": self.num_features,
        }

    @classmethod
    def from_saved(
        cls, arrays: Mapping[str, np.ndarray], settings: Mapping[str, Any]
    ) -> LinearModel:
        """Rebuild a model from ``arrays()`` and ``settings()``; raises ``ModelFormatError``."""
        missing = [key for key in ("weights", "bias") if key not in arrays]
        if missing:
            raise ModelFormatError(f"the model has no '{missing[0]}' array")
        predictor = settings.get("predictor_type")
        if predictor not in PREDICTOR_TYPES:
            raise ModelFormatError(f"the model's predictor_type '{predictor}' is not known")
        weights = np.asarray(arrays["weights"], dtype=np.float64)
        bias = np.asarray(arrays["bias"], dtype=np.float64)
        expected = 2 if predictor == MULTICLASS else 1
        if weights.ndim != expected or bias.ndim != expected - 1:
            raise ModelFormatError(
                f"the model's weights have shape {weights.shape} and bias {bias.shape}, "
                f"which does not fit a {predictor}"
            )
        return cls(
            predictor_type=str(predictor),
            loss=str(settings.get("loss", "")),
            weights=weights,
            bias=bias,
            threshold=float(settings.get("threshold", 0.5)),
        )
