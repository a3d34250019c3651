"""SageMaker Linear Learner's hyperparameters: names, defaults and allowed values.

Every hyperparameter SageMaker documents for the algorithm is declared here with its
default. Many accept ``auto``, which lets the algorithm choose a value from the
problem (see ``config.resolve``); those parse to the string ``"auto"`` and keep it
until training resolves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    Continuous,
    Hyperparameter,
    HyperparameterError,
    HyperparameterSpace,
    Integer,
)

AUTO = "auto"
BALANCED = "balanced"

BINARY = "binary_classifier"
MULTICLASS = "multiclass_classifier"
REGRESSOR = "regressor"
PREDICTOR_TYPES = (BINARY, MULTICLASS, REGRESSOR)

BINARY_LOSSES = ("logistic", "hinge_loss")
MULTICLASS_LOSSES = ("softmax_loss",)
REGRESSION_LOSSES = (
    "squared_loss",
    "absolute_loss",
    "eps_insensitive_squared_loss",
    "eps_insensitive_absolute_loss",
    "quantile_loss",
    "huber_loss",
)
LOSSES = (AUTO, *BINARY_LOSSES, *MULTICLASS_LOSSES, *REGRESSION_LOSSES)
LOSSES_BY_PREDICTOR = {
    BINARY: BINARY_LOSSES,
    MULTICLASS: MULTICLASS_LOSSES,
    REGRESSOR: REGRESSION_LOSSES,
}
OPTIMIZERS = (AUTO, "sgd", "adam", "rmsprop")
SELECTION_CRITERIA = (
    "accuracy",
    "f_beta",
    "precision_at_target_recall",
    "recall_at_target_precision",
    "loss_function",
    "f1",
    "cross_entropy_loss",
)
"""The documented criteria, plus ``f1`` and ``cross_entropy_loss``, which the SageMaker
Python SDK still accepts: F-beta with beta 1, and the loss (logistic) respectively."""


@dataclass(frozen=True)
class AutoOr(Hyperparameter):
    """A hyperparameter that takes ``auto`` (or another keyword) as well as ``inner``'s values."""

    inner: Hyperparameter
    keywords: tuple[str, ...] = (AUTO,)
    default: Any = AUTO
    required: bool = False

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    def parse(self, text: str) -> Any:
        if text.strip().lower() in self.keywords:
            return text.strip().lower()
        try:
            return self.inner.parse(text)
        except HyperparameterError:
            raise self.reject(text) from None

    def allowed(self) -> str:
        words = " or ".join(f"'{word}'" for word in self.keywords)
        return f"{words} or {self.inner.allowed()}"


def _num_classes_for_multiclass(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if values["predictor_type"] == MULTICLASS and values["num_classes"] is None:
        raise HyperparameterError(
            "num_classes",
            None,
            "an integer in [3, 1000000]",
            reason="is required when predictor_type is 'multiclass_classifier'",
        )


def _loss_matches_predictor(values: Mapping[str, Any], given: frozenset[str]) -> None:
    loss, predictor = values["loss"], values["predictor_type"]
    allowed = LOSSES_BY_PREDICTOR[predictor]
    if loss != AUTO and loss not in allowed:
        raise HyperparameterError(
            "loss",
            loss,
            "'auto' or one of " + ", ".join(f"'{name}'" for name in allowed),
            reason=f"'{loss}' is not a loss for predictor_type '{predictor}'",
        )


def _unbiasing_needs_bias(values: Mapping[str, Any], given: frozenset[str]) -> None:
    if values["use_bias"]:
        return
    for name in ("unbias_data", "unbias_label"):
        if values[name] is True:
            raise HyperparameterError(
                name,
                "true",
                "'auto' or 'false' when use_bias is 'false'",
                reason="shifting to mean 0 needs a bias term, and use_bias is 'false'",
            )


LINEAR_LEARNER_HYPERPARAMETERS = HyperparameterSpace(
    Categorical("predictor_type", PREDICTOR_TYPES, required=True),
    Integer("num_classes", min=3, max=1_000_000),
    Integer("accuracy_top_k", default=3, min=1),
    Boolean("balance_multiclass_weights", default=False),
    AutoOr(Continuous("beta_1", min=0, max=1, max_open=True)),
    AutoOr(Continuous("beta_2", min=0, max=1, max_open=True)),
    AutoOr(Continuous("bias_lr_mult", min=0, min_open=True)),
    AutoOr(Continuous("bias_wd_mult", min=0)),
    Categorical(
        "binary_classifier_model_selection_criteria", SELECTION_CRITERIA, default="accuracy"
    ),
    Integer("early_stopping_patience", default=3, min=1),
    Continuous("early_stopping_tolerance", default=0.001, min=0, min_open=True),
    Integer("epochs", default=15, min=1),
    Continuous("f_beta", default=1.0, min=0, min_open=True),
    AutoOr(Integer("feature_dim", min=1)),
    Continuous("huber_delta", default=1.0, min=0, min_open=True),
    Continuous("init_bias", default=0.0),
    Categorical("init_method", ("uniform", "normal"), default="uniform"),
    Continuous("init_scale", default=0.07, min=0, min_open=True),
    Continuous("init_sigma", default=0.01, min=0, min_open=True),
    AutoOr(Continuous("l1", min=0)),
    AutoOr(Continuous("learning_rate", min=0, min_open=True)),
    Categorical("loss", LOSSES, default=AUTO),
    Continuous("loss_insensitivity", default=0.01, min=0, min_open=True),
    AutoOr(Continuous("lr_scheduler_factor", min=0, max=1, min_open=True)),
    AutoOr(Continuous("lr_scheduler_minimum_lr", min=0, min_open=True)),
    AutoOr(Integer("lr_scheduler_step", min=1)),
    Continuous("margin", default=1.0, min=0, min_open=True),
    Integer("mini_batch_size", default=1000, min=1),
    AutoOr(Continuous("momentum", min=0, max=1, max_open=True)),
    AutoOr(Boolean("normalize_data"), default=True),
    AutoOr(Boolean("normalize_label")),
    AutoOr(Integer("num_calibration_samples", min=1)),
    AutoOr(Integer("num_models", min=1)),
    Integer("num_point_for_scaler", default=10_000, min=1),
    Categorical("optimizer", OPTIMIZERS, default=AUTO),
    AutoOr(
        Continuous("positive_example_weight_mult", min=0, min_open=True),
        keywords=(AUTO, BALANCED),
        default=1.0,
    ),
    Continuous("quantile", default=0.5, min=0, max=1, min_open=True, max_open=True),
    Continuous("target_precision", default=0.8, min=0, max=1, min_open=True),
    Continuous("target_recall", default=0.8, min=0, max=1, min_open=True),
    AutoOr(Boolean("unbias_data")),
    AutoOr(Boolean("unbias_label")),
    Boolean("use_bias", default=True),
    Boolean("use_lr_scheduler", default=True),
    AutoOr(Continuous("wd", min=0)),
    rules=(
        _num_classes_for_multiclass,
        _loss_matches_predictor,
        _unbiasing_needs_bias,
    ),
)
