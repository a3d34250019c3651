"""The factorization machine: predictions and gradients in O(k · non-zeros).

The pairwise term uses Rendle's identity

    sum_{i<j} <v_i, v_j> x_i x_j = 1/2 * sum_f [ (sum_i v_if x_i)^2 - sum_i v_if^2 x_i^2 ]

so a batch costs two sparse products, ``X @ V`` and ``(X * X) @ (V * V)``, instead of
one term per pair of features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

MODEL_NAME = "factorization_machines"
"""The model file (``factorization_machines.npz``) a training job saves."""

Rows = np.ndarray | sp.csr_matrix
BINARY = "binary_classifier"
REGRESSOR = "regressor"
THRESHOLD = 0.5
"""A binary classifier predicts label 1 when its score is at least 0.5."""


def squared(rows: Rows) -> Rows:
    """The rows with every value squared (sparse stays sparse)."""
    if sp.issparse(rows):
        result = sp.csr_matrix(rows, copy=True)
        result.data = result.data**2
        return result
    return np.square(rows)


def sigmoid(values: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large negative inputs."""
    out = np.empty_like(values, dtype=np.float64)
    positive = values >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-values[positive]))
    exp = np.exp(values[~positive])
    out[~positive] = exp / (1.0 + exp)
    return out


@dataclass(frozen=True)
class Interactions:
    """What one forward pass leaves for the backward pass."""

    projected: np.ndarray
    """``X @ V`` (rows, factors), float64."""
    rows_squared: Rows
    """``X * X``."""


def forward(
    rows: Rows, bias: float, linear: np.ndarray, factors: np.ndarray
) -> tuple[np.ndarray, Interactions]:
    """The raw model output per row (float64) and the intermediates of its gradient."""
    factors64 = np.asarray(factors, dtype=np.float64)
    projected = np.asarray(rows @ factors64)
    rows_squared = squared(rows)
    pairwise = 0.5 * (
        np.square(projected).sum(axis=1)
        - np.asarray(rows_squared @ np.square(factors64).sum(axis=1)).ravel()
    )
    linear_part = np.asarray(rows @ np.asarray(linear, dtype=np.float64)).ravel()
    return bias + linear_part + pairwise, Interactions(projected, rows_squared)


def backward(
    rows: Rows, residual: np.ndarray, factors: np.ndarray, cache: Interactions
) -> tuple[float, np.ndarray, np.ndarray]:
    """Gradients of ``sum_n loss_n`` for bias, linear and factors, given dloss/doutput.

    ``d y / d v_if = x_i * (sum_j v_jf x_j) - v_if * x_i^2``.
    """
    transposed = rows.T
    grad_bias = float(residual.sum())
    grad_linear = np.asarray(transposed @ residual).ravel()
    weighted = np.asarray(cache.rows_squared.T @ residual).ravel()
    grad_factors = np.asarray(transposed @ (cache.projected * residual[:, None]))
    grad_factors -= np.asarray(factors, dtype=np.float64) * weighted[:, None]
    return grad_bias, grad_linear, grad_factors


@dataclass
class FactorizationMachine:
    """A trained (or initialised) model: w0, w (features,) and V (features, factors)."""

    bias: float
    linear: np.ndarray
    factors: np.ndarray
    predictor_type: str

    @property
    def num_features(self) -> int:
        return int(self.linear.shape[0])

    @property
    def num_factors(self) -> int:
        return int(self.factors.shape[1])

    def raw(self, rows: Rows) -> np.ndarray:
        """The model output before the link function (the logit for classifiers)."""
        return forward(rows, self.bias, self.linear, self.factors)[0]

    def predict(self, rows: Rows) -> dict[str, np.ndarray]:
        """SageMaker's outputs: ``score`` (and ``predicted_label`` for classifiers)."""
        raw = self.raw(rows)
        if self.predictor_type == REGRESSOR:
            return {"score": raw}
        score = sigmoid(raw)
        return {"score": score, "predicted_label": (score >= THRESHOLD).astype(np.int64)}

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "bias": np.asarray([self.bias], dtype=np.float64),
            "linear": np.asarray(self.linear, dtype=np.float32),
            "factors": np.asarray(self.factors, dtype=np.float32),
        }

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], predictor_type: str
    ) -> FactorizationMachine:
        """Rebuild a saved model; raises ``ValueError`` for missing or inconsistent arrays."""
        missing = [name for name in ("bias", "linear", "factors") if name not in arrays]
        if missing:
            raise ValueError(f"the model is missing the arrays {', '.join(missing)}")
        bias = np.asarray(arrays["bias"], dtype=np.float64).ravel()
        linear = np.asarray(arrays["linear"], dtype=np.float32)
        factors = np.asarray(arrays["factors"], dtype=np.float32)
        if bias.size != 1 or linear.ndim != 1 or factors.ndim != 2:
            raise ValueError("bias must be one number, linear a vector and factors a matrix")
        if factors.shape[0] != linear.shape[0]:
            raise ValueError(
                f"linear has {linear.shape[0]} weights but factors {factors.shape[0]} rows"
            )
        if predictor_type not in (BINARY, REGRESSOR):
            raise ValueError(f"unknown predictor_type '{predictor_type}'")
        return cls(float(bias[0]), linear, factors, predictor_type)
