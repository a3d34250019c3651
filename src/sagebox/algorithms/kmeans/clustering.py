"""Distances, seeding and Lloyd's method for weighted k-means, in plain numpy.

Everything works on float64 copies of the rows; rows may be a dense matrix or CSR.
Weighted points are what SageMaker's final stage clusters: the ``K`` working
centres of the mini-batch stage, each weighted by how many rows it absorbed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

Rows = np.ndarray | sp.csr_matrix

_DISTANCE_CELLS = 1 << 22
"""Rows x centres computed at once when finding the closest centre (32 MiB of float64)."""


def as_float_rows(rows: Rows) -> Rows:
    """``rows`` as float64 (CSR stays CSR)."""
    if sp.issparse(rows):
        return sp.csr_matrix(rows, dtype=np.float64)
    return np.asarray(rows, dtype=np.float64)


def squared_norms(rows: Rows) -> np.ndarray:
    """Each row's squared Euclidean norm."""
    if sp.issparse(rows):
        return np.asarray(rows.multiply(rows).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", rows, rows)


def squared_distances(
    rows: Rows,
    centers: np.ndarray,
    center_norms: np.ndarray | None = None,
    row_norms: np.ndarray | None = None,
) -> np.ndarray:
    """``(rows, centres)`` squared Euclidean distances, never negative.

    ``center_norms`` and ``row_norms`` (squared) are computed when not given.
    """
    if center_norms is None:
        center_norms = squared_norms(centers)
    if row_norms is None:
        row_norms = squared_norms(rows)
    distances = np.asarray(rows @ centers.T) * -2.0
    distances += row_norms[:, None]
    distances += center_norms[None, :]
    np.maximum(distances, 0.0, out=distances)
    return distances


def closest(
    rows: Rows, centers: np.ndarray, row_norms: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the closest centre, squared distance to it) for every row.

    ``row_norms``: the rows' squared norms, when already known.
    """
    count = rows.shape[0]
    labels = np.empty(count, dtype=np.int64)
    nearest = np.empty(count, dtype=np.float64)
    center_norms = squared_norms(centers)
    if row_norms is None:
        row_norms = squared_norms(rows)
    step = max(1, _DISTANCE_CELLS // max(1, centers.shape[0]))
    for start in range(0, count, step):
        stop = start + step
        distances = squared_distances(
            rows[start:stop], centers, center_norms, row_norms[start:stop]
        )
        best = np.argmin(distances, axis=1)
        labels[start:stop] = best
        nearest[start:stop] = distances[np.arange(len(best)), best]
    return labels, nearest


def cluster_sums(rows: Rows, labels: np.ndarray, count: int) -> np.ndarray:
    """The sum of the rows assigned to each of ``count`` clusters, ``(count, dim)``."""
    if sp.issparse(rows):
        membership = sp.csr_matrix(
            (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(count, len(labels))
        )
        return np.asarray((membership @ rows).toarray())
    sums = np.zeros((count, rows.shape[1]), dtype=np.float64)
    if len(labels) == 0:
        return sums
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sums[ordered[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return sums


def _normalised(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("the points' weights must be finite and sum to a positive number")
    return weights / total


def _dense_rows(points: Rows, index: np.ndarray) -> np.ndarray:
    picked = points[index]
    return picked.toarray() if sp.issparse(picked) else np.array(picked, dtype=np.float64)


def seed_random(
    points: Rows, count: int, rng: np.random.Generator, weights: np.ndarray | None = None
) -> np.ndarray:
    """``count`` distinct points drawn at random (in proportion to their weights)."""
    size = points.shape[0]
    weights = np.ones(size) if weights is None else np.asarray(weights, dtype=np.float64)
    if np.count_nonzero(weights) < count:
        raise ValueError(f"cannot draw {count} centres from {np.count_nonzero(weights)} points")
    chosen = rng.choice(size, size=count, replace=False, p=_normalised(weights))
    return _dense_rows(as_float_rows(points), chosen)


def seed_kmeans_plus_plus(
    points: Rows,
    count: int,
    rng: np.random.Generator,
    weights: np.ndarray | None = None,
    local_trials: int | None = None,
) -> np.ndarray:
    """k-means++ seeding: each new centre drawn in proportion to weight x squared distance.

    Each step draws ``local_trials`` candidates (default ``2 + log(count)``) and keeps
    the one that lowers the total weighted squared distance most (greedy k-means++).
    """
    points = as_float_rows(points)
    size = points.shape[0]
    weights = np.ones(size) if weights is None else np.asarray(weights, dtype=np.float64)
    if np.count_nonzero(weights) < count:
        raise ValueError(f"cannot draw {count} centres from {np.count_nonzero(weights)} points")
    trials = local_trials if local_trials is not None else 2 + int(math.log(count))
    norms = squared_norms(points)
    centers = np.empty((count, points.shape[1]), dtype=np.float64)
    first = rng.choice(size, p=_normalised(weights))
    centers[0] = _dense_rows(points, np.array([first]))[0]
    nearest = squared_distances(points, centers[:1], norms[[first]], norms)[:, 0]
    for index in range(1, count):
        potential = weights * nearest
        total = potential.sum()
        if total <= 0:  # every weighted point already is a centre: take unused ones
            unused = np.flatnonzero((weights > 0) & (nearest <= 0))
            candidates = rng.choice(unused, size=1)
        else:
            cumulative = np.cumsum(potential)
            draws = rng.random(trials) * cumulative[-1]
            candidates = np.minimum(np.searchsorted(cumulative, draws), size - 1)
        candidate_rows = _dense_rows(points, candidates)
        distances = _few_distances(points, candidate_rows, norms[candidates], norms)
        np.minimum(distances, nearest[:, None], out=distances)
        best = int(np.argmin(weights @ distances))
        centers[index] = candidate_rows[best]
        nearest = distances[:, best]
    return centers


def _few_distances(
    rows: Rows, candidates: np.ndarray, candidate_norms: np.ndarray, row_norms: np.ndarray
) -> np.ndarray:
    """Squared distances to a handful of candidates, one matrix-vector product each
    (cheaper than a thin matrix product, which a threaded BLAS handles poorly)."""
    products = np.column_stack([np.asarray(rows @ candidate).ravel() for candidate in candidates])
    distances = row_norms[:, None] - 2.0 * products + candidate_norms[None, :]
    np.maximum(distances, 0.0, out=distances)
    return distances


@dataclass(frozen=True)
class LloydResult:
    """Centres found by Lloyd's method and their weighted sum of squared distances."""

    centers: np.ndarray
    ssd: float
    iterations: int


def lloyd(
    points: np.ndarray,
    weights: np.ndarray,
    centers: np.ndarray,
    *,
    max_iter: int,
    tol: float,
) -> LloydResult:
    """Weighted Lloyd iterations from ``centers``.

    Stops after ``max_iter`` iterations, or once an iteration lowers the weighted sum
    of squared distances by at most ``tol`` times its previous value. A centre left
    without weight moves to the point that is currently worst served.
    """
    points = np.asarray(points, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    weighted = points * weights[:, None]
    norms = squared_norms(points)
    centers = np.array(centers, dtype=np.float64)
    count = len(centers)
    labels, nearest = closest(points, centers, norms)
    loss = float(weights @ nearest)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        mass = np.bincount(labels, weights=weights, minlength=count)
        sums = cluster_sums(weighted, labels, count)
        filled = mass > 0
        centers[filled] = sums[filled] / mass[filled, None]
        for empty in np.flatnonzero(~filled):
            worst = int(np.argmax(weights * nearest))
            centers[empty] = points[worst]
            nearest[worst] = 0.0
        labels, nearest = closest(points, centers, norms)
        previous, loss = loss, float(weights @ nearest)
        if previous - loss <= tol * previous:
            break
    return LloydResult(centers, loss, iterations)
