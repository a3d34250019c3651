"""Feature and label normalisation, learned from a sample of the training rows.

SageMaker's Linear Learner first reads ``num_point_for_scaler`` rows to learn each
feature's and the label's mean and standard deviation. Features are scaled to unit
standard deviation (``normalize_data``) and shifted to mean 0 (``unbias_data``;
by default only for dense data, where shifting does not destroy sparsity, and only
when the model has a bias). Regression labels are shifted and scaled likewise
(``unbias_label``, ``normalize_label``).

Dense rows are normalised once before training; sparse rows are only scaled, and a
shift is applied to the scores instead, so sparse data stays sparse. The model
trained on normalised rows is folded back into weights for the raw ones (``fold``),
so the saved model takes the rows as they come.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

Features = np.ndarray | sp.csr_matrix


@dataclass(frozen=True)
class Scaler:
    """``x' = (x - shift) / scale`` for features, ``y' = (y - label_shift) / label_scale``."""

    shift: np.ndarray
    scale: np.ndarray
    label_shift: float = 0.0
    label_scale: float = 1.0

    @classmethod
    def identity(cls, num_features: int) -> Scaler:
        return cls(np.zeros(num_features), np.ones(num_features))

    def labels(self, labels: np.ndarray) -> np.ndarray:
        return (labels - self.label_shift) / self.label_scale

    def apply(
        self, features: Features, dtype: np.dtype | type = np.float32
    ) -> tuple[Features, np.ndarray | None]:
        """Normalised features, plus the shift still to subtract (sparse data only) or None.

        Dense rows come back shifted and scaled, as a new array. Sparse rows are only
        scaled, so they stay sparse; a requested shift is returned in normalised
        units for the model to apply to its scores (``x' . w - shift . w``).
        """
        if sp.issparse(features):
            scaled = sp.csr_matrix(features @ sp.diags(1.0 / self.scale), dtype=dtype)
            residual = (self.shift / self.scale).astype(dtype)
            return scaled, (residual if np.any(residual) else None)
        shifted = np.subtract(features, self.shift.astype(dtype), dtype=dtype)
        shifted /= self.scale.astype(dtype)
        return shifted, None

    def fold(self, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights ``[features, ...]`` and bias ``[...]`` for raw features and labels."""
        raw_weights = weights / self.scale.reshape((-1,) + (1,) * (weights.ndim - 1))
        raw_bias = bias - np.tensordot(self.shift, raw_weights, axes=(0, 0))
        return raw_weights * self.label_scale, raw_bias * self.label_scale + self.label_shift


def _column_moments(features: Features) -> tuple[np.ndarray, np.ndarray]:
    if sp.issparse(features):
        mean = np.asarray(features.mean(axis=0)).ravel()
        square = np.asarray(features.multiply(features).mean(axis=0)).ravel()
    else:
        mean = features.mean(axis=0)
        square = np.mean(features * features, axis=0)
    return mean, np.sqrt(np.maximum(square - mean**2, 0.0))


def fit_scaler(
    features: Features,
    labels: np.ndarray,
    *,
    sample_size: int,
    normalize_data: bool,
    unbias_data: bool,
    normalize_label: bool,
    unbias_label: bool,
    rng: np.random.Generator,
) -> Scaler:
    """Learn the normalisation from ``sample_size`` rows drawn without replacement."""
    rows = features.shape[0]
    if sample_size < rows:
        chosen = np.sort(rng.choice(rows, size=sample_size, replace=False))
        features, labels = features[chosen], labels[chosen]
    mean, std = _column_moments(features)
    width = features.shape[1]
    shift = mean if unbias_data else np.zeros(width)
    scale = np.where(std > 0, std, 1.0) if normalize_data else np.ones(width)
    label_mean = float(np.mean(labels)) if len(labels) else 0.0
    label_std = float(np.std(labels)) if len(labels) else 1.0
    return Scaler(
        shift=np.asarray(shift, dtype=np.float64),
        scale=np.asarray(scale, dtype=np.float64),
        label_shift=label_mean if unbias_label else 0.0,
        label_scale=label_std if normalize_label and label_std > 0 else 1.0,
    )
