"""The open-data AutoML bench's pure helpers: scoring by the default objective and ranking."""

import math

import pytest
from bench.automl_open import higher_is_better, mean_ranks, rank, score


def test_binary_scores_f1_on_the_label_that_sorts_last():
    truth = ["no", "no", "yes", "yes"]
    measures = score("BinaryClassification", truth, ["no", "yes", "yes", "no"])
    assert measures["objective"] == pytest.approx(0.5)  # precision 1/2, recall 1/2 on "yes"
    assert measures["balanced_accuracy"] == pytest.approx(0.5)
    assert score("BinaryClassification", truth, ["no", "no", "yes", "no"])[
        "objective"
    ] == pytest.approx(2 / 3)


def test_multiclass_scores_accuracy_and_regression_mse():
    assert score("MulticlassClassification", ["a", "b", "c"], ["a", "b", "b"])[
        "objective"
    ] == pytest.approx(2 / 3)
    regression = score("Regression", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert regression["objective"] == pytest.approx(4 / 3)
    assert regression["R2"] == pytest.approx(1 - 4 / 2)
    assert not higher_is_better("Regression") and higher_is_better("BinaryClassification")


def test_score_refuses_a_short_prediction_list():
    with pytest.raises(ValueError, match="2 predictions for 3 test rows"):
        score("Regression", [1, 2, 3], [1, 2])


def test_rank_orders_by_direction_shares_ties_and_puts_failures_last():
    assert rank({"a": 0.9, "b": 0.7, "c": 0.8}, True) == {"a": 1, "c": 2, "b": 3}
    assert rank({"a": 0.9, "b": 0.7, "c": 0.8}, False) == {"b": 1, "c": 2, "a": 3}
    assert rank({"a": 0.5, "b": 0.5, "c": 0.1}, True) == {"a": 1.5, "b": 1.5, "c": 3}
    assert rank({"a": math.nan, "b": 0.2, "c": 0.1}, True) == {"b": 1, "c": 2, "a": 3}
    assert rank({"a": math.nan, "b": 2.0, "c": 1.0}, False) == {"c": 1, "b": 2, "a": 3}


def test_mean_ranks_average_over_data_sets():
    means = mean_ranks([{"x": 1, "y": 2, "z": 3}, {"x": 3, "y": 1.5, "z": 1.5}])
    assert means == {"x": 2.0, "y": 1.75, "z": 2.25}
