"""Autopilot's tabular problem types, their objective metrics and how the target decides them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BINARY, MULTICLASS, REGRESSION = "BinaryClassification", "MulticlassClassification", "Regression"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)
MIN_ROWS = 500
"""SageMaker Autopilot's smallest tabular training set."""
MAX_INFERRED_CLASSES = 50
"""An integer target with at most this many distinct values (and few per row) is read as classes."""


@dataclass(frozen=True)
class Objective:
    name: str
    """Autopilot's name (AutoMLJobObjective.MetricName): F1, Accuracy, MSE, ..."""
    xgboost_metric: str
    """The evaluation metric the XGBoost candidates report it as (``validation:<it>``)."""
    maximize: bool

    @property
    def type(self) -> str:
        return "Maximize" if self.maximize else "Minimize"


OBJECTIVES: dict[str, dict[str, Objective]] = {
    BINARY: {
        "F1": Objective("F1", "f1_binary", True),
        "Accuracy": Objective("Accuracy", "accuracy", True),
        "AUC": Objective("AUC", "auc", True),
        "BalancedAccuracy": Objective("BalancedAccuracy", "balanced_accuracy", True),
        "Precision": Objective("Precision", "precision", True),
        "Recall": Objective("Recall", "recall", True),
    },
    MULTICLASS: {
        "Accuracy": Objective("Accuracy", "accuracy", True),
        "BalancedAccuracy": Objective("BalancedAccuracy", "balanced_accuracy", True),
        "F1macro": Objective("F1macro", "f1_macro", True),
        "PrecisionMacro": Objective("PrecisionMacro", "precision_macro", True),
        "RecallMacro": Objective("RecallMacro", "recall_macro", True),
    },
    REGRESSION: {
        "MSE": Objective("MSE", "mse", False),
        "MAE": Objective("MAE", "mae", False),
        "R2": Objective("R2", "r2", True),
        "RMSE": Objective("RMSE", "rmse", False),
    },
}
DEFAULT_OBJECTIVES = {BINARY: "F1", MULTICLASS: "Accuracy", REGRESSION: "MSE"}


class DataError(Exception):
    """The data cannot make an AutoML job; the message says why, in SageMaker's terms."""


def objective_for(problem_type: str, metric: str | None) -> Objective:
    """The objective of a problem type (its default when none is named); DataError when the
    metric does not apply to the problem type."""
    allowed = OBJECTIVES[problem_type]
    name = metric or DEFAULT_OBJECTIVES[problem_type]
    if name not in allowed:
        raise DataError(
            f"AutoMLJobObjective.MetricName '{name}' is not valid for problem type {problem_type}; "
            f"valid metrics: {', '.join(allowed)}."
        )
    return allowed[name]


def is_integer_valued(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce")
    return bool(numbers.notna().all() and np.all(np.mod(numbers.to_numpy(dtype=float), 1) == 0))


def infer_problem_type(target: pd.Series) -> str:
    """Binary for two distinct values, multiclass for text or few integer values, else regression."""
    distinct = target.nunique(dropna=True)
    if distinct == 2:
        return BINARY
    numeric = pd.to_numeric(target, errors="coerce").notna().all()
    if not numeric:
        return MULTICLASS
    if (
        is_integer_valued(target)
        and distinct <= MAX_INFERRED_CLASSES
        and distinct <= max(3, len(target) // 10)
    ):
        return MULTICLASS
    return REGRESSION


def check_problem_type(problem_type: str, target: pd.Series, column: str) -> None:
    """DataError when the given problem type contradicts the target's values."""
    distinct = target.nunique(dropna=True)
    if problem_type == BINARY and distinct != 2:
        raise DataError(
            f"ProblemType is BinaryClassification but the target column '{column}' has {distinct} distinct "
            "values; binary classification needs exactly 2."
        )
    if problem_type == MULTICLASS and distinct < 3:
        raise DataError(
            f"ProblemType is MulticlassClassification but the target column '{column}' has {distinct} distinct "
            "values; multiclass classification needs at least 3."
        )
    if problem_type == REGRESSION and not pd.to_numeric(target, errors="coerce").notna().all():
        raise DataError(
            f"ProblemType is Regression but the target column '{column}' holds values that are not numbers "
            f"(e.g. {target[pd.to_numeric(target, errors='coerce').isna()].iloc[0]!r})."
        )
