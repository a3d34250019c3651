"""Training SageMaker k-NN in a job folder.

Reads the ``train`` channel once, in mini-batches of ``mini_batch_size`` labelled
rows (CSV: the label is the first column), reservoir-samples ``sample_size`` of them,
reduces and indexes them, saves the model (first host only) as ``model_algo-1.npz``
and, when a ``test`` channel is given, predicts its rows and reports::

    #quality_metric: host=algo-1, test accuracy <score>=0.9611   (classifier)
    #quality_metric: host=algo-1, test mse <loss>=3012.5         (regressor)

Each host samples the rows it is given; the first host's sample becomes the model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.amazon.data import check_channels, has_channel, stream_channel
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.knn.hyperparameters import CLASSIFIER, KNN_HYPERPARAMETERS
from sagebox.algorithms.knn.model import MODEL_NAME, KnnConfig, KnnModel, sample_points

CHANNELS = ("train", "test")
Batch = tuple[np.ndarray | sp.csr_matrix, np.ndarray]


def labelled_batches(
    env: TrainingEnvironment, channel: str, config: KnnConfig, batch_size: int
) -> Iterator[Batch]:
    """The channel's (features, labels) in batches; rows must be feature_dim wide and finite.

    Sparse rows stay sparse when a dimension reduction will make them dense anyway.
    """
    row = 0
    for part in stream_channel(
        env,
        channel,
        batch_size=batch_size,
        require_labels=True,
        feature_dim=config.feature_dim,
        sparse=config.reduction_type is not None,
    ):
        values = part.features.data if sp.issparse(part.features) else part.features
        finite = np.isfinite(values)
        if not finite.all():
            if sp.issparse(part.features):
                bad = int(np.searchsorted(part.features.indptr, np.argmin(finite), side="right"))
            else:
                bad = int(np.argmin(finite.all(axis=1))) + 1
            raise TrainingError(
                f"channel '{channel}': row {row + bad} has a missing or non-finite feature "
                "value; k-NN needs every feature of every row"
            )
        if part.labels is None:
            raise TrainingError(f"channel '{channel}': the rows have no labels")
        yield part.features, part.labels
        row += part.num_rows


def evaluate(model: KnnModel, batches: Iterator[Batch]) -> tuple[float, int]:
    """(accuracy or mse, rows) of the model's predictions of labelled rows."""
    total, rows = 0.0, 0
    classifier = model.config.predictor_type == CLASSIFIER
    for features, labels in batches:
        predicted = model.predict(features).predicted_label
        truth = labels.astype(np.float64)
        if classifier:
            total += float(np.count_nonzero(predicted == truth))
        else:
            total += float(np.sum((predicted - truth) ** 2))
        rows += len(truth)
    return (total / rows if rows else float("nan")), rows


def train(env: TrainingEnvironment) -> None:
    check_channels(env, CHANNELS)
    values = KNN_HYPERPARAMETERS.validate(env.hyperparameters)
    config = KnnConfig.from_hyperparameters(values)
    batch_size = values["mini_batch_size"]
    reporter = MetricReporter(env.resource_config.current_host)
    reduction = (
        f"{config.reduction_type} reduction to {config.reduced_dim} dimensions"
        if config.reduction_type
        else "no dimension reduction"
    )
    log(
        f"k={config.k}, predictor_type={config.predictor_type}, sample_size="
        f"{config.sample_size}, {reduction}, index {config.index_type} ({config.index_metric})"
    )
    started = time.perf_counter()
    points, labels, seen = sample_points(labelled_batches(env, "train", config, batch_size), config)
    log(f"sampled {len(points)} of {seen} training rows in {time.perf_counter() - started:.3f} s")
    if len(points) < config.k:
        raise TrainingError(
            f"channel 'train' gave {len(points)} rows, fewer than k={config.k}; "
            "k-NN needs at least k training rows"
        )
    started = time.perf_counter()
    try:
        model = KnnModel.build(config, points, labels)
    except ValueError as exc:
        raise TrainingError(f"cannot build the {config.index_type} index: {exc}") from None
    log(
        f"built the {config.index_type} index over {model.num_points} points of dimension "
        f"{config.index_dim} in {time.perf_counter() - started:.3f} s"
    )
    if is_first_host(env):
        save_model(env.model_dir, MODEL_NAME, model.arrays(), model.settings())
    if has_channel(env, "test"):
        value, rows = evaluate(model, labelled_batches(env, "test", config, batch_size))
        log(f"test channel: {rows} rows")
        if config.predictor_type == CLASSIFIER:
            reporter.quality("test", "accuracy", value, kind="score")
        else:
            reporter.quality("test", "mse", value, kind="loss")
