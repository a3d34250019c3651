"""A k-NN model: its settings, how it is fitted from batches of rows, saved and queried.

Fitting (SageMaker's three steps): reservoir-sample ``sample_size`` rows, reduce
their dimension (optional), index them. Queries go through the same reduction and
padding, then the index finds their ``k`` nearest points, whose labels give the
prediction. A saved model holds the sampled (reduced) points or, for IVF indexes,
the serialized faiss index; their labels; the reduction's arrays; and the settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.knn.hyperparameters import AUTO, PQ_M_VALUES
from sagebox.algorithms.knn.predictor import predict_labels
from sagebox.algorithms.knn.reduction import Reduction, make_reduction
from sagebox.algorithms.knn.sampling import Reservoir, sample_order
from sagebox.algorithms.knn.search import FLAT, IVF_PQ, NeighborIndex, Neighbors

SEED = 0
"""SageMaker k-NN has no seed hyperparameter: sampling, reduction and IVF training use this."""
MODEL_NAME = "model_algo-1"
FORMAT_VERSION = 1

Features = np.ndarray | sp.spmatrix


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class KnnConfig:
    """What a k-NN model is built with, resolved from the hyperparameters."""

    feature_dim: int
    k: int
    predictor_type: str
    sample_size: int
    index_type: str = FLAT
    index_metric: str = "L2"
    reduction_type: str | None = None
    reduction_target: int | None = None
    nlist: int | None = None
    """None for ``auto``."""
    pq_m: int | None = None
    seed: int = SEED

    @classmethod
    def from_hyperparameters(cls, values: Mapping[str, Any]) -> KnnConfig:
        """From validated hyperparameters; applies faiss's divisibility rule for IVFPQ."""
        nlists = values.get("faiss_index_ivf_nlists", AUTO)
        config = cls(
            feature_dim=values["feature_dim"],
            k=values["k"],
            predictor_type=values["predictor_type"],
            sample_size=values["sample_size"],
            index_type=values.get("index_type") or FLAT,
            index_metric=values.get("index_metric") or "L2",
            reduction_type=values.get("dimension_reduction_type"),
            reduction_target=(
                values.get("dimension_reduction_target")
                if values.get("dimension_reduction_type")
                else None
            ),
            nlist=None if nlists in (None, AUTO) else int(nlists),
            pq_m=values.get("faiss_index_pq_m"),
        )
        return config.with_pq_dimensions()

    @property
    def reduced_dim(self) -> int:
        """The dimension after reduction (before any zero padding)."""
        return self.reduction_target if self.reduction_type else self.feature_dim

    @property
    def index_dim(self) -> int:
        """The dimension of the indexed points: zero-padded to a multiple of pq_m for IVFPQ."""
        if self.index_type == IVF_PQ and self.pq_m:
            return _round_up(self.reduced_dim, self.pq_m)
        return self.reduced_dim

    def with_pq_dimensions(self) -> KnnConfig:
        """Settle ``pq_m`` and make the dimension divisible by it, as SageMaker does.

        Without ``faiss_index_pq_m`` the largest supported value that divides the
        dimension is used. With it, a dimension it does not divide grows to the next
        multiple: the reduction target when there is a reduction, else by zero padding.
        """
        if self.index_type != IVF_PQ:
            return self
        if self.pq_m is None:
            m = max(value for value in PQ_M_VALUES if self.reduced_dim % value == 0)
            return replace(self, pq_m=m)
        if self.reduction_type and self.reduced_dim % self.pq_m:
            return replace(self, reduction_target=_round_up(self.reduced_dim, self.pq_m))
        return self

    def make_reduction(self) -> Reduction | None:
        if not self.reduction_type:
            return None
        return make_reduction(self.reduction_type, self.feature_dim, self.reduced_dim, self.seed)


def embed(features: Features, reduction: Reduction | None, index_dim: int) -> np.ndarray:
    """Rows as the index sees them: reduced if configured, zero-padded, float64."""
    if reduction is not None:
        rows = reduction.apply(features)
    elif sp.issparse(features):
        rows = sp.csr_matrix(features).toarray().astype(np.float64)
    else:
        rows = np.asarray(features, dtype=np.float64)
    if rows.shape[1] < index_dim:
        rows = np.hstack([rows, np.zeros((rows.shape[0], index_dim - rows.shape[1]))])
    return rows


@dataclass(frozen=True)
class Prediction:
    """Per query row: the prediction and, nearest first, its neighbors' scores and labels."""

    predicted_label: np.ndarray
    distances: np.ndarray
    labels: np.ndarray


class _SampleBuffer:
    """The reservoir's rows: grown on demand up to the capacity."""

    def __init__(self, dim: int) -> None:
        self.points = np.empty((0, dim), dtype=np.float32)
        self.labels = np.empty(0, dtype=np.float32)
        self.rows = np.empty(0, dtype=np.int64)

    def ensure(self, size: int, capacity: int) -> None:
        if size <= len(self.rows):
            return
        grown = min(capacity, max(size, 2 * len(self.rows), 1024))
        self.points = _grow(self.points, grown)
        self.labels = _grow(self.labels, grown)
        self.rows = _grow(self.rows, grown)


def _grow(array: np.ndarray, length: int) -> np.ndarray:
    grown = np.empty((length, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def sample_points(
    batches: Iterable[tuple[Features, np.ndarray]], config: KnnConfig
) -> tuple[np.ndarray, np.ndarray, int]:
    """Reservoir-sample and embed rows from ``(features, labels)`` batches.

    Returns (points float32 (n, index_dim), labels float32 (n,), rows seen), the
    points in training-row order.
    """
    reduction = config.make_reduction()
    reservoir = Reservoir(config.sample_size, config.seed)
    buffer = _SampleBuffer(config.index_dim)
    for features, labels in batches:
        start = reservoir.seen
        entering, slots = reservoir.admit(features.shape[0])
        if len(entering) == 0:
            continue
        buffer.ensure(int(slots.max()) + 1, config.sample_size)
        buffer.points[slots] = embed(features[entering], reduction, config.index_dim)
        buffer.labels[slots] = labels[entering]
        buffer.rows[slots] = start + entering
    size = reservoir.size
    order = sample_order(buffer.rows[:size])
    return buffer.points[:size][order], buffer.labels[:size][order], reservoir.seen


class KnnModel:
    """A fitted k-NN model: reduction, index over the sampled points, their labels."""

    def __init__(
        self,
        config: KnnConfig,
        reduction: Reduction | None,
        index: NeighborIndex,
        labels: np.ndarray,
    ) -> None:
        if len(labels) != index.size:
            raise ValueError(f"{len(labels)} labels for {index.size} points")
        self.config = config
        self.reduction = reduction
        self.index = index
        self.labels = np.asarray(labels, dtype=np.float32)

    @classmethod
    def build(cls, config: KnnConfig, points: np.ndarray, labels: np.ndarray) -> KnnModel:
        """Index already sampled and embedded points."""
        if len(points) < config.k:
            raise ValueError(
                f"k={config.k} neighbors were asked for, but only {len(points)} points were sampled"
            )
        index = NeighborIndex.build(
            points,
            config.index_metric,
            config.index_type,
            nlist=config.nlist,
            pq_m=config.pq_m,
            seed=config.seed,
        )
        return cls(config, config.make_reduction(), index, labels)

    @classmethod
    def fit(cls, batches: Iterable[tuple[Features, np.ndarray]], config: KnnConfig) -> KnnModel:
        points, labels, _ = sample_points(batches, config)
        return cls.build(config, points, labels)

    @property
    def num_points(self) -> int:
        return self.index.size

    def neighbors(self, features: Features, k: int | None = None) -> Neighbors:
        """The nearest sampled points of each row of ``features`` (feature_dim wide)."""
        if features.shape[1] != self.config.feature_dim:
            raise ValueError(
                f"rows have {features.shape[1]} features, the model takes {self.config.feature_dim}"
            )
        return self.index.search(
            embed(features, self.reduction, self.config.index_dim), k or self.config.k
        )

    def predict(self, features: Features) -> Prediction:
        found = self.neighbors(features)
        neighbor_labels = self.labels[found.indices].astype(np.float64)
        return Prediction(
            predicted_label=predict_labels(self.config.predictor_type, neighbor_labels),
            distances=found.distances,
            labels=neighbor_labels,
        )

    # ------------------------------------------------------------- persistence

    def arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {"labels": self.labels}
        if self.index.index_type == FLAT:
            if self.index.points is None:
                raise ValueError("a faiss.Flat index has no points")
            arrays["points"] = self.index.points
        else:
            arrays["index"] = self.index.serialized()
        if self.index.center is not None:
            arrays["center"] = self.index.center
        if self.reduction is not None:
            arrays.update(self.reduction.arrays())
        return arrays

    def settings(self) -> dict[str, Any]:
        config = self.config
        return {
            "format_version": FORMAT_VERSION,
            "k": config.k,
            "predictor_type": config.predictor_type,
            "feature_dim": config.feature_dim,
            "sample_size": config.sample_size,
            "num_points": self.num_points,
            "index_type": config.index_type,
            "index_metric": config.index_metric,
            "index_dim": config.index_dim,
            "faiss_index_ivf_nlists": self.index.nlist,
            "nprobe": self.index.nprobe if config.index_type != FLAT else None,
            "faiss_index_pq_m": config.pq_m,
            "dimension_reduction": (
                {
                    "type": config.reduction_type,
                    "target_dim": config.reduced_dim,
                    "seed": config.seed,
                }
                if config.reduction_type
                else None
            ),
            "seed": config.seed,
        }

    @classmethod
    def from_saved(cls, arrays: Mapping[str, np.ndarray], settings: Mapping[str, Any]) -> KnnModel:
        """Rebuild a saved model; raises ``ValueError`` (naming what is wrong) for bad files."""
        try:
            if settings.get("format_version") != FORMAT_VERSION:
                raise ValueError(
                    f"format_version {settings.get('format_version')!r} is not supported "
                    f"(expected {FORMAT_VERSION})"
                )
            reduction_settings = settings.get("dimension_reduction") or None
            config = KnnConfig(
                feature_dim=int(settings["feature_dim"]),
                k=int(settings["k"]),
                predictor_type=str(settings["predictor_type"]),
                sample_size=int(settings["sample_size"]),
                index_type=str(settings["index_type"]),
                index_metric=str(settings["index_metric"]),
                reduction_type=reduction_settings["type"] if reduction_settings else None,
                reduction_target=(
                    int(reduction_settings["target_dim"]) if reduction_settings else None
                ),
                nlist=settings.get("faiss_index_ivf_nlists"),
                pq_m=settings.get("faiss_index_pq_m"),
                seed=int(settings.get("seed", SEED)),
            )
            reduction = (
                Reduction.from_arrays(
                    config.reduction_type, config.feature_dim, config.reduced_dim, dict(arrays)
                )
                if config.reduction_type
                else None
            )
            center = np.asarray(arrays["center"], dtype=np.float64) if "center" in arrays else None
            if config.index_type == FLAT:
                points = np.asarray(arrays["points"], dtype=np.float32)
                index = NeighborIndex.build(points, config.index_metric, FLAT)
            else:
                index = NeighborIndex.from_serialized(
                    arrays["index"],
                    config.index_metric,
                    config.index_type,
                    center=center,
                    nprobe=int(settings.get("nprobe") or 1),
                )
            labels = np.asarray(arrays["labels"], dtype=np.float32)
        except KeyError as exc:
            raise ValueError(f"the model misses {exc.args[0]!r}") from None
        if index.dim != config.index_dim:
            raise ValueError(
                f"the index holds {index.dim}-dimensional points, the settings say "
                f"{config.index_dim}"
            )
        return cls(config, reduction, index, labels)
