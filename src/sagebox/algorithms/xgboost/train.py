"""Training entry point: behaves like SageMaker's XGBoost algorithm container.

Reads the job folder (``SAGEMAKER_BASE_DIR``), validates the hyperparameters,
loads the ``train`` and optional ``validation`` channels, calls ``xgboost.train``
printing xgboost's evaluation line every round on stdout (with early stopping, the
best round's line again at the end: its model is the one kept), and saves the booster as
``<model dir>/xgboost-model`` (UBJSON, which ``xgboost.Booster(model_file=...)``
loads). On a client error the reason goes to ``output/failure`` and the process
exits 1. SIGTERM stops the job at once with exit status 143.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import xgboost as xgb

from sagebox.algorithms.contract import ContractError, TrainingEnvironment, default_base_dir
from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.xgboost.data import (
    ChannelData,
    TrainingError,
    align,
    read_channel,
    to_dmatrix,
)
from sagebox.algorithms.xgboost.hyperparameters import XGBOOST_HYPERPARAMETERS
from sagebox.algorithms.xgboost.metrics import is_maximized
from sagebox.algorithms.xgboost.params import (
    TuningMetricError,
    booster_params,
    evaluation_plan,
    tuning_metric_name,
)
from sagebox.algorithms.xgboost.prefetch import CsvPrefetch

MODEL_FILE = "xgboost-model"
TEMPORARY_SUFFIX = ".partial.ubj"
CHANNELS = ("train", "validation")
EXIT_FAILED = 1
EXIT_TERMINATED = 128 + signal.SIGTERM
_XGBOOST_LOG_PREFIX = re.compile(r"^\[[0-9:]+\] \S+:[0-9]+: ")

CLIENT_ERRORS = (
    HyperparameterError,
    TrainingError,
    TuningMetricError,
    ContractError,
    xgb.core.XGBoostError,
)


def log(message: str) -> None:
    """An informational line on stderr (stdout carries the evaluation lines)."""
    print(message, file=sys.stderr, flush=True)


def print_evaluation(message: str) -> None:
    sys.stdout.write(message.rstrip("\n") + "\n")
    sys.stdout.flush()


def save_model(booster: xgb.Booster, model_dir: Path) -> Path:
    """Write ``xgboost-model`` atomically, in xgboost's UBJSON format."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / MODEL_FILE
    temporary = model_dir / f".{MODEL_FILE}.{os.getpid()}{TEMPORARY_SUFFIX}"
    try:
        booster.save_model(str(temporary))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


class RoundLog:
    """Prints each round's evaluation line and keeps it, by round, to report the best one again."""

    def __init__(self) -> None:
        self.lines: dict[int, str] = {}

    def __call__(self, message: str) -> None:
        print_evaluation(message)
        round_number, _, _ = message.removeprefix("[").partition("]")
        if round_number.isdigit():
            self.lines[int(round_number)] = message

    def report_kept(self, booster: xgb.Booster, num_round: int) -> None:
        """With early stopping the saved model ends at the best round, not the last one: print
        the best round's line again, last, so that the final metrics (the last value each
        metric regex finds) are those of the model kept, as SageMaker's XGBoost reports them."""
        if booster.attr("best_iteration") is None or not self.lines:
            return
        best, last = booster.best_iteration, max(self.lines)
        if best == last or best not in self.lines:
            return
        stopped = last + 1 < num_round
        print_evaluation("Stopping. Best iteration:" if stopped else "Best iteration:")
        print_evaluation(self.lines[best])


class SaveEveryRound(xgb.callback.TrainingCallback):
    """``save_model_on_termination``: keep the latest model on disk after each round."""

    def __init__(self, model_dir: Path) -> None:
        super().__init__()
        self.model_dir = model_dir

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        save_model(model, self.model_dir)
        return False


def train(env: TrainingEnvironment, prefetch: CsvPrefetch | None = None) -> xgb.Booster:
    """Train as the job folder describes and save the model; raises a client error.

    ``prefetch``: the job's CSV channels, already being read in the background.
    """
    values = XGBOOST_HYPERPARAMETERS.validate(env.hyperparameters)
    given = XGBOOST_HYPERPARAMETERS.explicit(env.hyperparameters)
    tuning_metric = tuning_metric_name(env.hyperparameters.get("_tuning_objective_metric"))
    train_data, validation_data = _load_channels(env, values["csv_weights"] == 1, prefetch)
    early_stopping_rounds = values["early_stopping_rounds"]
    if early_stopping_rounds is not None and validation_data is None:
        raise TrainingError(
            f"early_stopping_rounds={early_stopping_rounds} needs a 'validation' channel to "
            "watch, and this job has none; add a validation channel or remove early_stopping_rounds"
        )

    plan = evaluation_plan(values["eval_metric"], tuning_metric)
    built = booster_params(values, given, plan.native)
    for name in built.ignored:
        log(f"Hyperparameter '{name}' is accepted but not used by xgboost {xgb.__version__}.")
    for note in built.notes:
        log(note)
    nthread = int(built.params["nthread"])
    log(f"Training with nthread={nthread}")
    evals = [(to_dmatrix(train_data, nthread), "train")]
    log(f"Train matrix has {train_data.num_rows} rows and {train_data.num_features} columns")
    if validation_data is not None:
        evals.append((to_dmatrix(validation_data, nthread), "validation"))
        log(f"Validation matrix has {validation_data.num_rows} rows")

    rounds = RoundLog()
    custom = None
    if plan.custom:
        from sagebox.algorithms.xgboost.custom_metrics import custom_metric, weighted_metrics

        custom = custom_metric(plan.custom, values["objective"], weighted_metrics())
    booster = xgb.train(
        built.params,
        evals[0][0],
        num_boost_round=values["num_round"],
        evals=evals,
        custom_metric=custom,
        callbacks=_callbacks(env, values, plan.early_stopping_metric, rounds),
        verbose_eval=False,
    )
    if _keeps_best_round(values):
        rounds.report_kept(booster, values["num_round"])
    if env.resource_config.current_host == env.resource_config.hosts[0]:
        save_model(booster, env.model_dir)
    else:
        log(f"{env.resource_config.current_host} is not the first host; it saves no model.")
    return booster


def _load_channels(
    env: TrainingEnvironment, csv_weights: bool, prefetch: CsvPrefetch | None
) -> tuple[ChannelData, ChannelData | None]:
    _check_channels(env)
    train_data = read_channel(env, "train", csv_weights, prefetch)
    if train_data is None:
        raise TrainingError("channel 'train' has no data files")
    if "validation" not in env.channels and not env.channel_dir("validation").is_dir():
        return train_data, None
    validation_data = read_channel(env, "validation", csv_weights, prefetch)
    if validation_data is None:
        raise TrainingError("channel 'validation' is configured but has no data files")
    return align(train_data, validation_data)


def _callbacks(
    env: TrainingEnvironment,
    values: dict[str, Any],
    stopping_metric: str | None,
    rounds: RoundLog,
) -> list[xgb.callback.TrainingCallback]:
    """Save (when asked) before printing each round, then decide on early stopping."""
    callbacks: list[xgb.callback.TrainingCallback] = []
    if values["save_model_on_termination"]:
        callbacks.append(SaveEveryRound(env.model_dir))
    callbacks.append(xgb.callback.EvaluationMonitor(logger=rounds))
    if values["early_stopping_rounds"] is not None:
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=values["early_stopping_rounds"],
                data_name="validation",
                metric_name=stopping_metric,
                maximize=is_maximized(stopping_metric) if stopping_metric else None,
                save_best=_keeps_best_round(values),
            )
        )
    return callbacks


def _keeps_best_round(values: dict[str, Any]) -> bool:
    """Whether the model saved is the best round's (early stopping on a tree booster)."""
    return values["early_stopping_rounds"] is not None and values["booster"] != "gblinear"


def _check_channels(env: TrainingEnvironment) -> None:
    unknown = sorted(set(env.channels) - set(CHANNELS))
    if unknown:
        raise TrainingError(
            f"channel '{unknown[0]}' is not supported; expected 'train' and optionally 'validation'"
        )
    if "train" not in env.channels and not env.channel_dir("train").is_dir():
        raise TrainingError("the required channel 'train' is missing")


def _failure_message(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, xgb.core.XGBoostError):
        text = text.split("\nStack trace:", 1)[0].strip()
        text = "XGBoost failed: " + _XGBOOST_LOG_PREFIX.sub("", text)
    return f"ClientError: {text}"


def run(env: TrainingEnvironment, prefetch: CsvPrefetch | None = None) -> int:
    """Train, turning failures into ``output/failure`` and an exit status."""
    try:
        train(env, prefetch)
    except CLIENT_ERRORS as exc:
        message = _failure_message(exc)
        env.write_failure(message)
        log(message)
        return EXIT_FAILED
    except Exception as exc:  # anything else is the algorithm's own fault
        traceback.print_exc()
        message = f"AlgorithmError: {type(exc).__name__}: {exc}"
        env.write_failure(message)
        return EXIT_FAILED
    return 0


def _terminate_handler(model_dir: Path) -> Callable[[int, FrameType | None], None]:
    def terminate(signum: int, frame: FrameType | None) -> None:
        log("Received SIGTERM; stopping training.")
        for partial in model_dir.glob(f".{MODEL_FILE}.*{TEMPORARY_SUFFIX}"):
            partial.unlink(missing_ok=True)
        os._exit(EXIT_TERMINATED)

    return terminate


def main(prefetch: CsvPrefetch | None = None) -> int:
    """Run training on a worker thread so that SIGTERM is handled at once, even mid-round."""
    base = default_base_dir()
    signal.signal(signal.SIGTERM, _terminate_handler(base / "model"))
    try:
        env = TrainingEnvironment.load(base)
    except ContractError as exc:
        message = f"ClientError: {exc}"
        TrainingEnvironment(base_dir=base).write_failure(message)
        log(message)
        return EXIT_FAILED
    outcome: list[int] = []
    worker = threading.Thread(target=lambda: outcome.append(run(env, prefetch)), name="xgboost-train")
    worker.start()
    while worker.is_alive():
        worker.join(timeout=0.5)
    return outcome[0] if outcome else EXIT_FAILED
