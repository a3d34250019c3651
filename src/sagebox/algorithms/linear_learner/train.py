"""Training entry point: behaves like SageMaker's Linear Learner container.

Validates the hyperparameters, reads the ``train`` channel and the optional
``validation`` and ``test`` channels, trains ``num_models`` models side by side and
keeps the best (``trainer``), and saves it as ``model_algo-1.npz`` in the model
folder (first host only). Metric lines follow SageMaker's names:

- every epoch: ``train objective_loss`` and, with a validation channel,
  ``validation objective_loss`` (``epoch=N``), then ``#progress_metric``
- at the end, for the validation and test channels: ``objective_loss`` and the
  predictor's metrics (``binary_classification_accuracy``, ``binary_f_beta``,
  ``precision``, ``recall``, ``roc_auc_score``; ``multiclass_accuracy``,
  ``multiclass_top_k_accuracy``, ``dcg``, ``macro_precision``, ``macro_recall``,
  ``macro_f_beta``; ``mse``, ``rmse``, ``absolute_loss``)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np

from sagebox.algorithms.amazon.data import check_channels
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.linear_learner.channels import load_channel
from sagebox.algorithms.linear_learner.config import TrainingConfig, resolve
from sagebox.algorithms.linear_learner.evaluation import evaluate
from sagebox.algorithms.linear_learner.hyperparameters import LINEAR_LEARNER_HYPERPARAMETERS
from sagebox.algorithms.linear_learner.model import MODEL_NAME
from sagebox.algorithms.linear_learner.spec import CHANNELS, LOSS_METRICS
from sagebox.algorithms.linear_learner.trainer import Dataset, EpochReport, train_models

TUNING_OBJECTIVE = "_tuning_objective_metric"
"""Set by a hyperparameter tuning job; Linear Learner then trains a single model."""
SEED = 0
"""Training is deterministic: the same data and hyperparameters give the same model."""


def _config(env: TrainingEnvironment) -> TrainingConfig:
    raw = env.hyperparameters
    values = LINEAR_LEARNER_HYPERPARAMETERS.validate(raw)
    given = frozenset(LINEAR_LEARNER_HYPERPARAMETERS.explicit(raw))
    tuning = bool(str(raw.get(TUNING_OBJECTIVE, "")).strip())
    return resolve(values, given, tuning=tuning)


def _load(
    env: TrainingEnvironment, config: TrainingConfig
) -> tuple[Dataset, dict[str, Dataset | None]]:
    """The train rows, and the validation and test rows (None when absent)."""
    kwargs = {"predictor_type": config.predictor_type, "num_classes": config.num_classes}
    train = load_channel(env, "train", feature_dim=config.feature_dim, **kwargs)
    if train is None:
        raise TrainingError("the required channel 'train' is missing")
    width = train.num_features
    sparse = not isinstance(train.features, np.ndarray)
    others = {
        channel: load_channel(env, channel, feature_dim=width, sparse=sparse, **kwargs)
        for channel in CHANNELS[1:]
    }
    return train, others


def _report_epoch(reporter: MetricReporter, config: TrainingConfig, report: EpochReport) -> None:
    reporter.quality("train", "objective_loss", report.train_loss, epoch=report.epoch)
    if report.validation_loss is not None:
        reporter.quality("validation", "objective_loss", report.validation_loss, epoch=report.epoch)
    reporter.progress(100.0 * (report.epoch + 1) / config.epochs)


def train(env: TrainingEnvironment) -> None:
    """Train in the job folder ``env`` (raises ``TrainingError``/``HyperparameterError``)."""
    check_channels(env, CHANNELS, ("train",))
    config = _config(env)
    log(f"Linear Learner configuration: {json.dumps(asdict(config), sort_keys=True)}")
    train_data, data = _load(env, config)
    log(
        f"Training {config.num_models} model(s) on {train_data.num_rows} rows of "
        f"{train_data.num_features} features"
    )
    reporter = MetricReporter(host=env.resource_config.current_host)
    result = train_models(
        config,
        train_data,
        data["validation"],
        seed=SEED,
        on_epoch=lambda report: _report_epoch(reporter, config, report),
    )
    if result.stopped_early:
        log(f"Early stopping after epoch {result.epochs_run}: no improvement.")
        reporter.progress(100.0)
    log(
        f"Selected model #{result.model_index} (learning_rate="
        f"{result.grid.learning_rate[result.model_index]:.6g}, wd="
        f"{result.grid.wd[result.model_index]:.6g}, l1={result.grid.l1[result.model_index]:.6g}"
        f"), threshold {result.model.threshold:.6g}"
    )
    for channel in CHANNELS[1:]:
        dataset = data[channel]
        if dataset is None:
            continue
        for name, value in evaluate(result.model, dataset, config).items():
            if not math.isfinite(value):
                log(f"{channel} {name} is undefined on these rows (e.g. a single class)")
                continue
            kind = "loss" if name in LOSS_METRICS else "score"
            reporter.quality(channel, name, value, kind=kind)
    if is_first_host(env):
        save_model(env.model_dir, MODEL_NAME, result.model.arrays(), result.model.settings())
