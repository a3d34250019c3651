"""Nearest-neighbor search over k-NN's sampled points with faiss (``index_type``).

Metrics (``index_metric``), and what ``Neighbors.distances`` holds, nearest first:

- ``L2``: squared Euclidean distance (ascending), as faiss reports it;
- ``INNER_PRODUCT``: the inner product (descending: larger is nearer);
- ``COSINE``: the cosine similarity (descending), an inner product of unit vectors.

``faiss.Flat`` is exact, and deterministic to the last bit: faiss finds candidates
in float32, their scores are recomputed exactly in float64, and each row's answer is
accepted only when float32 rounding cannot have hidden a nearer point (a proven
error bound); other rows are rescanned in float64. Equal scores are broken by point
order (the training-row order of the sample), lower first.

``faiss.IVFFlat`` and ``faiss.IVFPQ`` are approximate, as in SageMaker: they answer
with faiss's own ordering and scores. They search ``ceil(sqrt(nlist))`` of the
index's ``nlist`` lists (SageMaker does not document its ``nprobe``); a row that
finds fewer than ``k`` points is searched again across every list. Such an index is
trained once (seeded) and stored serialized, so every load answers the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

L2 = "L2"
INNER_PRODUCT = "INNER_PRODUCT"
COSINE = "COSINE"
METRICS = (L2, INNER_PRODUCT, COSINE)
FLAT = "faiss.Flat"
IVF_FLAT = "faiss.IVFFlat"
IVF_PQ = "faiss.IVFPQ"
INDEX_TYPES = (FLAT, IVF_FLAT, IVF_PQ)

MIN_EXTRA_CANDIDATES = 16
"""faiss.Flat fetches k + max(k, this) candidates per row before the exact re-ranking."""
PQ_BITS = 8
_FLOAT32_UNIT = 2.0**-24
_FLOAT64_UNIT = 2.0**-53
_SAFETY = 4.0
_CHUNK_ELEMENTS = 1 << 22


def _gamma(dim: int, unit: float) -> float:
    """The classic bound on the relative rounding error of a length-``dim`` dot product."""
    return dim * unit / (1.0 - dim * unit)


def _row_norms(rows: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", rows, rows))


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    norms = _row_norms(rows)
    return rows / np.where(norms > 0, norms, 1.0)[:, None]


@dataclass(frozen=True)
class Neighbors:
    """Each query row's neighbors, nearest first."""

    indices: np.ndarray
    """(rows, k) int64 positions in the index's points."""
    distances: np.ndarray
    """(rows, k) float64: squared L2 distance, or inner product / cosine similarity."""


def default_nlist(num_points: int) -> int:
    """``auto``: the square root of the number of points, at least 1."""
    return max(1, int(round(math.sqrt(num_points))))


def pq_bits(num_points: int) -> int:
    """8 bits per sub-quantizer, fewer when there are fewer than 256 points to train on."""
    return max(1, min(PQ_BITS, int(math.floor(math.log2(max(num_points, 2))))))


def default_nprobe(nlist: int) -> int:
    return max(1, math.ceil(math.sqrt(nlist)))


class NeighborIndex:
    """A faiss index over float32 points and the exact re-ranking of its answers."""

    def __init__(
        self,
        metric: str,
        index_type: str,
        index: faiss.Index,
        *,
        points: np.ndarray | None = None,
        center: np.ndarray | None = None,
        nprobe: int = 1,
    ) -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric '{metric}'; expected one of {', '.join(METRICS)}")
        if index_type not in INDEX_TYPES:
            raise ValueError(f"unknown index type '{index_type}'")
        if index_type == FLAT and points is None:
            raise ValueError("a faiss.Flat index needs its points for exact re-ranking")
        self.metric = metric
        self.index_type = index_type
        self.index = index
        self.dim = int(index.d)
        self.size = int(index.ntotal)
        self.center = center
        self.nprobe = nprobe
        self.points = None if points is None else np.ascontiguousarray(points, dtype=np.float32)
        if self.points is not None:
            norms = _chunked_norms(self.points)
            self._divisors = np.where(norms > 0, norms, 1.0)
            exact_norms = norms / self._divisors if metric == COSINE else norms
            self._exact_sq_norms = exact_norms**2
            self._exact_norm_max = float(exact_norms.max(initial=0.0))
            indexed = _chunked_norms(self.points, center) if metric == L2 else exact_norms
            self._indexed_norm_max = float(indexed.max(initial=0.0))

    # ----------------------------------------------------------------- building

    @classmethod
    def build(
        cls,
        points: np.ndarray,
        metric: str,
        index_type: str = FLAT,
        *,
        nlist: int | None = None,
        pq_m: int | None = None,
        seed: int = 0,
    ) -> NeighborIndex:
        """Index ``points`` (n, d); IVF indexes are trained on them (k-means, seeded)."""
        points = np.ascontiguousarray(points, dtype=np.float32)
        count, dim = points.shape
        if count < 1:
            raise ValueError("there are no points to index")
        center = points.mean(axis=0, dtype=np.float64) if metric == L2 else None
        vectors = np.empty_like(points)
        step = max(1, _CHUNK_ELEMENTS // dim)
        for start in range(0, count, step):
            block = points[start : start + step].astype(np.float64)
            vectors[start : start + step] = _index_vectors(block, metric, center)
        faiss_metric = faiss.METRIC_L2 if metric == L2 else faiss.METRIC_INNER_PRODUCT
        if index_type == FLAT:
            index = faiss.IndexFlat(dim, faiss_metric)
            index.add(vectors)
            return cls(metric, index_type, index, points=points, center=center)
        lists = min(nlist or default_nlist(count), count)
        if index_type == IVF_PQ and count < 2:
            raise ValueError(f"{IVF_PQ} needs at least 2 points to train its quantizer")
        if index_type == IVF_FLAT:
            index = faiss.index_factory(dim, f"IVF{lists},Flat", faiss_metric)
        elif index_type == IVF_PQ:
            if metric != L2:
                raise ValueError(f"{IVF_PQ} measures L2 distance only")
            m = pq_m or 1
            if dim % m:
                raise ValueError(f"the dimension {dim} is not a multiple of faiss_index_pq_m {m}")
            # "np": no polysemous training (a slow code reordering only Hamming search uses)
            index = faiss.index_factory(dim, f"IVF{lists},PQ{m}x{pq_bits(count)}np", faiss_metric)
            faiss.downcast_index(index).pq.cp.seed = seed
        else:
            raise ValueError(f"unknown index type '{index_type}'")
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.seed = seed
        index.train(vectors)
        index.add(vectors)
        return cls(metric, index_type, index, center=center, nprobe=default_nprobe(lists))

    def serialized(self) -> np.ndarray:
        """The faiss index as bytes (what an IVF model stores)."""
        return faiss.serialize_index(self.index)

    @classmethod
    def from_serialized(
        cls,
        data: np.ndarray,
        metric: str,
        index_type: str,
        *,
        center: np.ndarray | None = None,
        nprobe: int = 1,
    ) -> NeighborIndex:
        index = faiss.deserialize_index(np.ascontiguousarray(data, dtype=np.uint8))
        return cls(metric, index_type, index, center=center, nprobe=nprobe)

    @property
    def nlist(self) -> int | None:
        if self.index_type == FLAT:
            return None
        return int(faiss.extract_index_ivf(self.index).nlist)

    # ----------------------------------------------------------------- searching

    def search(self, queries: np.ndarray, k: int) -> Neighbors:
        """The ``k`` nearest points of each query row (float64 (m, d))."""
        queries = np.asarray(queries, dtype=np.float64)
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise ValueError(f"queries must have {self.dim} columns, not shape {queries.shape}")
        if not 1 <= k <= self.size:
            raise ValueError(f"k must be in [1, {self.size}], not {k}")
        if len(queries) == 0:
            return Neighbors(np.empty((0, k), np.int64), np.empty((0, k), np.float64))
        if self.index_type == FLAT:
            indices, costs = self._search_exact(queries, k)
            return Neighbors(indices, costs if self.metric == L2 else -costs)
        return self._search_ivf(queries, k)

    def _index_space(self, rows: np.ndarray) -> np.ndarray:
        return _index_vectors(rows, self.metric, self.center)

    def _search_ivf(self, queries: np.ndarray, k: int) -> Neighbors:
        vectors = np.ascontiguousarray(self._index_space(queries), dtype=np.float32)
        distances, indices = self.index.search(
            vectors, k, params=faiss.SearchParametersIVF(nprobe=self.nprobe)
        )
        short = np.nonzero((indices < 0).any(axis=1))[0]
        if len(short):
            every_list = faiss.SearchParametersIVF(nprobe=self.nlist or 1)
            distances[short], indices[short] = self.index.search(
                vectors[short], k, params=every_list
            )
        return Neighbors(indices.astype(np.int64), distances.astype(np.float64))

    def _search_exact(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """faiss candidates, exact float64 costs (lower is nearer), proven or rescanned rows."""
        candidates = min(self.size, k + max(k, MIN_EXTRA_CANDIDATES))
        indexed = self._index_space(queries)
        found, ids = self.index.search(np.ascontiguousarray(indexed, dtype=np.float32), candidates)
        ids = ids.astype(np.int64)
        approximate = found.astype(np.float64) if self.metric == L2 else -found.astype(np.float64)
        costs = self._exact_costs(self._exact_queries(queries), ids)
        order = np.lexsort((ids, costs), axis=1)[:, :k]
        best_ids = np.take_along_axis(ids, order, axis=1)
        best_costs = np.take_along_axis(costs, order, axis=1)
        if candidates < self.size:
            bound = self._float32_bound(indexed)
            unproven = ~(approximate.max(axis=1) - bound > best_costs[:, -1])
            rows = np.nonzero(unproven)[0]
            if len(rows):
                best_ids[rows], best_costs[rows] = self._scan(queries[rows], k)
        return best_ids, best_costs

    def _exact_queries(self, queries: np.ndarray) -> np.ndarray:
        return _unit_rows(queries) if self.metric == COSINE else queries

    def _exact_costs(self, queries: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Float64 costs of each query against its candidate points, chunk by chunk."""
        count, width = ids.shape
        costs = np.empty((count, width), dtype=np.float64)
        step = max(1, _CHUNK_ELEMENTS // max(1, width * self.dim))
        for start in range(0, count, step):
            block = self._exact_rows(ids[start : start + step])
            query = queries[start : start + step, None, :]
            if self.metric == L2:
                diff = block - query
                costs[start : start + step] = np.einsum("ijk,ijk->ij", diff, diff)
            else:
                costs[start : start + step] = -np.einsum("ijk,ijk->ij", block, query)
        return costs

    def _exact_rows(self, ids: np.ndarray) -> np.ndarray:
        """The points at ``ids`` (any shape) in float64, unit length for COSINE."""
        if self.points is None:
            raise ValueError("this index keeps no points")
        rows = self.points[ids].astype(np.float64)
        if self.metric == COSINE:
            rows /= self._divisors[ids][..., None]
        return rows

    def _float32_bound(self, indexed: np.ndarray) -> np.ndarray:
        """Per row: how far faiss's float32 costs can be from the exact ones."""
        gamma = _gamma(self.dim, _FLOAT32_UNIT)
        norms = _row_norms(indexed)
        if self.metric == L2:
            return _SAFETY * (gamma + 6 * _FLOAT32_UNIT) * (norms + self._indexed_norm_max) ** 2
        if self.metric == INNER_PRODUCT:
            return _SAFETY * (gamma + 4 * _FLOAT32_UNIT) * norms * self._indexed_norm_max
        return np.full(len(indexed), _SAFETY * (gamma + 6 * _FLOAT32_UNIT))

    def _scan(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact answers for rows faiss's candidates could not settle: every point is scored.

        Scores come from one float64 matrix product; every point within its error bound
        of the k-th score is then rescored exactly, so ties are never lost.
        """
        exact_queries = self._exact_queries(queries)
        out_ids = np.empty((len(queries), k), dtype=np.int64)
        out_costs = np.empty((len(queries), k), dtype=np.float64)
        gamma = _gamma(self.dim, _FLOAT64_UNIT) + 3 * _FLOAT64_UNIT
        step = max(1, _CHUNK_ELEMENTS // self.size)
        point_step = max(1, _CHUNK_ELEMENTS // self.dim)
        for start in range(0, len(queries), step):
            block = exact_queries[start : start + step]
            products = np.empty((len(block), self.size), dtype=np.float64)
            for first in range(0, self.size, point_step):
                ids = np.arange(first, min(first + point_step, self.size))
                products[:, ids] = block @ self._exact_rows(ids).T
            norms = _row_norms(block)
            if self.metric == L2:
                coarse = self._exact_sq_norms[None, :] - 2 * products + (norms**2)[:, None]
                bounds = _SAFETY * gamma * (norms + self._exact_norm_max) ** 2
            else:
                coarse = -products
                bounds = _SAFETY * gamma * norms * self._exact_norm_max
            kth = np.partition(coarse, k - 1, axis=1)[:, k - 1]
            for offset, row in enumerate(coarse):
                near = np.nonzero(row <= kth[offset] + 2 * bounds[offset])[0]
                costs = self._exact_costs(block[offset : offset + 1], near[None, :])[0]
                order = np.lexsort((near, costs))[:k]
                out_ids[start + offset] = near[order]
                out_costs[start + offset] = costs[order]
        return out_ids, out_costs


def _chunked_norms(points: np.ndarray, center: np.ndarray | None = None) -> np.ndarray:
    """Float64 Euclidean norms of float32 rows (minus ``center``), a chunk at a time."""
    count, dim = points.shape
    norms = np.empty(count, dtype=np.float64)
    step = max(1, _CHUNK_ELEMENTS // max(1, dim))
    for start in range(0, count, step):
        block = points[start : start + step].astype(np.float64)
        if center is not None:
            block -= center
        norms[start : start + step] = _row_norms(block)
    return norms


def _index_vectors(rows: np.ndarray, metric: str, center: np.ndarray | None) -> np.ndarray:
    """Rows as the faiss index holds them: centered for L2, unit length for COSINE."""
    if metric == COSINE:
        return _unit_rows(rows)
    if metric == L2 and center is not None:
        return rows - center
    return rows
