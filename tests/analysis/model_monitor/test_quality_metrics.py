"""Model quality metrics against scikit-learn's, and the bounds' violations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from sagebox.analysis.model_monitor import quality_metrics as quality


def test_regression_metrics() -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(10, 3, size=300)
    predicted = truth + rng.normal(0, 1, size=300)
    found = quality.metrics("Regression", truth, predicted)
    assert found["mae"]["value"] == pytest.approx(sk.mean_absolute_error(truth, predicted))
    assert found["mse"]["value"] == pytest.approx(sk.mean_squared_error(truth, predicted))
    assert found["rmse"]["value"] == pytest.approx(np.sqrt(sk.mean_squared_error(truth, predicted)))
    assert found["r2"]["value"] == pytest.approx(sk.r2_score(truth, predicted))
    assert 0 < found["mae"]["standard_deviation"] < 0.2  # 300 samples: five 80% subsamples


def test_binary_classification_metrics() -> None:
    rng = np.random.default_rng(8)
    truth = rng.integers(0, 2, size=150)
    scores = np.clip(truth * 0.4 + rng.uniform(0, 0.6, size=150), 0, 1)
    predicted = (scores >= 0.5).astype(int)
    found = quality.metrics("BinaryClassification", truth, predicted, scores)
    assert found["precision"]["value"] == pytest.approx(sk.precision_score(truth, predicted))
    assert found["recall"]["value"] == pytest.approx(sk.recall_score(truth, predicted))
    assert found["accuracy"]["value"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert found["f1"]["value"] == pytest.approx(sk.f1_score(truth, predicted))
    assert found["f0_5"]["value"] == pytest.approx(sk.fbeta_score(truth, predicted, beta=0.5))
    assert found["f2"]["value"] == pytest.approx(sk.fbeta_score(truth, predicted, beta=2))
    assert found["auc"]["value"] == pytest.approx(sk.roc_auc_score(truth, scores))
    assert found["auc"]["standard_deviation"] == "NaN"  # under 200 samples
    matrix = sk.confusion_matrix(truth, predicted)
    assert found["confusion_matrix"] == {"0": {"0": matrix[0, 0], "1": matrix[0, 1]}, "1": {"0": matrix[1, 0], "1": matrix[1, 1]}}
    positives = truth.mean()
    assert found["precision_best_constant_classifier"]["value"] == pytest.approx(positives)
    assert found["recall_best_constant_classifier"]["value"] == 1.0
    curve = found["receiver_operating_characteristic_curve"]
    fpr, tpr, _ = sk.roc_curve(truth, scores, drop_intermediate=False)
    assert curve["false_positive_rates"][-1] == fpr[-1] == 1.0 and curve["true_positive_rates"][-1] == tpr[-1]


def test_multiclass_metrics_and_violations() -> None:
    rng = np.random.default_rng(9)
    truth = rng.choice(["cat", "dog", "fish"], size=240, p=[0.5, 0.3, 0.2])
    predicted = np.where(rng.uniform(size=240) < 0.7, truth, rng.choice(["cat", "dog", "fish"], size=240))
    found = quality.metrics("MulticlassClassification", truth.astype(object), predicted.astype(object))
    assert found["accuracy"]["value"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert found["weighted_precision"]["value"] == pytest.approx(sk.precision_score(truth, predicted, average="weighted"))
    assert found["weighted_recall"]["value"] == pytest.approx(sk.recall_score(truth, predicted, average="weighted"))
    assert found["weighted_f1"]["value"] == pytest.approx(sk.f1_score(truth, predicted, average="weighted"))
    assert found["weighted_f2"]["value"] == pytest.approx(sk.fbeta_score(truth, predicted, beta=2, average="weighted"))
    assert found["confusion_matrix"]["cat"]["dog"] == int(np.sum((truth == "cat") & (predicted == "dog")))
    bounds = quality.suggested_constraints("MulticlassClassification", found)["multiclass_classification_constraints"]
    assert bounds["accuracy"] == {"threshold": found["accuracy"]["value"], "comparison_operator": "LessThanThreshold"}
    worse = quality.metrics("MulticlassClassification", truth.astype(object), np.full(240, "cat", dtype=object))
    problems = quality.violations("MulticlassClassification", worse, {"multiclass_classification_constraints": bounds})
    assert {p["metric_name"] for p in problems} >= {"accuracy", "weighted_f1"}
    assert all(p["constraint_check_type"] == "LessThanThreshold" for p in problems)
