"""Runs one reference AutoML system on one data set; executed by the reference venv (.venv-automl-ref).

    .venv-automl-ref/bin/python bench/automl_ref_runner.py SYSTEM WORKDIR BUDGET PROBLEM_TYPE

WORKDIR holds train.csv (features and a ``target`` column) and test.csv (features only).
SYSTEM is ``autogluon`` (TabularPredictor, presets="medium_quality", time_limit=BUDGET) or
``flaml`` (AutoML, time_budget=BUDGET). Each optimises the objective SageMaker Autopilot uses
by default for the problem type (binary F1 on the label that sorts last, multiclass accuracy,
regression MSE). Writes WORKDIR/SYSTEM.json: the test predictions, in test.csv's order, and
how long fitting and predicting took. Scoring is left to the caller so that all systems are
scored by the same code. Imports nothing from sagebox: this venv does not have it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

TARGET = "target"


def _autogluon(train: pd.DataFrame, test: pd.DataFrame, budget: int, problem: str) -> list:
    from autogluon.tabular import TabularPredictor

    kinds = {
        "BinaryClassification": "binary",
        "MulticlassClassification": "multiclass",
        "Regression": "regression",
    }
    metrics = {
        "BinaryClassification": "f1",
        "MulticlassClassification": "accuracy",
        "Regression": "mean_squared_error",
    }
    options = {}
    if problem == "BinaryClassification":
        options["positive_class"] = sorted(train[TARGET].unique())[-1]
    with tempfile.TemporaryDirectory(prefix="sagebox-autogluon-") as path:
        predictor = TabularPredictor(
            label=TARGET,
            problem_type=kinds[problem],
            eval_metric=metrics[problem],
            path=path,
            verbosity=0,
            **options,
        )
        predictor.fit(train, presets="medium_quality", time_limit=budget)
        return predictor.predict(test).tolist()


def _flaml(train: pd.DataFrame, test: pd.DataFrame, budget: int, problem: str) -> list:
    from flaml import AutoML

    automl = AutoML()
    task = "regression" if problem == "Regression" else "classification"
    metric = {
        "BinaryClassification": "f1",
        "MulticlassClassification": "accuracy",
        "Regression": "mse",
    }[problem]
    features, label = train.drop(columns=[TARGET]), train[TARGET]
    automl.fit(features, label, task=task, metric=metric, time_budget=budget, seed=0, verbose=0)
    return list(automl.predict(test))


def main(system: str, workdir: str, budget: str, problem: str) -> None:
    folder = Path(workdir)
    dtype = None if problem == "Regression" else {TARGET: str}
    train = pd.read_csv(folder / "train.csv", dtype=dtype)
    test = pd.read_csv(folder / "test.csv")
    started = time.time()
    predicted = {"autogluon": _autogluon, "flaml": _flaml}[system](
        train, test, int(budget), problem
    )
    took = time.time() - started
    values = [float(v) if problem == "Regression" else str(v) for v in predicted]
    (folder / f"{system}.json").write_text(json.dumps({"predictions": values, "seconds": took}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
