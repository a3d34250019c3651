"""What an AutoML job's candidates are: the XGBoost settings per problem type and the search space.

The tuning job of the ModelTuning step and the candidate definition notebook both read it.
"""

from __future__ import annotations

from typing import Any

from sagebox.analysis.automl.problems import BINARY, MULTICLASS, OBJECTIVES

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


def static_hyperparameters(problem_type: str, objective: str, classes: int) -> dict[str, str]:
    """The XGBoost hyperparameters every candidate of a job shares."""
    static = {
        "objective": {BINARY: "binary:logistic", MULTICLASS: "multi:softprob"}.get(
            problem_type, "reg:squarederror"
        ),
        "eval_metric": OBJECTIVES[problem_type][objective].xgboost_metric,
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
