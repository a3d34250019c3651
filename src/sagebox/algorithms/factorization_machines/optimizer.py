"""Adam for one parameter group, updating only the rows a mini-batch touches.

Per step, as MXNet's Adam (which SageMaker's built-in algorithms train with):
``g = rescale_grad * grad + wd * weight``, clipped to ``[-clip_gradient,
clip_gradient]`` when set; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
``weight -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.

Sparse rows only touch the features they contain, so (as MXNet's lazy updates for
sparse gradients) a step changes only those rows' weights and moments; ``t``
counts the optimiser's steps.
"""

from __future__ import annotations

import numpy as np

BETA1 = 0.9
BETA2 = 0.999
DEFAULT_EPS = 1e-8


class LazyAdam:
    """Adam moments for a parameter array (bias: shape (1,), linear, factors)."""

    def __init__(
        self,
        shape: tuple[int, ...],
        lr: float,
        wd: float,
        *,
        eps: float | None = None,
        clip_gradient: float | None = None,
    ) -> None:
        self.lr = lr
        self.wd = wd
        self.eps = DEFAULT_EPS if eps is None else eps
        self.clip_gradient = clip_gradient
        self.mean = np.zeros(shape, dtype=np.float32)
        self.variance = np.zeros(shape, dtype=np.float32)

    def step(
        self,
        weights: np.ndarray,
        rows: np.ndarray | slice,
        gradient: np.ndarray,
        rescale: float,
        t: int,
    ) -> None:
        """Update ``weights[rows]`` in place with the summed mini-batch ``gradient``."""
        current = weights[rows].astype(np.float64)
        g = rescale * np.asarray(gradient, dtype=np.float64) + self.wd * current
        if self.clip_gradient is not None:
            np.clip(g, -self.clip_gradient, self.clip_gradient, out=g)
        mean = BETA1 * self.mean[rows] + (1.0 - BETA1) * g
        variance = BETA2 * self.variance[rows] + (1.0 - BETA2) * g * g
        self.mean[rows] = mean
        self.variance[rows] = variance
        rate = self.lr * np.sqrt(1.0 - BETA2**t) / (1.0 - BETA1**t)
        weights[rows] = current - rate * mean / (np.sqrt(variance) + self.eps)
