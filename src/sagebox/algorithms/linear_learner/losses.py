"""Linear Learner's loss functions, evaluated for many models at once.

Scores have one column per model (``[rows, models]``), or one per class and model
for ``softmax_loss`` (``[rows, classes, models]``). Each function returns the
per-row loss (``[rows, models]``) and its derivative with respect to the scores
(the scores' shape). Binary labels are 0/1, multiclass labels 0..C-1.

- ``logistic``: ``log(1 + exp(-y s))`` with ``y`` in {-1, +1}
- ``hinge_loss``: ``max(0, margin - y s)``
- ``softmax_loss``: ``-log softmax(s)[label]``
- ``squared_loss``: ``(s - y)^2``; ``absolute_loss``: ``|s - y|``
- ``eps_insensitive_squared_loss`` / ``_absolute_loss``: errors within
  ``loss_insensitivity`` cost nothing, beyond it ``(|r| - eps)^2`` / ``|r| - eps``
- ``quantile_loss``: ``q (y - s)`` above the prediction, ``(1 - q)(s - y)`` below
- ``huber_loss``: ``r^2 / 2`` within ``huber_delta``, ``delta (|r| - delta / 2)`` beyond
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, softmax


@dataclass(frozen=True)
class LossParameters:
    """The constants of the losses, in the units of the scores they are applied to."""

    margin: float = 1.0
    loss_insensitivity: float = 0.01
    quantile: float = 0.5
    huber_delta: float = 1.0

    def scaled(self, label_scale: float) -> LossParameters:
        """The same losses for labels divided by ``label_scale`` (label normalisation)."""
        return LossParameters(
            margin=self.margin,
            loss_insensitivity=self.loss_insensitivity / label_scale,
            quantile=self.quantile,
            huber_delta=self.huber_delta / label_scale,
        )


SATURATION = 80.0
"""Below ``z = -80`` the logistic loss and its derivative are 0 in single precision."""


def _logistic(flipped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + exp(z))`` and its derivative ``sigmoid(z)`` for ``z = flipped``, which is
    overwritten.

    With ``t = 1 + exp(-z)``: ``loss = z + log(t)`` and ``sigmoid(z) = 1 / t``; ``z`` is
    first raised to -80, where both are already 0, so ``exp(-z)`` never overflows.
    """
    np.clip(flipped, -SATURATION, None, out=flipped)
    total = np.negative(flipped)
    np.exp(total, out=total)
    total += 1.0
    loss = np.log(total)
    loss += flipped
    return loss, np.reciprocal(total, out=total)


def _binary(
    name: str, scores: np.ndarray, labels: np.ndarray, params: LossParameters
) -> tuple[np.ndarray, np.ndarray]:
    negative_sign = (1.0 - 2.0 * labels).astype(scores.dtype)[:, None]
    if name == "logistic":
        loss, gradient = _logistic(scores * negative_sign)
        gradient *= negative_sign
        return loss, gradient
    slack = scores * negative_sign
    slack += params.margin
    gradient = np.where(slack > 0, negative_sign, 0.0).astype(scores.dtype, copy=False)
    return np.maximum(slack, 0.0, out=slack), gradient


def _multiclass(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(labels))
    classes = labels.astype(np.intp)
    shifted = scores - scores.max(axis=1, keepdims=True)
    loss = -shifted[rows, classes, :]
    gradient = np.exp(shifted, out=shifted)
    total = gradient.sum(axis=1, keepdims=True)
    gradient /= total
    loss += np.log(total[:, 0, :])
    gradient[rows, classes, :] -= 1.0
    return loss, gradient


def _regression(
    name: str, scores: np.ndarray, labels: np.ndarray, params: LossParameters
) -> tuple[np.ndarray, np.ndarray]:
    residual = scores - labels.astype(scores.dtype, copy=False)[:, None]
    dtype = residual.dtype
    if name == "squared_loss":
        return residual**2, 2.0 * residual
    if name == "absolute_loss":
        return np.abs(residual), np.sign(residual)
    if name in ("eps_insensitive_squared_loss", "eps_insensitive_absolute_loss"):
        excess = np.maximum(np.abs(residual) - dtype.type(params.loss_insensitivity), 0.0)
        if name == "eps_insensitive_squared_loss":
            return excess**2, 2.0 * excess * np.sign(residual)
        return excess, np.where(excess > 0, np.sign(residual), dtype.type(0))
    if name == "quantile_loss":
        q = dtype.type(params.quantile)
        above = residual < 0
        loss = np.where(above, -q * residual, (1 - q) * residual)
        return loss, np.where(above, -q, 1 - q)
    if name == "huber_loss":
        delta = dtype.type(params.huber_delta)
        size = np.abs(residual)
        loss = np.where(size <= delta, 0.5 * residual**2, delta * (size - 0.5 * delta))
        return loss.astype(dtype, copy=False), np.clip(residual, -delta, delta)
    raise ValueError(f"unknown regression loss '{name}'")


def loss_and_gradient(
    name: str, scores: np.ndarray, labels: np.ndarray, params: LossParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row losses ``[rows, models]`` and d(loss)/d(scores) for the loss ``name``."""
    if name in ("logistic", "hinge_loss"):
        return _binary(name, scores, labels, params)
    if name == "softmax_loss":
        return _multiclass(scores, labels)
    return _regression(name, scores, labels, params)


def loss_values(
    name: str, scores: np.ndarray, labels: np.ndarray, params: LossParameters
) -> np.ndarray:
    """Per-row losses only (``[rows, models]``)."""
    return loss_and_gradient(name, scores, labels, params)[0]


def link(name: str, scores: np.ndarray) -> np.ndarray:
    """What a model answers as ``score``: a probability for ``logistic`` and ``softmax_loss``,
    the raw score otherwise (``hinge_loss`` and the regression losses)."""
    if name == "logistic":
        return expit(scores)
    if name == "softmax_loss":
        return softmax(scores, axis=-1)
    return scores
