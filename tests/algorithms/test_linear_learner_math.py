"""Linear Learner's pure parts: losses, optimizers, normalisation, model grid, metrics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_softmax
from sklearn.metrics import f1_score, fbeta_score, precision_score, recall_score, roc_auc_score

from sagebox.algorithms.linear_learner.config import resolve
from sagebox.algorithms.linear_learner.grid import balanced_weight, model_grid
from sagebox.algorithms.linear_learner.hyperparameters import (
    LINEAR_LEARNER_HYPERPARAMETERS,
    REGRESSION_LOSSES,
)
from sagebox.algorithms.linear_learner.losses import LossParameters, link, loss_and_gradient
from sagebox.algorithms.linear_learner.metrics import (
    ThresholdCriterion,
    binary_metrics,
    multiclass_metrics,
    regression_metrics,
    tune_thresholds,
)
from sagebox.algorithms.linear_learner.optimizers import make_optimizer, soft_threshold
from sagebox.algorithms.linear_learner.scaler import fit_scaler

PARAMS = LossParameters(margin=0.8, loss_insensitivity=0.3, quantile=0.3, huber_delta=0.7)


def config(**hyperparameters: str):  # noqa: ANN201 - a TrainingConfig
    raw = {"predictor_type": "regressor", **hyperparameters}
    return resolve(LINEAR_LEARNER_HYPERPARAMETERS.validate(raw), frozenset(raw))


def numeric_gradient(name: str, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    step = 1e-6
    gradient = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        up, down = scores.copy(), scores.copy()
        up[index] += step
        down[index] -= step
        difference = loss_and_gradient(name, up, labels, PARAMS)[0].sum()
        difference -= loss_and_gradient(name, down, labels, PARAMS)[0].sum()
        gradient[index] = difference / (2 * step)
    return gradient


@pytest.mark.parametrize("name", ["logistic", "hinge_loss", *REGRESSION_LOSSES])
def test_gradients_match_finite_differences(name: str) -> None:
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(40, 3))
    if name in ("logistic", "hinge_loss"):
        labels = (rng.random(40) > 0.5).astype(np.float64)
    else:
        labels = rng.normal(size=40)
    loss, gradient = loss_and_gradient(name, scores.copy(), labels, PARAMS)
    assert loss.shape == scores.shape and np.all(loss >= 0)
    np.testing.assert_allclose(gradient, numeric_gradient(name, scores, labels), atol=1e-5)


def test_softmax_loss_and_gradient() -> None:
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(30, 4, 2)) * 3  # rows, classes, models
    labels = rng.integers(0, 4, size=30).astype(np.float64)
    loss, gradient = loss_and_gradient("softmax_loss", scores.copy(), labels, PARAMS)
    rows = np.arange(30)
    np.testing.assert_allclose(loss, -log_softmax(scores, axis=1)[rows, labels.astype(int), :])
    np.testing.assert_allclose(
        gradient, numeric_gradient("softmax_loss", scores, labels), atol=1e-5
    )


def test_losses_take_their_documented_values() -> None:
    scores = np.array([[2.0], [0.5], [-1.0]])
    labels = np.array([1.0, 1.5, 0.0])
    value = {
        name: loss_and_gradient(name, scores.copy(), labels, PARAMS)[0][:, 0]
        for name in REGRESSION_LOSSES
    }
    np.testing.assert_allclose(value["squared_loss"], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(value["absolute_loss"], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(value["eps_insensitive_absolute_loss"], [0.7, 0.7, 0.7])
    np.testing.assert_allclose(value["eps_insensitive_squared_loss"], [0.49, 0.49, 0.49])
    # quantile 0.3: an under-prediction costs 0.3 per unit, an over-prediction 0.7
    np.testing.assert_allclose(value["quantile_loss"], [0.7, 0.3, 0.3])
    np.testing.assert_allclose(value["huber_loss"], [0.7 * (1 - 0.35)] * 3)
    hinge = loss_and_gradient("hinge_loss", np.array([[2.0], [0.5]]), np.array([1.0, 0.0]), PARAMS)
    np.testing.assert_allclose(hinge[0][:, 0], [0.0, 1.3])


def test_logistic_loss_is_stable_for_large_margins() -> None:
    scores = np.array([[500.0], [-500.0], [30.0]], dtype=np.float32)
    labels = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    loss, gradient = loss_and_gradient("logistic", scores.copy(), labels, PARAMS)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(gradient))
    np.testing.assert_allclose(loss[:, 0], [500.0, 0.0, np.logaddexp(0, -30.0)], atol=1e-6)
    np.testing.assert_allclose(gradient[:, 0], [1.0, 0.0, -expit(-30.0)], atol=1e-7)


def test_link_functions() -> None:
    raw = np.array([[0.0, 1.0], [2.0, -1.0]])
    np.testing.assert_allclose(link("logistic", raw), expit(raw))
    np.testing.assert_allclose(link("softmax_loss", raw).sum(axis=1), [1.0, 1.0])
    np.testing.assert_array_equal(link("hinge_loss", raw), raw)


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop"])
def test_optimizers_minimise_a_quadratic_per_column(name: str) -> None:
    target = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    parameters = np.zeros_like(target)
    optimizer = make_optimizer(name, target.shape, momentum=0.5, beta_1=0.9, beta_2=0.999)
    rates = np.array([0.004, 0.006, 0.008])
    for _ in range(4000):
        optimizer.step(parameters, parameters - target, rates)
    np.testing.assert_allclose(parameters, target, atol=1e-2)


def test_l1_is_a_proximal_step_that_reaches_zero() -> None:
    values = np.array([3.0, -0.5, 0.2, -4.0])
    soft_threshold(values, np.array(1.0))
    np.testing.assert_array_equal(values, [2.0, 0.0, 0.0, -3.0])
    parameters = np.full((1, 2), 0.3)
    optimizer = make_optimizer("sgd", parameters.shape, momentum=0.0, beta_1=0.9, beta_2=0.999)
    for _ in range(50):
        optimizer.step(
            parameters, np.zeros_like(parameters), np.array([0.1, 0.1]), np.array([0.0, 1.0])
        )
    np.testing.assert_array_equal(parameters, [[0.3, 0.0]])


def test_normalisation_folds_back_into_raw_weights_dense_and_sparse() -> None:
    rng = np.random.default_rng(3)
    features = rng.normal(5.0, 3.0, size=(200, 4)) * np.array([1, 10, 0.1, 100])
    labels = features @ np.array([1.0, -0.2, 3.0, 0.01]) + 7 + rng.normal(size=200)
    for matrix in (features, sp.csr_matrix(features)):
        scaler = fit_scaler(
            matrix,
            labels,
            sample_size=10_000,
            normalize_data=True,
            unbias_data=True,
            normalize_label=True,
            unbias_label=True,
            rng=np.random.default_rng(0),
        )
        normalised, shift = scaler.apply(matrix, np.float64)
        weights, bias = rng.normal(size=4), np.array(0.3)
        scores = np.asarray(normalised @ weights) + bias
        if shift is not None:
            scores -= shift @ weights
        raw_weights, raw_bias = scaler.fold(weights, bias)
        expected = scores * scaler.label_scale + scaler.label_shift
        np.testing.assert_allclose(features @ raw_weights + raw_bias, expected, rtol=1e-9)
        assert sp.issparse(normalised) == sp.issparse(matrix)


def test_the_scaler_learns_from_a_sample_only() -> None:
    features = np.vstack([np.zeros((10, 2)), np.full((990, 2), 5.0)])
    scaler = fit_scaler(
        features,
        np.zeros(1000),
        sample_size=10,
        normalize_data=False,
        unbias_data=True,
        normalize_label=False,
        unbias_label=False,
        rng=np.random.default_rng(0),
    )
    np.testing.assert_array_equal(scaler.scale, [1.0, 1.0])
    assert 0 <= scaler.shift[0] <= 5.0


def test_the_model_grid_centres_on_the_given_values() -> None:
    settings = config(learning_rate="0.01", wd="0.001", l1="0", num_models="16")
    labels = np.zeros(10)
    grid = model_grid(settings, labels, np.random.default_rng(0))
    assert grid.num_models == 16
    assert grid.learning_rate[0] == 0.01 and grid.wd[0] == 0.001
    assert np.all((grid.learning_rate >= 0.001) & (grid.learning_rate <= 0.1))
    assert np.all((grid.wd >= 1e-4) & (grid.wd <= 1e-2))
    np.testing.assert_array_equal(grid.l1, 0.0)
    again = model_grid(settings, labels, np.random.default_rng(0))
    np.testing.assert_array_equal(again.learning_rate, grid.learning_rate)


def test_auto_regularisation_and_positive_weights_are_explored() -> None:
    settings = config(predictor_type="binary_classifier", positive_example_weight_mult="auto")
    labels = np.array([1.0] * 10 + [0.0] * 30)
    grid = model_grid(settings, labels, np.random.default_rng(0))
    assert grid.num_models == 32
    assert grid.wd[0] == 0.0 and grid.l1[0] == 0.0
    assert len(np.unique(grid.wd)) > 10 and np.count_nonzero(grid.l1) == 8
    assert set(np.round(grid.positive_weight, 6)) == {1.0, 3.0, round(np.sqrt(3.0), 6)}
    assert balanced_weight(labels) == 3.0
    balanced = model_grid(
        config(predictor_type="binary_classifier", positive_example_weight_mult="balanced"),
        labels,
        np.random.default_rng(0),
    )
    np.testing.assert_array_equal(balanced.positive_weight, 3.0)


def brute_force(scores: np.ndarray, labels: np.ndarray, criterion: ThresholdCriterion) -> float:
    positives = labels.sum()
    values = np.unique(scores)
    candidates = [values.max(), values.min() - 1, *((values[:-1] + values[1:]) / 2)]
    best = -np.inf
    for threshold in candidates:
        predicted = scores > threshold
        tp = np.sum(predicted & (labels == 1))
        count = predicted.sum()
        precision = tp / count if count else 1.0
        recall = tp / positives if positives else 0.0
        if criterion.name == "accuracy":
            value = np.mean(predicted == (labels == 1))
        elif criterion.name == "f_beta":
            beta2 = criterion.beta**2
            value = (
                (1 + beta2) * tp / (beta2 * positives + count) if beta2 * positives + count else 0
            )
        elif criterion.name == "precision_at_target_recall":
            value = precision if recall >= criterion.target_recall else -1.0
        else:
            value = recall if precision >= criterion.target_precision else -1.0
        best = max(best, value)
    return best


@pytest.mark.parametrize(
    "name", ["accuracy", "f_beta", "precision_at_target_recall", "recall_at_target_precision"]
)
def test_threshold_tuning_finds_the_best_cut_for_each_model(name: str) -> None:
    rng = np.random.default_rng(4)
    criterion = ThresholdCriterion(name, beta=2.0, target_precision=0.7, target_recall=0.6)
    for _ in range(50):
        rows = int(rng.integers(1, 40))
        scores = np.round(rng.random((3, rows)), 1)
        labels = (rng.random(rows) < 0.4).astype(np.float64)
        thresholds, values = tune_thresholds(scores, labels, criterion)
        for model in range(3):
            assert values[model] == pytest.approx(brute_force(scores[model], labels, criterion))
            if name == "accuracy":
                predicted = scores[model] > thresholds[model]
                assert np.mean(predicted == (labels == 1)) == pytest.approx(values[model])


def test_binary_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    labels = (rng.random(300) < 0.3).astype(np.float64)
    scores = np.clip(labels * 0.3 + rng.random(300) * 0.8, 0, 1)
    metrics = binary_metrics(scores, labels, 0.5, beta=2.0)
    predicted = scores > 0.5
    assert metrics["binary_classification_accuracy"] == pytest.approx(np.mean(predicted == labels))
    assert metrics["binary_f_beta"] == pytest.approx(fbeta_score(labels, predicted, beta=2.0))
    assert metrics["precision"] == pytest.approx(precision_score(labels, predicted))
    assert metrics["recall"] == pytest.approx(recall_score(labels, predicted))
    assert metrics["roc_auc_score"] == pytest.approx(roc_auc_score(labels, scores))


def test_multiclass_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(6)
    probabilities = rng.dirichlet(np.ones(4), size=200)
    labels = rng.integers(0, 4, size=200).astype(np.float64)
    metrics = multiclass_metrics(probabilities, labels, top_k=2, beta=1.0)
    predicted = probabilities.argmax(axis=1)
    assert metrics["multiclass_accuracy"] == pytest.approx(np.mean(predicted == labels))
    top2 = np.argsort(-probabilities, axis=1)[:, :2]
    assert metrics["multiclass_top_k_accuracy"] == pytest.approx(
        np.mean((top2 == labels[:, None]).any(axis=1))
    )
    assert metrics["macro_f_beta"] == pytest.approx(f1_score(labels, predicted, average="macro"))
    assert metrics["macro_precision"] == pytest.approx(
        precision_score(labels, predicted, average="macro", zero_division=0)
    )
    assert metrics["macro_recall"] == pytest.approx(
        recall_score(labels, predicted, average="macro")
    )
    rank = 1 + (probabilities > probabilities[np.arange(200), labels.astype(int)][:, None]).sum(1)
    assert metrics["dcg"] == pytest.approx(np.mean(1 / np.log2(rank + 1)))


def test_regression_metrics() -> None:
    metrics = regression_metrics(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0]))
    assert metrics == pytest.approx({"mse": 5 / 3, "rmse": np.sqrt(5 / 3), "absolute_loss": 1.0})
