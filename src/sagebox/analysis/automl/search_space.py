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
