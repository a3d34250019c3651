"""Training a factorization machine with mini-batch lazy Adam, epoch by epoch.

Each epoch visits the rows in a fresh random order (seeded: the same data and
settings give the same model). A mini-batch is restricted to the features it
contains, so a step costs O(k · non-zeros of the batch) whatever ``feature_dim``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.factorization_machines.metrics import QualityAccumulator
from sagebox.algorithms.factorization_machines.model import (
    BINARY,
    FactorizationMachine,
    backward,
    forward,
    sigmoid,
)
from sagebox.algorithms.factorization_machines.optimizer import LazyAdam


@dataclass(frozen=True)
class GroupSettings:
    """Initialisation and optimisation of one parameter group (bias, linear or factors)."""

    init_method: str = "normal"
    init_sigma: float = 0.01
    init_scale: float | None = None
    init_value: float | None = None
    lr: float = 0.001
    wd: float = 0.0

    def initial(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Initial values: normal(0, sigma), uniform(-scale, scale) or a constant."""
        if self.init_method == "normal":
            return rng.normal(0.0, self.init_sigma, size=shape)
        if self.init_method == "uniform":
            if self.init_scale is None:
                raise ValueError("uniform initialisation needs init_scale")
            return rng.uniform(-self.init_scale, self.init_scale, size=shape)
        if self.init_method == "constant":
            if self.init_value is None:
                raise ValueError("constant initialisation needs init_value")
            return np.full(shape, self.init_value, dtype=np.float64)
        raise ValueError(f"unknown init_method '{self.init_method}'")


@dataclass(frozen=True)
class FitSettings:
    """Everything that decides training, in SageMaker's terms."""

    predictor_type: str
    num_factors: int
    epochs: int = 1
    mini_batch_size: int = 1000
    clip_gradient: float | None = None
    eps: float | None = None
    rescale_grad: float | None = None
    bias: GroupSettings = GroupSettings(init_sigma=0.01, lr=0.1, wd=0.01)
    linear: GroupSettings = GroupSettings(init_sigma=0.01, lr=0.001, wd=0.001)
    factors: GroupSettings = GroupSettings(init_sigma=0.001, lr=0.0001, wd=0.00001)


EpochCallback = Callable[[int, dict[str, float]], None]
"""Called after each epoch with its index (from 0) and the epoch's training metrics."""


def initialize(
    num_features: int, settings: FitSettings, rng: np.random.Generator
) -> FactorizationMachine:
    """A model with every group drawn from its initialisation."""
    bias = float(settings.bias.initial((1,), rng)[0])
    linear = settings.linear.initial((num_features,), rng).astype(np.float32)
    factors = settings.factors.initial((num_features, settings.num_factors), rng)
    return FactorizationMachine(bias, linear, factors.astype(np.float32), settings.predictor_type)


def _batch(rows: sp.csr_matrix, index: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """The batch's rows over only the columns they use, and those columns' ids."""
    part = rows[index]
    columns, local = np.unique(part.indices, return_inverse=True)
    compact = sp.csr_matrix(
        (part.data, local.astype(part.indices.dtype), part.indptr),
        shape=(part.shape[0], len(columns)),
    )
    return compact, columns


def fit(
    rows: sp.csr_matrix,
    labels: np.ndarray,
    settings: FitSettings,
    rng: np.random.Generator,
    on_epoch: EpochCallback | None = None,
    model: FactorizationMachine | None = None,
) -> FactorizationMachine:
    """Train on CSR ``rows`` (n, features) and ``labels`` (0/1 for classifiers)."""
    rows = sp.csr_matrix(rows, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.float64)
    if rows.shape[0] != len(labels):
        raise ValueError(f"{rows.shape[0]} rows but {len(labels)} labels")
    if model is None:
        model = initialize(rows.shape[1], settings, rng)
    bias = np.asarray([model.bias], dtype=np.float64)
    linear = np.asarray(model.linear, dtype=np.float32).copy()
    factors = np.asarray(model.factors, dtype=np.float32).copy()
    options = {"eps": settings.eps, "clip_gradient": settings.clip_gradient}
    bias_opt = LazyAdam(bias.shape, settings.bias.lr, settings.bias.wd, **options)
    linear_opt = LazyAdam(linear.shape, settings.linear.lr, settings.linear.wd, **options)
    factors_opt = LazyAdam(factors.shape, settings.factors.lr, settings.factors.wd, **options)
    binary = settings.predictor_type == BINARY
    step = 0
    for epoch in range(settings.epochs):
        quality = QualityAccumulator(settings.predictor_type)
        order = rng.permutation(rows.shape[0])
        for start in range(0, len(order), settings.mini_batch_size):
            index = order[start : start + settings.mini_batch_size]
            batch, columns = _batch(rows, index)
            target = labels[index]
            local_factors = factors[columns]
            raw, cache = forward(batch, float(bias[0]), linear[columns], local_factors)
            scores = sigmoid(raw) if binary else raw
            quality.add(target, scores)
            residual = scores - target  # d loss / d raw, squared and logistic loss alike
            grad_bias, grad_linear, grad_factors = backward(batch, residual, local_factors, cache)
            rescale = (
                settings.rescale_grad if settings.rescale_grad is not None else 1.0 / len(index)
            )
            step += 1
            bias_opt.step(bias, slice(None), np.asarray([grad_bias]), rescale, step)
            linear_opt.step(linear, columns, grad_linear, rescale, step)
            factors_opt.step(factors, columns, grad_factors, rescale, step)
        if on_epoch is not None:
            on_epoch(epoch, quality.results())
    return FactorizationMachine(float(bias[0]), linear, factors, settings.predictor_type)
