"""What an AutoML job's candidates are: the XGBoost settings per problem type and the search space.

The tuning job of the ModelTuning step and the candidate definition notebook both read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sagebox.analysis.automl.problems import BINARY, MULTICLASS, OBJECTIVES, REGRESSION

EARLY_STOPPING_ROUNDS = 10
SEED = 0
PARAMETER_RANGES: dict[str, list[dict[str, str]]] = {
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
        {"Name": "subsample", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "Linear"},
        {
            "Name": "min_child_weight",
            "MinValue": "0.5",
            "MaxValue": "10",
            "ScalingType": "Logarithmic",
        },
    ],
    "IntegerParameterRanges": [
        {"Name": "max_depth", "MinValue": "2", "MaxValue": "8", "ScalingType": "Linear"},
        {"Name": "num_round", "MinValue": "20", "MaxValue": "200", "ScalingType": "Logarithmic"},
    ],
}


def _same(value: float) -> float:
    return value


def _complement(value: float) -> float:
    return 1.0 - value


def _square(value: float) -> float:
    return value * value


# XGBoost's own metrics (cheap: computed inside xgboost) every candidate also reports, and the
# Autopilot metrics they give: (Autopilot name, from the XGBoost value).
REPORTED_METRICS: dict[str, dict[str, list[tuple[str, Callable[[float], float]]]]] = {
    BINARY: {
        "auc": [("AUC", _same)],
        "error": [("Accuracy", _complement)],
        "logloss": [("LogLoss", _same)],
    },
    MULTICLASS: {"merror": [("Accuracy", _complement)], "mlogloss": [("LogLoss", _same)]},
    REGRESSION: {"rmse": [("RMSE", _same), ("MSE", _square)], "mae": [("MAE", _same)]},
}


def autopilot_metrics(problem_type: str, xgboost_values: dict[str, float]) -> dict[str, float]:
    """Autopilot's names and values for a candidate's final validation metrics (XGBoost's names);
    the objective's own metric wins over a value derived from another."""
    values: dict[str, float] = {}
    for metric, derived in REPORTED_METRICS[problem_type].items():
        if metric in xgboost_values:
            for name, convert in derived:
                values[name] = convert(xgboost_values[metric])
    for objective in OBJECTIVES[problem_type].values():
        if objective.xgboost_metric in xgboost_values:
            values[objective.name] = xgboost_values[objective.xgboost_metric]
    return values


def static_hyperparameters(problem_type: str, objective: str, classes: int) -> dict[str, str]:
    """The XGBoost hyperparameters every candidate of a job shares."""
    static = {
        "objective": {BINARY: "binary:logistic", MULTICLASS: "multi:softprob"}.get(
            problem_type, "reg:squarederror"
        ),
        "eval_metric": ",".join(
            dict.fromkeys(
                [
                    *REPORTED_METRICS[problem_type],
                    OBJECTIVES[problem_type][objective].xgboost_metric,
                ]
            )
        ),
        # Rounds stop once the objective has not improved on the validation split for this long.
        "early_stopping_rounds": str(EARLY_STOPPING_ROUNDS),
        "seed": str(SEED),
    }
    if problem_type == MULTICLASS:
        static["num_class"] = str(classes)
    return static


def tuning_objective(problem_type: str, objective: str) -> dict[str, Any]:
    chosen = OBJECTIVES[problem_type][objective]
    return {"Type": chosen.type, "MetricName": f"validation:{chosen.xgboost_metric}"}


# Linear Learner candidates (AlgorithmsConfig "linear-learner"): SageMaker's built-in linear models.
LINEAR_LEARNER = "linear-learner"
XGBOOST = "xgboost"
LINEAR_LEARNER_METRICS: dict[str, dict[str, str]] = {
    BINARY: {
        "F1": "binary_f_beta",
        "Accuracy": "binary_classification_accuracy",
        "AUC": "roc_auc_score",
        "Precision": "precision",
        "Recall": "recall",
    },
    MULTICLASS: {
        "Accuracy": "multiclass_accuracy",
        "F1macro": "macro_f_beta",
        "PrecisionMacro": "macro_precision",
        "RecallMacro": "macro_recall",
    },
    REGRESSION: {"MSE": "mse", "RMSE": "rmse", "MAE": "absolute_loss"},
}
"""Autopilot objective -> the Linear Learner validation metric that measures it (none for
BalancedAccuracy and R2: Linear Learner candidates cannot be tuned on those)."""
LINEAR_LEARNER_RANGES: dict[str, list[dict[str, str]]] = {
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.0001",
            "MaxValue": "0.5",
            "ScalingType": "Logarithmic",
        },
        {"Name": "wd", "MinValue": "0.0000001", "MaxValue": "0.1", "ScalingType": "Logarithmic"},
    ],
}


def linear_learner_hyperparameters(problem_type: str, classes: int) -> dict[str, str]:
    static = {
        "predictor_type": {BINARY: "binary_classifier", MULTICLASS: "multiclass_classifier"}.get(
            problem_type, "regressor"
        ),
        "feature_dim": "auto",
        "epochs": "10",
        "num_models": "8",
        "mini_batch_size": "100",
    }
    if problem_type == MULTICLASS:
        static["num_classes"] = str(classes)
    return static


def linear_learner_objective(problem_type: str, objective: str) -> dict[str, Any] | None:
    """The tuning objective of Linear Learner candidates, or None when it cannot measure `objective`."""
    metric = LINEAR_LEARNER_METRICS[problem_type].get(objective)
    if metric is None:
        return None
    return {"Type": OBJECTIVES[problem_type][objective].type, "MetricName": f"validation:{metric}"}


def linear_learner_autopilot_metrics(
    problem_type: str, values: dict[str, float]
) -> dict[str, float]:
    """Autopilot's names and values for a Linear Learner candidate's final validation metrics."""
    return {
        name: values[metric]
        for name, metric in LINEAR_LEARNER_METRICS[problem_type].items()
        if metric in values
    }
