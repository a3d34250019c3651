"""The settings of the ``num_models`` models Linear Learner trains side by side.

As SageMaker describes it, model 0 is trained with exactly the given settings and
the others with "close" ones: each gets its own learning rate, L2 (``wd``) and L1
strength, and, when ``positive_example_weight_mult`` is ``auto``, its own weight
for positive examples. A given value ``v`` is varied within ``[v / 10, v * 10]``
(log-uniformly; a given 0 stays 0). With ``wd`` auto, model 0 and every fourth
model have no L2 penalty and the others one in ``[1e-7, 1e-2]``; with ``l1`` auto,
the last quarter of the models get an L1 penalty in ``[1e-7, 1e-3]``. With
``positive_example_weight_mult`` auto the models cycle through 1, the balanced
weight and its square root. The grid depends only on the seed, so a run is
reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sagebox.algorithms.linear_learner.config import TrainingConfig
from sagebox.algorithms.linear_learner.hyperparameters import BALANCED

SPREAD_DECADES = 1.0
AUTO_WD_RANGE = (-7.0, -2.0)
AUTO_L1_RANGE = (-7.0, -3.0)
AUTO_WD_ZERO_EVERY = 4
"""With ``wd`` auto, models 0, 4, 8, ... train without an L2 penalty."""
AUTO_L1_SHARE = 4
"""With ``l1`` auto, the last quarter of the models get a small L1 penalty."""


@dataclass(frozen=True)
class ModelGrid:
    """Per-model settings, one entry per model."""

    learning_rate: np.ndarray
    wd: np.ndarray
    l1: np.ndarray
    positive_weight: np.ndarray

    @property
    def num_models(self) -> int:
        return len(self.learning_rate)


def balanced_weight(labels: np.ndarray) -> float:
    """The positive-example weight that gives both classes the same total weight."""
    positives = float(np.count_nonzero(labels == 1))
    negatives = float(len(labels) - positives)
    if positives == 0 or negatives == 0:
        return 1.0
    return negatives / positives


def _around(value: float, draws: np.ndarray) -> np.ndarray:
    """``value`` for model 0, log-uniform in [value / 10, value * 10] for the others."""
    values = value * 10.0 ** (SPREAD_DECADES * (2.0 * draws - 1.0))
    values[0] = value
    return values


def _auto_range(draws: np.ndarray, low: float, high: float) -> np.ndarray:
    values = 10.0 ** (low + (high - low) * draws)
    values[0] = 0.0
    return values


def model_grid(config: TrainingConfig, labels: np.ndarray, rng: np.random.Generator) -> ModelGrid:
    """The settings of each of ``config.num_models`` models."""
    count = config.num_models
    draws = rng.random((3, count))
    learning_rate = _around(config.learning_rate, draws[0])
    if config.wd is None:
        wd = _auto_range(draws[1], *AUTO_WD_RANGE)
        wd[::AUTO_WD_ZERO_EVERY] = 0.0
    else:
        wd = _around(config.wd, draws[1])
    if config.l1 is None:
        l1 = np.zeros(count)
        start = count - count // AUTO_L1_SHARE
        l1[start:] = _auto_range(draws[2], *AUTO_L1_RANGE)[start:]
    else:
        l1 = _around(config.l1, draws[2])
    positive = np.ones(count)
    if config.is_binary:
        balanced = balanced_weight(labels)
        mult = config.positive_example_weight_mult
        if mult is None:
            choices = np.array([1.0, balanced, np.sqrt(balanced)])
            positive = choices[np.arange(count) % len(choices)]
        elif mult == BALANCED:
            positive = np.full(count, balanced)
        else:
            positive = np.full(count, float(mult))
    return ModelGrid(learning_rate, wd, l1, positive)
