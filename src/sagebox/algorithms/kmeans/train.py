"""Training SageMaker K-Means in a job folder.

Reads the ``train`` channel in mini-batches of ``mini_batch_size`` rows once per
epoch (CSV rows carry no label unless the ContentType says ``label_size=1``), trains
the web-scale k-means of ``web_scale``, saves the ``k`` centroids (first host only)
and, when a ``test`` channel is given, reports the requested ``eval_metrics``::

    #quality_metric: host=algo-1, test msd <loss>=1.842
    #quality_metric: host=algo-1, test ssd <loss>=3684.0

msd is the mean and ssd the sum over the test rows of the squared Euclidean
distance to the closest centroid.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from sagebox.algorithms.amazon.data import check_channels, has_channel
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.amazon.unlabelled_rows import finite_batches
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.kmeans.clustering import closest
from sagebox.algorithms.kmeans.hyperparameters import (
    AUTO,
    AUTO_LOCAL_LLOYD_NUM_TRIALS,
    KMEANS_HYPERPARAMETERS,
    auto_extra_center_factor,
)
from sagebox.algorithms.kmeans.web_scale import KMeansSettings, NotEnoughRows, fit

CHANNELS = ("train", "test")
MODEL_NAME = "model_algo-1"
"""The model file is ``model_algo-1.npz`` (SageMaker's artifact is ``model_algo-1``)."""
CENTROIDS = "centroids"
SEED = 0
"""SageMaker's K-Means takes no seed; jobs here are reproducible with a fixed one."""


def settings_from(values: Mapping[str, Any]) -> KMeansSettings:
    """The algorithm's settings from validated hyperparameters, ``auto`` resolved."""
    factor = values["extra_center_factor"]
    trials = values["local_lloyd_num_trials"]
    return KMeansSettings(
        k=values["k"],
        extra_center_factor=auto_extra_center_factor(values["k"]) if factor == AUTO else factor,
        init_method=values["init_method"],
        epochs=values["epochs"],
        half_life_time_size=values["half_life_time_size"],
        local_lloyd_max_iter=values["local_lloyd_max_iter"],
        local_lloyd_tol=values["local_lloyd_tol"],
        local_lloyd_num_trials=AUTO_LOCAL_LLOYD_NUM_TRIALS if trials == AUTO else trials,
        local_lloyd_init_method=values["local_lloyd_init_method"],
    )


def evaluate(batches: Iterable[np.ndarray], centroids: np.ndarray) -> tuple[float, float, int]:
    """(msd, ssd, rows) of the rows' squared distances to their closest centroid."""
    ssd, rows = 0.0, 0
    for batch in batches:
        ssd += float(closest(np.asarray(batch, dtype=np.float64), centroids)[1].sum())
        rows += batch.shape[0]
    return (ssd / rows if rows else 0.0), ssd, rows


def train(env: TrainingEnvironment) -> None:
    check_channels(env, CHANNELS)
    values = KMEANS_HYPERPARAMETERS.validate(env.hyperparameters)
    settings = settings_from(values)
    feature_dim, batch_size = values["feature_dim"], values["mini_batch_size"]
    reporter = MetricReporter(env.resource_config.current_host)

    def batches(channel: str) -> Iterator[np.ndarray]:
        return finite_batches(
            env, channel, batch_size=batch_size, feature_dim=feature_dim, algorithm="K-Means"
        )

    def on_epoch(epoch: int, msd: float) -> None:
        log(
            f"epoch {epoch + 1}/{settings.epochs}: mean squared distance to the closest of "
            f"{settings.num_centers} working centres {msd:.6g}"
        )
        reporter.progress(100.0 * (epoch + 1) / settings.epochs)

    log(
        f"k={settings.k}, {settings.num_centers} working centres "
        f"(extra_center_factor {settings.extra_center_factor}), init_method "
        f"{settings.init_method}, {settings.epochs} epoch(s) of mini-batches of {batch_size} rows"
    )
    try:
        model = fit(lambda: batches("train"), settings, seed=SEED, on_epoch=on_epoch)
    except NotEnoughRows as exc:
        raise TrainingError(f"channel 'train': {exc}") from None
    centroids = model.centers.astype(np.float32)
    log(
        f"reduced {len(model.working_centers)} working centres to k={settings.k} centroids "
        f"(local Lloyd, {settings.local_lloyd_num_trials} trial(s))"
    )
    if is_first_host(env):
        save_model(
            env.model_dir,
            MODEL_NAME,
            {CENTROIDS: centroids},
            {"k": settings.k, "feature_dim": feature_dim},
        )
    if has_channel(env, "test"):
        msd, ssd, rows = evaluate(batches("test"), centroids.astype(np.float64))
        log(f"test channel: {rows} rows")
        for metric in values["eval_metrics"]:
            reporter.quality("test", metric, msd if metric == "msd" else ssd)
