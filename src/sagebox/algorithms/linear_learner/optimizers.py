"""The optimizers Linear Learner offers (``sgd``, ``adam``, ``rmsprop``), for many models at once.

Parameters are a matrix whose columns belong to different models; every column has
its own learning rate and L1 strength (``[columns]`` vectors), so one update moves
all models. L2 regularisation (``wd``) is part of the gradient given; L1 is applied
as a proximal step after the update (soft-thresholding by the step actually taken),
which sets weights exactly to zero as the L1 penalty intends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

EPSILON = 1e-8
RMSPROP_DECAY = 0.9


def soft_threshold(values: np.ndarray, amount: np.ndarray) -> None:
    """Shrink ``values`` towards zero by ``amount`` in place, stopping at zero."""
    np.copysign(np.maximum(np.abs(values) - amount, 0.0), values, out=values)


class Optimizer(ABC):
    """Updates one parameter matrix in place from its gradient."""

    def __init__(self, shape: tuple[int, ...], dtype: type = np.float64) -> None:
        self.shape = shape
        self.dtype = dtype
        self.steps = 0

    @abstractmethod
    def _direction(self, gradient: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(update direction, per-entry step scale or None for a plain step)."""

    def step(
        self,
        parameters: np.ndarray,
        gradient: np.ndarray,
        learning_rate: np.ndarray,
        l1: np.ndarray | None = None,
    ) -> None:
        """One update of ``parameters`` (``[..., columns]``) with per-column rates."""
        self.steps += 1
        direction, scale = self._direction(gradient)
        step_size = learning_rate if scale is None else np.multiply(scale, learning_rate, out=scale)
        parameters -= step_size * direction
        if l1 is not None:
            _shrink(parameters, step_size, l1)


def _shrink(parameters: np.ndarray, step_size: np.ndarray, l1: np.ndarray) -> None:
    """L1's proximal step; when only trailing columns carry a penalty, only they are touched."""
    penalised = np.flatnonzero(l1 > 0)
    if len(penalised) == 0:
        return
    first = int(penalised[0]) if np.all(l1[penalised[0] :] > 0) else 0
    steps = np.broadcast_to(step_size, parameters.shape)[..., first:]
    soft_threshold(parameters[..., first:], steps * l1[first:])


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum."""

    def __init__(self, shape: tuple[int, ...], momentum: float, dtype: type = np.float64) -> None:
        super().__init__(shape, dtype)
        self.momentum = momentum
        self.velocity = np.zeros(shape, dtype=dtype)

    def _direction(self, gradient: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.momentum == 0:
            return gradient, None
        self.velocity *= self.momentum
        self.velocity += gradient
        return self.velocity, None


class Adam(Optimizer):
    """Adam (Kingma & Ba), its bias corrections folded into the step size."""

    def __init__(
        self, shape: tuple[int, ...], beta_1: float, beta_2: float, dtype: type = np.float64
    ) -> None:
        super().__init__(shape, dtype)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.first = np.zeros(shape, dtype=dtype)
        self.second = np.zeros(shape, dtype=dtype)

    def _direction(self, gradient: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        self.first *= self.beta_1
        self.first += (1.0 - self.beta_1) * gradient
        self.second *= self.beta_2
        self.second += (1.0 - self.beta_2) * gradient**2
        correction = np.sqrt(1.0 - self.beta_2**self.steps) / (1.0 - self.beta_1**self.steps)
        scale = np.sqrt(self.second)
        scale += EPSILON
        np.reciprocal(scale, out=scale)
        scale *= self.dtype(correction)
        return self.first, scale


class RMSProp(Optimizer):
    """RMSProp: steps scaled by a running root mean square of the gradient."""

    def __init__(
        self, shape: tuple[int, ...], decay: float = RMSPROP_DECAY, dtype: type = np.float64
    ) -> None:
        super().__init__(shape, dtype)
        self.decay = decay
        self.second = np.zeros(shape, dtype=dtype)

    def _direction(self, gradient: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        self.second *= self.decay
        self.second += (1.0 - self.decay) * gradient**2
        scale = np.sqrt(self.second)
        scale += EPSILON
        return gradient, np.reciprocal(scale, out=scale)


def make_optimizer(
    name: str,
    shape: tuple[int, ...],
    *,
    momentum: float,
    beta_1: float,
    beta_2: float,
    dtype: type = np.float64,
) -> Optimizer:
    """The optimizer ``name`` (``sgd``, ``adam`` or ``rmsprop``) for parameters of ``shape``."""
    if name == "sgd":
        return SGD(shape, momentum, dtype)
    if name == "adam":
        return Adam(shape, beta_1, beta_2, dtype)
    if name == "rmsprop":
        return RMSProp(shape, dtype=dtype)
    raise ValueError(f"unknown optimizer '{name}'")
