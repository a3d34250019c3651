"""How the platform recognises and runs the ENSEMBLING mode's training jobs.

Autopilot builds its ensembling mode on AutoGluon, whose deep learning container images
are ``autogluon-training`` and ``autogluon-inference``; sagebox runs a job on either image
as one bagged base model, or the weighted ensemble over them
(``sagebox.analysis.automl.ensembles``), and serves their models. Imported with the
registry, so it stays light: no numpy-heavy modules here.
"""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.amazon.metrics import metric_definition
from sagebox.algorithms.hyperparameters import (
    Categorical,
    Continuous,
    HyperparameterSpace,
    Integer,
    Text,
)

TRAINING_REPOSITORY, INFERENCE_REPOSITORY = "autogluon-training", "autogluon-inference"
BASE_ALGORITHMS = (
    "lightgbm",
    "catboost",
    "xgboost",
    "randomforest",
    "extra-trees",
    "linear-learner",
    "mlp",
    "nn-torch",
    "fastai",
    "lightgbm-xt",
    "lightgbm-large",
    "randomforest-entropy",
    "extra-trees-entropy",
)
ENSEMBLE = "weighted-ensemble"
PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
OBJECTIVES = (
    "F1",
    "Accuracy",
    "AUC",
    "BalancedAccuracy",
    "Precision",
    "Recall",
    "F1macro",
    "PrecisionMacro",
    "RecallMacro",
    "MSE",
    "MAE",
    "R2",
    "RMSE",
)
REPORTED = (*OBJECTIVES, "LogLoss")
LOSSES = frozenset({"MSE", "MAE", "RMSE", "LogLoss"})

HYPERPARAMETERS = HyperparameterSpace(
    Categorical("algorithm", (*BASE_ALGORITHMS, ENSEMBLE), required=True),
    Categorical("problem_type", PROBLEM_TYPES, required=True),
    Categorical("objective", OBJECTIVES, required=True),
    Integer("num_classes", default=0, min=0, max=100_000),
    Integer("folds", default=5, min=2, max=20),
    Integer("seed", default=0, min=0),
    Continuous("time_limit", min=0, min_open=True),
    Integer("selection_rounds", default=25, min=1, max=1000),
    Text("base_models", default=""),
    Integer("stack_level", default=1, min=1, max=2),
    Integer("sample_weights", default=0, min=0, max=1),
    Text("notes", default=""),
)


def _definitions() -> tuple[dict[str, str], ...]:
    return tuple(
        metric_definition(f"{channel}:{metric}", "loss" if metric in LOSSES else "score")
        for channel in ("validation", "train_oof")
        for metric in REPORTED
    )


AUTOML_ENSEMBLE = AlgorithmSpec(
    name="automl-ensemble",
    image_repositories=(TRAINING_REPOSITORY, INFERENCE_REPOSITORY),
    entry_module="sagebox.algorithms.automl_ensemble",
    serving_module="sagebox.serving.handlers.automl_ensemble",
    hyperparameters=HYPERPARAMETERS,
    metric_definitions=_definitions(),
    channels=("train", "validation", "models"),
    required_channels=("train", "validation"),
    content_types=("text/csv", "csv"),
    default_content_type="text/csv",
)
