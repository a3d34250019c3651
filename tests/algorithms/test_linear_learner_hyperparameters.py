"""Linear Learner's declared hyperparameters: defaults, ``auto`` values, and refusals."""

from __future__ import annotations

import pytest

from sagebox.algorithms.hyperparameters import HyperparameterError
from sagebox.algorithms.linear_learner.config import DEFAULT_NUM_MODELS, resolve
from sagebox.algorithms.linear_learner.hyperparameters import LINEAR_LEARNER_HYPERPARAMETERS
from sagebox.algorithms.registry import resolve as resolve_algorithm

SPACE = LINEAR_LEARNER_HYPERPARAMETERS

DOCUMENTED = {
    "num_classes",
    "predictor_type",
    "accuracy_top_k",
    "balance_multiclass_weights",
    "beta_1",
    "beta_2",
    "bias_lr_mult",
    "bias_wd_mult",
    "binary_classifier_model_selection_criteria",
    "early_stopping_patience",
    "early_stopping_tolerance",
    "epochs",
    "f_beta",
    "feature_dim",
    "huber_delta",
    "init_bias",
    "init_method",
    "init_scale",
    "init_sigma",
    "l1",
    "learning_rate",
    "loss",
    "loss_insensitivity",
    "lr_scheduler_factor",
    "lr_scheduler_minimum_lr",
    "lr_scheduler_step",
    "margin",
    "mini_batch_size",
    "momentum",
    "normalize_data",
    "normalize_label",
    "num_calibration_samples",
    "num_models",
    "num_point_for_scaler",
    "optimizer",
    "positive_example_weight_mult",
    "quantile",
    "target_precision",
    "target_recall",
    "unbias_data",
    "unbias_label",
    "use_bias",
    "use_lr_scheduler",
    "wd",
}


def refusal(hyperparameters: dict[str, str]) -> HyperparameterError:
    with pytest.raises(HyperparameterError) as caught:
        SPACE.validate(hyperparameters)
    return caught.value


def test_every_documented_hyperparameter_is_declared() -> None:
    assert set(SPACE.names) == DOCUMENTED


def test_sagemakers_defaults() -> None:
    values = SPACE.validate({"predictor_type": "regressor"})
    assert values["epochs"] == 15
    assert values["mini_batch_size"] == 1000
    assert values["early_stopping_patience"] == 3
    assert values["early_stopping_tolerance"] == 0.001
    assert values["num_point_for_scaler"] == 10_000
    assert values["binary_classifier_model_selection_criteria"] == "accuracy"
    assert values["positive_example_weight_mult"] == 1.0
    assert values["normalize_data"] is True
    assert values["init_scale"] == 0.07 and values["init_sigma"] == 0.01
    assert values["target_precision"] == values["target_recall"] == 0.8
    for name in ("wd", "l1", "learning_rate", "optimizer", "loss", "num_models", "feature_dim"):
        assert values[name] == "auto", name


def test_auto_or_a_value() -> None:
    values = SPACE.validate(
        {
            "predictor_type": "binary_classifier",
            "wd": "0.01",
            "l1": "auto",
            "num_models": "8",
            "positive_example_weight_mult": "balanced",
            "normalize_label": "auto",
            "feature_dim": "30",
        }
    )
    assert values["wd"] == 0.01 and values["l1"] == "auto" and values["num_models"] == 8
    assert values["positive_example_weight_mult"] == "balanced"
    assert values["feature_dim"] == 30


def test_predictor_type_is_required() -> None:
    error = refusal({})
    assert error.name == "predictor_type" and "required" in str(error)


@pytest.mark.parametrize(
    ("hyperparameters", "name", "words"),
    [
        ({"predictor_type": "classifier"}, "predictor_type", "'binary_classifier'"),
        ({"predictor_type": "regressor", "wd": "-1"}, "wd", "'auto' or a number >= 0"),
        ({"predictor_type": "regressor", "learning_rate": "0"}, "learning_rate", "> 0"),
        ({"predictor_type": "regressor", "optimizer": "adagrad"}, "optimizer", "'rmsprop'"),
        ({"predictor_type": "regressor", "num_models": "many"}, "num_models", "'auto'"),
        ({"predictor_type": "regressor", "beta_1": "1"}, "beta_1", "[0, 1)"),
        ({"predictor_type": "regressor", "quantile": "1"}, "quantile", "(0, 1)"),
        ({"predictor_type": "regressor", "epochs": "0"}, "epochs", ">= 1"),
        ({"predictor_type": "regressor", "init_method": "xavier"}, "init_method", "'normal'"),
        (
            {"predictor_type": "binary_classifier", "positive_example_weight_mult": "-2"},
            "positive_example_weight_mult",
            "'balanced'",
        ),
        ({"predictor_type": "regressor", "num_classes": "2"}, "num_classes", "[3, 1000000]"),
        ({"predictor_type": "regressor", "use_bias": "maybe"}, "use_bias", "'true' or 'false'"),
        ({"predictor_type": "regressor", "momentum": "auto!"}, "momentum", "'auto'"),
    ],
)
def test_a_bad_value_names_the_hyperparameter_and_what_is_allowed(
    hyperparameters: dict[str, str], name: str, words: str
) -> None:
    error = refusal(hyperparameters)
    assert error.name == name
    assert words in str(error)


def test_unknown_hyperparameters_are_refused_and_reserved_ones_ignored() -> None:
    error = refusal({"predictor_type": "regressor", "learning_rat": "0.1"})
    assert error.name == "learning_rat" and "not a hyperparameter" in str(error)
    values = SPACE.validate({"predictor_type": "regressor", "_tuning_objective_metric": "x"})
    assert "_tuning_objective_metric" not in values


def test_multiclass_needs_num_classes() -> None:
    error = refusal({"predictor_type": "multiclass_classifier"})
    assert error.name == "num_classes" and "multiclass_classifier" in str(error)


@pytest.mark.parametrize(
    ("predictor", "loss"),
    [
        ("regressor", "logistic"),
        ("regressor", "softmax_loss"),
        ("binary_classifier", "squared_loss"),
        ("multiclass_classifier", "hinge_loss"),
    ],
)
def test_the_loss_must_fit_the_predictor_type(predictor: str, loss: str) -> None:
    error = refusal({"predictor_type": predictor, "num_classes": "3", "loss": loss})
    assert error.name == "loss" and predictor in str(error) and loss in str(error)


def test_unbiasing_needs_a_bias_term() -> None:
    error = refusal({"predictor_type": "regressor", "use_bias": "false", "unbias_label": "true"})
    assert error.name == "unbias_label" and "use_bias" in str(error)


def test_auto_values_resolve_from_the_problem() -> None:
    binary = resolve(SPACE.validate({"predictor_type": "binary_classifier"}))
    assert binary.loss == "logistic" and binary.optimizer == "adam"
    assert binary.num_models == DEFAULT_NUM_MODELS and binary.wd is None and binary.l1 is None
    assert not binary.normalize_label and binary.selection_criterion == "accuracy"
    multi = resolve(SPACE.validate({"predictor_type": "multiclass_classifier", "num_classes": "4"}))
    assert multi.loss == "softmax_loss" and multi.outputs == 4
    regression = resolve(SPACE.validate({"predictor_type": "regressor", "optimizer": "sgd"}))
    assert regression.loss == "squared_loss" and regression.normalize_label
    assert regression.unbias_label and regression.optimizer == "sgd"


def test_a_tuning_job_trains_one_model() -> None:
    values = SPACE.validate({"predictor_type": "regressor", "num_models": "16"})
    assert resolve(values, tuning=True).num_models == 1
    assert resolve(values).num_models == 16


def test_early_stopping_follows_an_explicit_criterion() -> None:
    raw = {
        "predictor_type": "binary_classifier",
        "binary_classifier_model_selection_criteria": "f_beta",
    }
    values = SPACE.validate(raw)
    assert resolve(values, frozenset(raw)).early_stop_on_criterion
    assert not resolve(values, frozenset({"predictor_type"})).early_stop_on_criterion


def test_the_image_resolves_to_linear_learner() -> None:
    spec = resolve_algorithm(
        training_image="382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
    )
    assert spec is not None and spec.name == "linear-learner"
    names = {definition["Name"] for definition in spec.metric_definitions}
    for name in (
        "train:objective_loss",
        "train:progress",
        "validation:objective_loss",
        "test:binary_f_beta",
        "test:roc_auc_score",
        "test:multiclass_top_k_accuracy",
        "test:dcg",
        "test:macro_f_beta",
        "validation:rmse",
        "test:mse",
        "test:absolute_loss",
    ):
        assert name in names
    assert spec.default_content_type == "application/x-recordio-protobuf"
    assert spec.channels == ("train", "validation", "test")


def test_the_sdks_older_criteria_names_are_understood() -> None:
    f1 = resolve(
        SPACE.validate(
            {
                "predictor_type": "binary_classifier",
                "binary_classifier_model_selection_criteria": "f1",
                "f_beta": "2",
            }
        )
    )
    assert (f1.selection_criterion, f1.selection_beta, f1.f_beta) == ("f_beta", 1.0, 2.0)
    loss = resolve(
        SPACE.validate(
            {
                "predictor_type": "binary_classifier",
                "binary_classifier_model_selection_criteria": "cross_entropy_loss",
            }
        )
    )
    assert loss.selection_criterion == "loss_function" and not loss.selects_by_threshold


def test_values_as_the_sagemaker_sdk_writes_them() -> None:
    values = SPACE.validate(
        {
            "predictor_type": '"binary_classifier"',
            "normalize_data": "True",
            "use_bias": "False",
            "unbias_data": "False",
            "feature_dim": "30",
            "mini_batch_size": "200",
        }
    )
    assert values["predictor_type"] == "binary_classifier"
    assert values["normalize_data"] is True and values["use_bias"] is False
