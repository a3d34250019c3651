"""Principal components of data streamed in mini-batches, in plain numpy/scipy.

Two modes, as in SageMaker's PCA:

- ``regular``: one pass accumulating the row count, the sum of the rows and the
  scatter matrix ``sum x^T x`` (d x d, float64), then an exact symmetric
  eigendecomposition of the covariance ``sum x^T x - (1/n) (sum x)^T (sum x)``.
  Rows are accumulated relative to the first mini-batch's mean, which leaves the
  result unchanged and keeps the subtraction from cancelling digits.
- ``randomized``: never forms a d x d matrix. A random d x l block (``l =
  num_components + extra_components``) is multiplied by the covariance one
  mini-batch at a time (``sum X_t^T (X_t Q)``); a few passes of this subspace
  iteration, each re-orthonormalising the block, converge on the top components,
  and the last pass gives their Rayleigh-Ritz values. Memory is O(d l).

The covariance's eigenvalues are the squared singular values of the (centred) data
matrix; the model keeps those singular values and the components (unit columns).
With ``subtract_mean`` false the data is not centred: the components are those of
``sum x^T x``.

Each component's sign is chosen so that its entry of largest magnitude is positive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import scipy.linalg

REGULAR = "regular"
RANDOMIZED = "randomized"
MODES = (REGULAR, RANDOMIZED)

RANDOMIZED_PASSES = 5
"""Passes over the data in randomized mode: four power iterations, then Rayleigh-Ritz."""


class NoRows(ValueError):
    """The data has no rows to compute components from."""


@dataclass(frozen=True)
class PCAModel:
    """The top components, largest first.

    ``components`` is ``(feature_dim, num_components)``, one unit column per
    component; ``singular_values`` the matching singular values of the (centred)
    data; ``mean`` the rows' mean, or None when the mean is not subtracted.
    """

    components: np.ndarray
    singular_values: np.ndarray
    mean: np.ndarray | None
    rows: int

    @property
    def explained_variance(self) -> np.ndarray:
        """Variance along each component (``s^2 / (n - 1)``, as scikit-learn reports it)."""
        return self.singular_values**2 / max(self.rows - 1, 1)

    def project(self, rows: np.ndarray) -> np.ndarray:
        """Each row's coordinates on the components (after subtracting the mean, if kept)."""
        rows = np.asarray(rows, dtype=np.float64)
        if self.mean is not None:
            rows = rows - self.mean
        return rows @ self.components


def orient(components: np.ndarray) -> np.ndarray:
    """Flip columns so that each one's entry of largest magnitude is positive."""
    largest = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[largest, np.arange(components.shape[1])])
    signs[signs == 0] = 1.0
    return components * signs


def _top(values: np.ndarray, vectors: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` largest eigenpairs, largest first, eigenvalues clipped at zero."""
    order = np.argsort(values)[::-1][:count]
    return np.maximum(values[order], 0.0), vectors[:, order]


class _Centring:
    """Row count and mean, with rows taken relative to a shift (the first batch's mean)."""

    def __init__(self, dim: int, subtract_mean: bool) -> None:
        self.dim = dim
        self.subtract_mean = subtract_mean
        self.rows = 0
        self.shift: np.ndarray | None = None
        self.shifted_sum = np.zeros(dim)

    def shifted(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float64)
        if batch.ndim != 2 or batch.shape[1] != self.dim:
            raise ValueError(f"rows must have {self.dim} features, not shape {batch.shape}")
        if not self.subtract_mean:
            return batch
        if self.shift is None:
            self.shift = batch.mean(axis=0)
        return batch - self.shift

    def count(self, shifted: np.ndarray) -> None:
        self.rows += shifted.shape[0]
        if self.subtract_mean:
            self.shifted_sum += shifted.sum(axis=0)

    @property
    def offset(self) -> np.ndarray:
        """The mean minus the shift (zero without mean subtraction)."""
        return self.shifted_sum / self.rows if self.rows else np.zeros(self.dim)

    @property
    def mean(self) -> np.ndarray | None:
        if not self.subtract_mean or self.shift is None:
            return None
        return self.shift + self.offset


class ScatterAccumulator:
    """Regular mode: accumulates the scatter matrix batch by batch, then eigendecomposes it."""

    def __init__(self, dim: int, *, subtract_mean: bool = True) -> None:
        self._centring = _Centring(dim, subtract_mean)
        self.scatter = np.zeros((dim, dim))

    @property
    def rows(self) -> int:
        return self._centring.rows

    def update(self, batch: np.ndarray) -> None:
        shifted = self._centring.shifted(batch)
        self._centring.count(shifted)
        self.scatter += shifted.T @ shifted

    def covariance(self) -> np.ndarray:
        """``sum (x - mean)^T (x - mean)`` (or ``sum x^T x`` without mean subtraction)."""
        offset = self._centring.offset
        return self.scatter - self.rows * np.outer(offset, offset)

    def solve(self, num_components: int) -> PCAModel:
        if self.rows == 0:
            raise NoRows("the data has no rows")
        covariance = self.covariance()
        dim = covariance.shape[0]
        count = min(num_components, dim)
        values, vectors = scipy.linalg.eigh(
            covariance, subset_by_index=(dim - count, dim - 1), check_finite=False
        )
        values, vectors = _top(values, vectors, count)
        return PCAModel(orient(vectors), np.sqrt(values), self._centring.mean, self.rows)


class SubspaceIteration:
    """Randomized mode: one pass multiplies the covariance by the current d x l block.

    Call ``start_pass``, ``update`` with every mini-batch, then ``finish_pass``; the
    first pass also counts the rows and finds the mean.
    """

    def __init__(
        self, dim: int, sketch_size: int, rng: np.random.Generator, *, subtract_mean: bool = True
    ) -> None:
        self.dim = dim
        self.sketch_size = min(sketch_size, dim)
        self._centring = _Centring(dim, subtract_mean)
        self.basis = np.linalg.qr(rng.standard_normal((dim, self.sketch_size)))[0]
        self.passes = 0
        self._product = np.zeros_like(self.basis)
        self._mean: np.ndarray | None = None
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def rows(self) -> int:
        return self._centring.rows

    def start_pass(self) -> None:
        self._product = np.zeros_like(self.basis)

    def update(self, batch: np.ndarray) -> None:
        if self.passes == 0:
            rows = self._centring.shifted(batch)
            self._centring.count(rows)
        else:
            rows = np.asarray(batch, dtype=np.float64)
            if self._mean is not None:
                rows = rows - self._mean
        self._product += rows.T @ (rows @ self.basis)

    def finish_pass(self) -> np.ndarray:
        """The covariance times the block of this pass; the block moves on to its range."""
        if self.rows == 0:
            raise NoRows("the data has no rows")
        product = self._product
        if self.passes == 0:
            offset = self._centring.offset
            product = product - self.rows * np.outer(offset, offset @ self.basis)
            self._mean = self._centring.mean
        self.passes += 1
        self._last = (self.basis, product)
        self.basis = np.linalg.qr(product)[0]
        return product

    def solve(self, num_components: int) -> PCAModel:
        """Rayleigh-Ritz on the block of the last finished pass."""
        if self._last is None:
            raise ValueError("finish at least one pass before solving")
        basis, product = self._last
        projected = basis.T @ product
        values, vectors = np.linalg.eigh((projected + projected.T) / 2.0)
        values, vectors = _top(values, vectors, min(num_components, self.sketch_size))
        components = orient(basis @ vectors)
        return PCAModel(components, np.sqrt(values), self._mean, self.rows)


EpochBatches = Callable[[], Iterable[np.ndarray]]
"""Returns the training rows in mini-batches, once per call (one pass)."""


def sketch_size(num_components: int, extra_components: int) -> int:
    """``l = num_components + extra_components``; ``-1`` means ``max(10, num_components)``."""
    extra = max(10, num_components) if extra_components == -1 else extra_components
    return num_components + extra


def fit(
    batches: EpochBatches,
    *,
    feature_dim: int,
    num_components: int,
    algorithm_mode: str = REGULAR,
    subtract_mean: bool = True,
    extra_components: int = -1,
    seed: int = 0,
    passes: int = RANDOMIZED_PASSES,
    on_pass: Callable[[int, int], None] | None = None,
) -> PCAModel:
    """The top ``num_components`` components of the rows; deterministic for a seed.

    ``on_pass(done, total)`` is called after each pass over the data. Raises
    ``NoRows`` for data without rows.
    """
    if algorithm_mode == REGULAR:
        accumulator = ScatterAccumulator(feature_dim, subtract_mean=subtract_mean)
        for batch in batches():
            accumulator.update(batch)
        if on_pass is not None:
            on_pass(1, 1)
        return accumulator.solve(num_components)
    if algorithm_mode != RANDOMIZED:
        raise ValueError(f"algorithm_mode must be one of {MODES}")
    iteration = SubspaceIteration(
        feature_dim,
        sketch_size(num_components, extra_components),
        np.random.default_rng(seed),
        subtract_mean=subtract_mean,
    )
    for done in range(1, passes + 1):
        iteration.start_pass()
        for batch in batches():
            iteration.update(batch)
        iteration.finish_pass()
        if on_pass is not None:
            on_pass(done, passes)
    return iteration.solve(num_components)
