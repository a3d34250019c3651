"""The Factorization Machines training job, as SageMaker's ``factorization-machines`` image runs it.

Channels: ``train`` (required) and ``test`` (optional), labelled rows of
``feature_dim`` features: RecordIO-protobuf (dense or sparse Float32 tensors, what
SageMaker requires) or CSV with the label first (accepted here as well). Binary
classifiers need labels 0 and 1.

Every epoch logs the training metrics of its mini-batches (``train:rmse`` or
``train:binary_classification_accuracy`` / ``_cross_entropy`` / ``binary_f_beta``)
and its progress; the ``test`` channel is scored once at the end (``test:rmse`` or
the three ``test:binary_*`` metrics). The model (``factorization_machines.npz``)
holds w0, w and V.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.amazon.data import ChannelData, check_channels, read_channel
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.factorization_machines.fitting import FitSettings, GroupSettings, fit
from sagebox.algorithms.factorization_machines.hyperparameters import FM_HYPERPARAMETERS, GROUPS
from sagebox.algorithms.factorization_machines.metrics import LOSS_METRICS, QualityAccumulator
from sagebox.algorithms.factorization_machines.model import (
    BINARY,
    MODEL_NAME,
    FactorizationMachine,
)

CHANNELS = ("train", "test")
SEED = 0
SETTING_KEYS = (
    "predictor_type",
    "num_factors",
    "epochs",
    "mini_batch_size",
    "clip_gradient",
    "eps",
    "rescale_grad",
)
GROUP_KEYS = ("init_method", "init_sigma", "init_scale", "init_value", "lr", "wd")


def fit_settings(params: Mapping[str, Any]) -> FitSettings:
    """The typed training settings of validated hyperparameters."""
    groups = {
        group: GroupSettings(**{key: params[f"{group}_{key}"] for key in GROUP_KEYS})
        for group in GROUPS
    }
    return FitSettings(**{key: params[key] for key in SETTING_KEYS}, **groups)


def read_labelled(
    env: TrainingEnvironment, channel: str, feature_dim: int, predictor_type: str
) -> tuple[sp.csr_matrix, np.ndarray] | None:
    """A channel's rows (CSR) and labels, checked; None when the job has no such channel."""
    data: ChannelData | None = read_channel(
        env,
        channel,
        require_labels=True,
        default_label_size=1,
        feature_dim=feature_dim,
        sparse=True,
    )
    if data is None:
        return None
    if data.num_rows == 0:
        raise TrainingError(f"channel '{channel}' has no rows")
    rows = sp.csr_matrix(data.features, dtype=np.float32)
    if not np.all(np.isfinite(rows.data)):
        bad = int(np.argmin(np.isfinite(rows.data)))
        row = int(np.searchsorted(rows.indptr, bad, side="right"))
        raise TrainingError(
            f"channel '{channel}': row {row} has a feature that is not a finite number"
        )
    labels = np.asarray(data.labels, dtype=np.float64)
    if predictor_type == BINARY:
        bad_labels = np.flatnonzero((labels != 0) & (labels != 1))
        if len(bad_labels):
            raise TrainingError(
                f"channel '{channel}': row {bad_labels[0] + 1} has label {labels[bad_labels[0]]:g}; "
                "predictor_type 'binary_classifier' needs labels 0 or 1"
            )
    return rows, labels


def report(
    reporter: MetricReporter, channel: str, metrics: dict[str, float], epoch: int | None = None
) -> None:
    """One ``#quality_metric`` line per metric, marked loss or score."""
    for name, value in metrics.items():
        kind = "loss" if name in LOSS_METRICS else "score"
        reporter.quality(channel, name, value, kind=kind, epoch=epoch)


def train(env: TrainingEnvironment) -> FactorizationMachine:
    """Fit the model, report the metrics and save the model (first host only)."""
    params = FM_HYPERPARAMETERS.validate(env.hyperparameters)
    check_channels(env, CHANNELS, ("train",))
    settings = fit_settings(params)
    feature_dim: int = params["feature_dim"]
    loaded = read_labelled(env, "train", feature_dim, settings.predictor_type)
    if loaded is None:
        raise TrainingError("the required channel 'train' is missing")
    rows, labels = loaded
    test = read_labelled(env, "test", feature_dim, settings.predictor_type)
    log(
        f"Training on {rows.shape[0]} rows, {rows.nnz} non-zero values, "
        f"{settings.epochs} epoch(s) of mini-batches of {settings.mini_batch_size}"
    )
    reporter = MetricReporter(env.resource_config.current_host)

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        report(reporter, "train", metrics, epoch=epoch)
        reporter.progress(100.0 * (epoch + 1) / settings.epochs)

    model = fit(rows, labels, settings, np.random.default_rng(SEED), on_epoch=on_epoch)

    if test is not None:
        test_rows, test_labels = test
        quality = QualityAccumulator(settings.predictor_type)
        quality.add(test_labels, model.predict(test_rows)["score"])
        report(reporter, "test", quality.results())

    if is_first_host(env):
        save_model(
            env.model_dir,
            MODEL_NAME,
            model.to_arrays(),
            {
                "predictor_type": settings.predictor_type,
                "feature_dim": feature_dim,
                "num_factors": settings.num_factors,
            },
        )
    return model
