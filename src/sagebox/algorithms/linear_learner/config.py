"""Turning validated hyperparameters (some of them ``auto``) into concrete training settings.

SageMaker resolves each ``auto`` from the problem: the loss from ``predictor_type``,
the optimizer (``adam``), its learning rate and moments, the learning-rate schedule,
and the number of models trained side by side (``num_models``; 1 inside a tuning
job, whose search replaces the algorithm's own). The regularisation strengths and
the positive-example weight stay ``None`` when ``auto``: the model grid (``grid``)
then explores values for them instead of a neighbourhood of one given value.

SageMaker documents that ``auto`` picks a value but not which; the values below
are sagebox's: ``adam`` with learning rate 0.02 (``sgd`` 0.01 with momentum 0.9,
``rmsprop`` 0.01), betas 0.9 / 0.999, a rate that decays by 0.99 once per epoch down
to 1e-5, 32 models, no bias regularisation and the bias's learning rate unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.linear_learner.hyperparameters import (
    AUTO,
    BALANCED,
    BINARY,
    MULTICLASS,
    REGRESSOR,
)

DEFAULT_LOSS = {BINARY: "logistic", MULTICLASS: "softmax_loss", REGRESSOR: "squared_loss"}
DEFAULT_LEARNING_RATE = {"adam": 0.02, "rmsprop": 0.01, "sgd": 0.01}
DEFAULT_NUM_MODELS = 32
DEFAULT_MOMENTUM = 0.9
DEFAULT_BETA_1 = 0.9
DEFAULT_BETA_2 = 0.999
DEFAULT_LR_FACTOR = 0.99
DEFAULT_MINIMUM_LR = 1e-5
LR_UPDATES_PER_EPOCH = 1
"""With ``lr_scheduler_step`` auto, the rate decays about this many times per epoch."""
MAX_CALIBRATION_SAMPLES = 10_000_000


@dataclass(frozen=True)
class TrainingConfig:
    """Every setting of one training run, with no ``auto`` left except where noted."""

    predictor_type: str
    num_classes: int
    loss: str
    optimizer: str
    learning_rate: float
    momentum: float
    beta_1: float
    beta_2: float
    wd: float | None
    """None: ``auto``, the model grid chooses."""
    l1: float | None
    """None: ``auto``, the model grid chooses."""
    bias_lr_mult: float
    bias_wd_mult: float
    use_bias: bool
    epochs: int
    mini_batch_size: int
    use_lr_scheduler: bool
    lr_scheduler_step: int | None
    """None: ``auto``, about ``LR_UPDATES_PER_EPOCH`` decays per epoch."""
    lr_scheduler_factor: float
    lr_scheduler_minimum_lr: float
    init_method: str
    init_scale: float
    init_sigma: float
    init_bias: float
    normalize_data: bool
    unbias_data: bool | None
    """None: ``auto``, shift dense data when there is a bias term."""
    normalize_label: bool
    unbias_label: bool
    num_point_for_scaler: int
    num_models: int
    positive_example_weight_mult: float | str | None
    """A number, ``"balanced"``, or None for ``auto`` (the grid tries several)."""
    balance_multiclass_weights: bool
    loss_insensitivity: float
    quantile: float
    huber_delta: float
    margin: float
    early_stopping_patience: int
    early_stopping_tolerance: float
    early_stop_on_criterion: bool
    """Early stopping follows the selection criterion (given explicitly) instead of the loss."""
    selection_criterion: str
    """``accuracy``, ``f_beta``, ``precision_at_target_recall``, ``recall_at_target_precision``
    or ``loss_function`` (``f1`` and ``cross_entropy_loss`` are resolved to these)."""
    selection_beta: float
    """The beta the ``f_beta`` criterion uses (1 for ``f1``)."""
    f_beta: float
    target_precision: float
    target_recall: float
    accuracy_top_k: int
    num_calibration_samples: int
    feature_dim: int | None

    @property
    def is_binary(self) -> bool:
        return self.predictor_type == BINARY

    @property
    def is_multiclass(self) -> bool:
        return self.predictor_type == MULTICLASS

    @property
    def is_regressor(self) -> bool:
        return self.predictor_type == REGRESSOR

    @property
    def outputs(self) -> int:
        """Scores per model: the number of classes for multiclass, else 1."""
        return self.num_classes if self.is_multiclass else 1

    @property
    def selects_by_threshold(self) -> bool:
        """Binary models are compared after tuning their threshold for the criterion."""
        return self.is_binary and self.selection_criterion != "loss_function"


def _or(value: Any, default: Any) -> Any:
    return default if value == AUTO else value


def _criterion(values: Mapping[str, Any]) -> str:
    given = values["binary_classifier_model_selection_criteria"]
    return {"f1": "f_beta", "cross_entropy_loss": "loss_function"}.get(given, given)


def resolve(
    values: Mapping[str, Any], given: frozenset[str] = frozenset(), *, tuning: bool = False
) -> TrainingConfig:
    """Concrete settings from validated hyperparameters (``given``: the names set explicitly).

    ``tuning``: the job belongs to a hyperparameter tuning job, which trains one model.
    """
    predictor = values["predictor_type"]
    optimizer = _or(values["optimizer"], "adam")
    use_bias = bool(values["use_bias"])
    regression = predictor == REGRESSOR
    normalize_label = regression and _or(values["normalize_label"], True) is True
    unbias_label = regression and use_bias and _or(values["unbias_label"], True) is True
    weight_mult = values["positive_example_weight_mult"]
    return TrainingConfig(
        predictor_type=predictor,
        num_classes=int(values["num_classes"]) if predictor == MULTICLASS else 2,
        loss=_or(values["loss"], DEFAULT_LOSS[predictor]),
        optimizer=optimizer,
        learning_rate=float(_or(values["learning_rate"], DEFAULT_LEARNING_RATE[optimizer])),
        momentum=float(_or(values["momentum"], DEFAULT_MOMENTUM)),
        beta_1=float(_or(values["beta_1"], DEFAULT_BETA_1)),
        beta_2=float(_or(values["beta_2"], DEFAULT_BETA_2)),
        wd=None if values["wd"] == AUTO else float(values["wd"]),
        l1=None if values["l1"] == AUTO else float(values["l1"]),
        bias_lr_mult=float(_or(values["bias_lr_mult"], 1.0)),
        bias_wd_mult=float(_or(values["bias_wd_mult"], 0.0)),
        use_bias=use_bias,
        epochs=int(values["epochs"]),
        mini_batch_size=int(values["mini_batch_size"]),
        use_lr_scheduler=bool(values["use_lr_scheduler"]),
        lr_scheduler_step=None
        if values["lr_scheduler_step"] == AUTO
        else int(values["lr_scheduler_step"]),
        lr_scheduler_factor=float(_or(values["lr_scheduler_factor"], DEFAULT_LR_FACTOR)),
        lr_scheduler_minimum_lr=float(_or(values["lr_scheduler_minimum_lr"], DEFAULT_MINIMUM_LR)),
        init_method=values["init_method"],
        init_scale=float(values["init_scale"]),
        init_sigma=float(values["init_sigma"]),
        init_bias=float(values["init_bias"]),
        normalize_data=_or(values["normalize_data"], True) is True,
        unbias_data=None if values["unbias_data"] == AUTO else bool(values["unbias_data"]),
        normalize_label=normalize_label,
        unbias_label=unbias_label,
        num_point_for_scaler=int(values["num_point_for_scaler"]),
        num_models=1 if tuning else int(_or(values["num_models"], DEFAULT_NUM_MODELS)),
        positive_example_weight_mult=None
        if weight_mult == AUTO
        else (BALANCED if weight_mult == BALANCED else float(weight_mult)),
        balance_multiclass_weights=bool(values["balance_multiclass_weights"]),
        loss_insensitivity=float(values["loss_insensitivity"]),
        quantile=float(values["quantile"]),
        huber_delta=float(values["huber_delta"]),
        margin=float(values["margin"]),
        early_stopping_patience=int(values["early_stopping_patience"]),
        early_stopping_tolerance=float(values["early_stopping_tolerance"]),
        early_stop_on_criterion=predictor == BINARY
        and "binary_classifier_model_selection_criteria" in given,
        selection_criterion=_criterion(values) if predictor == BINARY else "loss_function",
        selection_beta=1.0
        if values["binary_classifier_model_selection_criteria"] == "f1"
        else float(values["f_beta"]),
        f_beta=float(values["f_beta"]),
        target_precision=float(values["target_precision"]),
        target_recall=float(values["target_recall"]),
        accuracy_top_k=int(values["accuracy_top_k"]),
        num_calibration_samples=int(
            _or(values["num_calibration_samples"], MAX_CALIBRATION_SAMPLES)
        ),
        feature_dim=None if values["feature_dim"] == AUTO else int(values["feature_dim"]),
    )
