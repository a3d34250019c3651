"""Evaluates the trained XGBoost model on the test set and writes evaluation.json.

The abalone example's evaluation step: the report's regression_metrics.mse.value is what
the pipeline's condition reads through a PropertyFile and JsonGet.
"""

import json
import os
import tarfile

import numpy as np
import pandas as pd
import xgboost

BASE = "/opt/ml/processing"

if __name__ == "__main__":
    with tarfile.open(f"{BASE}/model/model.tar.gz") as archive:
        archive.extractall(path=".")
    booster = xgboost.Booster()
    booster.load_model("xgboost-model")
    test = pd.read_csv(f"{BASE}/test/test.csv", header=None)
    labels, features = test.iloc[:, 0].to_numpy(), test.iloc[:, 1:].to_numpy()
    predictions = booster.predict(xgboost.DMatrix(features))
    errors = (labels - predictions) ** 2
    report = {
        "regression_metrics": {
            "mse": {"value": float(errors.mean()), "standard_deviation": float(np.std(errors))}
        }
    }
    os.makedirs(f"{BASE}/evaluation", exist_ok=True)
    with open(f"{BASE}/evaluation/evaluation.json", "w") as handle:
        json.dump(report, handle)
    print("mse", report["regression_metrics"]["mse"]["value"])
