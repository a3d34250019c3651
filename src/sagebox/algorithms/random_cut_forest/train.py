"""The Random Cut Forest training job, as SageMaker's ``randomcutforest`` image runs it.

Channels: ``train`` (required; CSV rows without a label unless the ContentType says
``label_size=1``, or RecordIO-protobuf, dense or sparse) and ``test`` (optional,
labelled: 1 = anomaly, 0 = normal; CSV with the label first by default).

The job streams ``train`` once to sample every tree's rows, grows the forest, then
streams it again to score every training row: the mean plus three standard
deviations of those scores is the threshold at which the ``test`` rows count as
anomalies for ``test:accuracy``, ``test:precision``, ``test:recall`` and
``test:f1``. The model (``random_cut_forest.npz``) holds the forest's arrays.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.amazon.data import (
    ChannelData,
    check_channels,
    has_channel,
    read_channel,
    stream_channel,
)
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.random_cut_forest.evaluation import (
    RunningMoments,
    labelled_metrics,
    score_threshold,
)
from sagebox.algorithms.random_cut_forest.forest import MODEL_NAME, RandomCutForest, grow_forest
from sagebox.algorithms.random_cut_forest.hyperparameters import RCF_HYPERPARAMETERS
from sagebox.algorithms.random_cut_forest.sampling import ForestSampler
from sagebox.algorithms.random_cut_forest.scoring import ForestScorer

CHANNELS = ("train", "test")
SEED = 0
REPORTED_METRICS = ("accuracy", "precision", "recall", "f1")


def dense_rows(features: np.ndarray | sp.spmatrix, where: str, first_row: int = 1) -> np.ndarray:
    """Float32 dense rows; raises ``TrainingError`` naming the first row that is not finite."""
    rows = features.toarray() if sp.issparse(features) else np.asarray(features)
    rows = np.asarray(rows, dtype=np.float32)
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        bad = int(np.argmin(finite))
        column = int(np.argmin(np.isfinite(rows[bad])))
        raise TrainingError(
            f"{where}: row {first_row + bad}, feature {column + 1} is not a finite number "
            f"({rows[bad, column]}); Random Cut Forest needs numbers in every feature"
        )
    return rows


def train_batches(
    env: TrainingEnvironment, feature_dim: int, batch_size: int
) -> Iterator[np.ndarray]:
    """The train channel's rows as dense float32 batches, checked for non-finite values."""
    first = 1
    for batch in stream_channel(
        env, "train", batch_size=batch_size, default_label_size=0, feature_dim=feature_dim
    ):
        yield dense_rows(batch.features, "channel 'train'", first)
        first += batch.num_rows


def read_test(env: TrainingEnvironment, feature_dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The labelled test rows and their 0/1 labels, or None without a test channel."""
    if not has_channel(env, "test"):
        return None
    data: ChannelData | None = read_channel(
        env, "test", require_labels=True, default_label_size=1, feature_dim=feature_dim
    )
    if data is None or data.labels is None:
        raise TrainingError("channel 'test' has no labelled rows")
    labels = data.labels
    bad = np.flatnonzero((labels != 0) & (labels != 1))
    if len(bad):
        raise TrainingError(
            f"channel 'test': row {bad[0] + 1} has label {labels[bad[0]]}; test labels must be "
            "1 (anomaly) or 0 (normal)"
        )
    return dense_rows(data.features, "channel 'test'"), labels


def train(env: TrainingEnvironment) -> RandomCutForest:
    """Grow the forest, report the test metrics and save the model (first host only)."""
    params = RCF_HYPERPARAMETERS.validate(env.hyperparameters)
    check_channels(env, CHANNELS, ("train",))
    feature_dim: int = params["feature_dim"]
    eval_metrics: tuple[str, ...] = tuple(params["eval_metrics"])
    test = read_test(env, feature_dim)
    rng = np.random.default_rng(SEED)
    sampler = ForestSampler(params["num_trees"], params["num_samples_per_tree"], feature_dim, rng)
    for rows in train_batches(env, feature_dim, params["mini_batch_size"]):
        sampler.add(rows)
    if sampler.rows_seen == 0:
        raise TrainingError("channel 'train' has no rows")
    log(
        f"Sampled {sampler.samples().shape[1]} of {sampler.rows_seen} rows for each of "
        f"{sampler.num_trees} trees"
    )
    forest = grow_forest(sampler.samples(), rng)
    scorer = ForestScorer(forest)
    moments = RunningMoments()
    for rows in train_batches(env, feature_dim, params["mini_batch_size"]):
        moments.add(scorer.score(rows))
    threshold = score_threshold(moments)
    log(
        f"Training scores: mean {moments.mean:.6g}, standard deviation {moments.std:.6g}; "
        f"anomaly threshold {threshold:.6g}"
    )

    if test is not None:
        rows, labels = test
        metrics = labelled_metrics(labels, scorer.score(rows), threshold, eval_metrics)
        reporter = MetricReporter(env.resource_config.current_host)
        for name in REPORTED_METRICS:
            if name in metrics:
                reporter.quality("test", name, metrics[name], kind="score")
        log("Test metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in metrics.items()))

    if is_first_host(env):
        save_model(
            env.model_dir,
            MODEL_NAME,
            forest.to_arrays(),
            {
                "feature_dim": feature_dim,
                "num_trees": params["num_trees"],
                "num_samples_per_tree": params["num_samples_per_tree"],
                "training_rows": sampler.rows_seen,
                "score_mean": moments.mean,
                "score_std": moments.std,
                "score_threshold": threshold,
            },
        )
    return forest
