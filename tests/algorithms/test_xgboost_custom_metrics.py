"""Metrics the algorithm computes itself because xgboost has no such metric."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    mean_squared_error,
    r2_score,
)

from sagebox.algorithms.xgboost.custom_metrics import class_labels, custom_metric
from sagebox.algorithms.xgboost.metrics import CONTAINER_METRICS, METRIC_NAMES


@pytest.mark.parametrize(
    ("objective", "predictions", "expected"),
    [
        ("binary:logistic", [0.2, 0.7, 0.5], [0, 1, 0]),
        ("binary:logitraw", [-1.0, 2.0, 0.0], [0, 1, 0]),
        ("binary:hinge", [0.0, 1.0, 1.0], [0, 1, 1]),
        ("multi:softmax", [2.0, 0.0, 1.0], [2, 0, 1]),
        ("reg:squarederror", [0.9, 2.2, -0.1], [1, 2, 0]),
    ],
)
def test_class_labels(objective: str, predictions: list[float], expected: list[int]) -> None:
    np.testing.assert_array_equal(class_labels(np.array(predictions), objective), expected)


def test_softprob_takes_the_most_probable_class() -> None:
    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    np.testing.assert_array_equal(class_labels(probabilities, "multi:softprob"), [1, 0])


def test_metrics_match_sklearn() -> None:
    labels = np.array([0, 1, 1, 0, 1], dtype=np.float32)
    probabilities = np.array([0.1, 0.8, 0.4, 0.6, 0.9], dtype=np.float32)
    data = xgb.DMatrix(np.zeros((5, 1), dtype=np.float32), label=labels)
    evaluate = custom_metric(["balanced_accuracy", "f1_binary", "mse", "r2"], "binary:logistic")
    results = dict(evaluate(probabilities, data))
    predicted = (probabilities > 0.5).astype(int)
    assert results["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(labels, predicted))
    assert results["f1_binary"] == pytest.approx(f1_score(labels, predicted))
    assert results["mse"] == pytest.approx(mean_squared_error(labels, probabilities))
    assert results["r2"] == pytest.approx(r2_score(labels, probabilities))


def test_instance_weights_only_when_the_job_asks() -> None:
    """SageMaker's container ignores instance weights; an AutoML job with sample weights asks
    for weighted metrics (its candidates' Environment), as Autopilot weighs its objective."""
    labels = np.array([0, 1, 1, 0, 1], dtype=np.float32)
    weights = np.array([1.0, 3.0, 0.5, 2.0, 0.0], dtype=np.float32)
    probabilities = np.array([0.1, 0.8, 0.4, 0.6, 0.9], dtype=np.float32)
    data = xgb.DMatrix(np.zeros((5, 1), dtype=np.float32), label=labels, weight=weights)
    predicted = (probabilities > 0.5).astype(int)
    names = ["accuracy", "f1_binary", "mse"]
    plain = dict(custom_metric(names, "binary:logistic")(probabilities, data))
    weighted = dict(custom_metric(names, "binary:logistic", weighted=True)(probabilities, data))
    assert plain["f1_binary"] == pytest.approx(f1_score(labels, predicted))
    assert weighted["f1_binary"] == pytest.approx(
        f1_score(labels, predicted, sample_weight=weights)
    )
    assert weighted["accuracy"] == pytest.approx(
        accuracy_score(labels, predicted, sample_weight=weights)
    )
    assert weighted["mse"] == pytest.approx(
        mean_squared_error(labels, probabilities, sample_weight=weights)
    )
    assert weighted["f1_binary"] != pytest.approx(plain["f1_binary"])
    # A matrix without weights: every row counts once, weighted or not.
    unweighted = xgb.DMatrix(np.zeros((5, 1), dtype=np.float32), label=labels)
    assert dict(
        custom_metric(names, "binary:logistic", weighted=True)(probabilities, unweighted)
    ) == (pytest.approx(dict(custom_metric(names, "binary:logistic")(probabilities, unweighted))))


def test_every_container_metric_is_implemented_and_published() -> None:
    custom_metric(list(CONTAINER_METRICS), "binary:logistic")
    assert set(CONTAINER_METRICS) <= set(METRIC_NAMES)
    with pytest.raises(ValueError, match="rmse"):
        custom_metric(["rmse"], "reg:squarederror")
