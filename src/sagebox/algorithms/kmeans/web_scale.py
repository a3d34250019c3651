"""SageMaker's web-scale k-means: mini-batch updates of K centres, then a reduction to k.

1. ``K = k * extra_center_factor`` working centres are seeded from the first
   mini-batch (at random, or by k-means++).
2. Each mini-batch assigns its rows to the closest working centre; a centre that
   received ``m`` new rows on top of the ``c`` it had moves to
   ``(1 - p) * centre + p * mean(new rows)`` with ``p = m / (c + m)`` (Sculley's
   web-scale mini-batch k-means). With ``half_life_time_size = h > 0`` the rows seen
   so far count for less as more arrive: their weight halves every ``h`` rows.
3. The K centres, weighted by the rows they absorbed, are clustered into the final
   ``k`` by Lloyd's method (``local_lloyd_*``), keeping the best of several trials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.kmeans.clustering import (
    Rows,
    as_float_rows,
    closest,
    cluster_sums,
    lloyd,
    seed_kmeans_plus_plus,
    seed_random,
)

RANDOM = "random"
KMEANS_PLUS_PLUS = "kmeans++"
INIT_METHODS = (RANDOM, KMEANS_PLUS_PLUS)


@dataclass(frozen=True)
class KMeansSettings:
    """What the algorithm needs, every ``auto`` already resolved."""

    k: int
    extra_center_factor: int = 1
    init_method: str = RANDOM
    epochs: int = 1
    half_life_time_size: int = 0
    local_lloyd_max_iter: int = 300
    local_lloyd_tol: float = 1e-4
    local_lloyd_num_trials: int = 1
    local_lloyd_init_method: str = KMEANS_PLUS_PLUS

    def __post_init__(self) -> None:
        for name in ("init_method", "local_lloyd_init_method"):
            if getattr(self, name) not in INIT_METHODS:
                raise ValueError(f"{name} must be one of {INIT_METHODS}")

    @property
    def num_centers(self) -> int:
        """K, the number of working centres of the mini-batch stage."""
        return self.k * self.extra_center_factor


def _seed(
    method: str, points: Rows, count: int, rng: np.random.Generator, weights: np.ndarray | None
) -> np.ndarray:
    if method == KMEANS_PLUS_PLUS:
        return seed_kmeans_plus_plus(points, count, rng, weights)
    return seed_random(points, count, rng, weights)


class MiniBatchKMeans:
    """The mini-batch stage: K working centres and the (decayed) row count of each."""

    def __init__(
        self,
        num_centers: int,
        *,
        init_method: str = RANDOM,
        half_life_time_size: int = 0,
        rng: np.random.Generator,
    ) -> None:
        if num_centers < 1:
            raise ValueError("num_centers must be positive")
        self.num_centers = num_centers
        self.init_method = init_method
        self.half_life_time_size = half_life_time_size
        self.rng = rng
        self.centers: np.ndarray | None = None
        self.counts: np.ndarray | None = None
        self.rows_seen = 0
        self._pending: list[Rows] = []
        self._loss, self._rows = 0.0, 0

    @property
    def rows_gathered(self) -> int:
        """Rows held back to seed the centres, not yet used for an update."""
        return sum(part.shape[0] for part in self._pending)

    def partial_fit(self, batch: Rows) -> None:
        """Update the centres with one mini-batch.

        Until there are at least K rows the batches are only gathered; the centres are
        seeded from the gathered rows, which then make the first update.
        """
        batch = as_float_rows(batch)
        if batch.shape[0] == 0:
            return
        if self.centers is None:
            self._pending.append(batch)
            if self.rows_gathered < self.num_centers:
                return
            batch = self._stack_pending()
            self._start(batch)
        self._update(batch)

    def finish_seeding(self) -> None:
        """Seed from the rows gathered so far when the data has fewer rows than K."""
        if self.centers is not None or not self._pending:
            return
        batch = self._stack_pending()
        self.num_centers = batch.shape[0]
        self._start(batch)
        self._update(batch)

    def take_loss(self) -> float:
        """Mean squared distance of the rows used since the last call to their closest
        working centre, measured before each update; resets the tally."""
        loss = self._loss / self._rows if self._rows else 0.0
        self._loss, self._rows = 0.0, 0
        return loss

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        """(centres, counts); only once the centres are seeded."""
        if self.centers is None or self.counts is None:
            raise RuntimeError("the working centres are not seeded yet")
        return self.centers, self.counts

    def _stack_pending(self) -> Rows:
        parts, self._pending = self._pending, []
        if len(parts) == 1:
            return parts[0]
        return sp.vstack(parts, format="csr") if sp.issparse(parts[0]) else np.vstack(parts)

    def _start(self, sample: Rows) -> None:
        self.centers = _seed(self.init_method, sample, self.num_centers, self.rng, None)
        self.counts = np.zeros(self.num_centers)

    def _update(self, batch: Rows) -> None:
        centers, counts = self.state()
        labels, nearest = closest(batch, centers)
        rows = batch.shape[0]
        if self.half_life_time_size > 0:
            counts *= 0.5 ** (rows / self.half_life_time_size)
        added = np.bincount(labels, minlength=self.num_centers).astype(np.float64)
        moved = added > 0
        sums = cluster_sums(batch, labels, self.num_centers)
        share = added[moved] / (counts[moved] + added[moved])
        means = sums[moved] / added[moved, None]
        centers[moved] += share[:, None] * (means - centers[moved])
        counts += added
        self.rows_seen += rows
        self._loss += float(nearest.sum())
        self._rows += rows


@dataclass(frozen=True)
class KMeansModel:
    """The final ``k`` centres, and the working centres they were reduced from."""

    centers: np.ndarray
    working_centers: np.ndarray
    working_weights: np.ndarray
    reduction_ssd: float
    rows_seen: int


def reduce_centers(
    points: np.ndarray, weights: np.ndarray, settings: KMeansSettings, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Cluster weighted working centres into ``settings.k`` (best of the Lloyd trials)."""
    k = settings.k
    used = weights > 0
    if np.count_nonzero(used) <= k:
        chosen = np.concatenate([np.flatnonzero(used), np.flatnonzero(~used)])[:k]
        return np.array(points[chosen], dtype=np.float64), 0.0
    points, weights = points[used], weights[used]
    best = (np.empty((0, points.shape[1])), np.inf)
    for _ in range(max(1, settings.local_lloyd_num_trials)):
        seeds = _seed(settings.local_lloyd_init_method, points, k, rng, weights)
        result = lloyd(
            points,
            weights,
            seeds,
            max_iter=settings.local_lloyd_max_iter,
            tol=settings.local_lloyd_tol,
        )
        if result.ssd < best[1] or len(best[0]) == 0:
            best = (result.centers, result.ssd)
    return best


class NotEnoughRows(ValueError):
    """The data has fewer rows than the ``k`` clusters asked for."""


EpochBatches = Callable[[], Iterable[Rows]]
"""Returns the training rows in mini-batches, once per call (one epoch)."""


def fit(
    batches: EpochBatches,
    settings: KMeansSettings,
    *,
    seed: int = 0,
    on_epoch: Callable[[int, float], None] | None = None,
) -> KMeansModel:
    """Train on ``settings.epochs`` passes over ``batches()``; deterministic for a seed.

    ``on_epoch(epoch, msd)`` is called after each pass with the mean squared distance
    of the pass's rows to their closest working centre (measured before each update).
    Raises ``NotEnoughRows`` when the data has fewer rows than ``k``.
    """
    rng = np.random.default_rng(seed)
    stage = MiniBatchKMeans(
        settings.num_centers,
        init_method=settings.init_method,
        half_life_time_size=settings.half_life_time_size,
        rng=rng,
    )
    for epoch in range(settings.epochs):
        for batch in batches():
            stage.partial_fit(batch)
        if epoch == 0:
            if stage.centers is None and stage.rows_gathered < settings.k:
                raise NotEnoughRows(
                    f"k={settings.k} clusters need at least {settings.k} rows; "
                    f"the data has {stage.rows_gathered}"
                )
            stage.finish_seeding()
        if on_epoch is not None:
            on_epoch(epoch, stage.take_loss())
    working, weights = stage.state()
    centers, ssd = reduce_centers(working, weights, settings, rng)
    return KMeansModel(centers, working.copy(), weights.copy(), ssd, stage.rows_seen)
