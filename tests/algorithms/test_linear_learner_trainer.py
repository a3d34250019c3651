"""The vectorised trainer: reproducibility, model selection, losses and options at work."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sagebox.algorithms.linear_learner.config import resolve
from sagebox.algorithms.linear_learner.hyperparameters import LINEAR_LEARNER_HYPERPARAMETERS
from sagebox.algorithms.linear_learner.trainer import Dataset, TrainingResult, train_models


def fit(
    hyperparameters: dict[str, str],
    train: Dataset,
    validation: Dataset | None = None,
    seed: int = 0,
) -> TrainingResult:
    config = resolve(
        LINEAR_LEARNER_HYPERPARAMETERS.validate(hyperparameters), frozenset(hyperparameters)
    )
    return train_models(config, train, validation, seed=seed)


def binary_data(rows: int = 600, seed: int = 0, positive_share: float = 0.5) -> Dataset:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 6)).astype(np.float32)
    margin = features @ np.array([2.0, -1.0, 0.5, 0.0, 0.0, 1.0]) + rng.normal(size=rows)
    cut = np.quantile(margin, 1 - positive_share)
    return Dataset(features, (margin > cut).astype(np.float32))


def regression_data(rows: int = 500, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    features = rng.normal(3.0, 2.0, size=(rows, 5)).astype(np.float32)
    labels = features @ np.array([1.5, -2.0, 0.0, 0.5, 3.0]) + 40 + rng.normal(size=rows)
    return Dataset(features, labels.astype(np.float32))


def test_training_is_reproducible_for_a_seed() -> None:
    data = binary_data()
    first = fit({"predictor_type": "binary_classifier", "num_models": "8"}, data)
    again = fit({"predictor_type": "binary_classifier", "num_models": "8"}, data)
    np.testing.assert_array_equal(first.model.weights, again.model.weights)
    assert first.model.threshold == again.model.threshold
    other = fit({"predictor_type": "binary_classifier", "num_models": "8"}, data, seed=1)
    assert not np.array_equal(first.model.weights, other.model.weights)


def test_the_best_of_the_models_is_chosen_on_validation_data() -> None:
    train, validation = binary_data(seed=0), binary_data(seed=1)
    result = fit(
        {"predictor_type": "binary_classifier", "num_models": "6", "mini_batch_size": "50"},
        train,
        validation,
    )
    assert result.grid.num_models == 6 and 0 <= result.model_index < 6
    predicted = result.model.predict(validation.features)["predicted_label"]
    assert np.mean(predicted == validation.labels) > 0.85
    assert [report.epoch for report in result.history] == list(range(result.epochs_run))
    assert all(report.validation_loss is not None for report in result.history)


def test_the_threshold_is_tuned_for_the_criterion() -> None:
    data = binary_data(rows=800, positive_share=0.2)
    base = {"predictor_type": "binary_classifier", "num_models": "1", "mini_batch_size": "100"}
    recall = fit(
        {
            **base,
            "binary_classifier_model_selection_criteria": "recall_at_target_precision",
            "target_precision": "0.5",
        },
        data,
    ).model
    precision = fit(
        {
            **base,
            "binary_classifier_model_selection_criteria": "precision_at_target_recall",
            "target_recall": "0.95",
        },
        data,
    ).model
    positives = data.labels == 1
    found = recall.predict(data.features)["predicted_label"] == 1
    assert np.sum(found & positives) / np.sum(found) >= 0.5
    found = precision.predict(data.features)["predicted_label"] == 1
    assert np.sum(found & positives) / np.sum(positives) >= 0.95
    loss_based = fit({**base, "binary_classifier_model_selection_criteria": "loss_function"}, data)
    assert loss_based.model.threshold == 0.5


def test_balanced_positive_weights_raise_recall_on_rare_positives() -> None:
    data = binary_data(rows=1000, positive_share=0.1)
    base = {
        "predictor_type": "binary_classifier",
        "num_models": "1",
        "mini_batch_size": "50",
        "binary_classifier_model_selection_criteria": "loss_function",
    }
    plain = fit(base, data).model.predict(data.features)["predicted_label"]
    balanced = fit({**base, "positive_example_weight_mult": "balanced"}, data).model
    weighted = balanced.predict(data.features)["predicted_label"]
    positives = data.labels == 1
    assert np.sum(weighted[positives]) > np.sum(plain[positives])


def test_hinge_loss_scores_are_raw_margins() -> None:
    data = binary_data()
    model = fit(
        {
            "predictor_type": "binary_classifier",
            "loss": "hinge_loss",
            "num_models": "1",
            "mini_batch_size": "50",
            "binary_classifier_model_selection_criteria": "loss_function",
        },
        data,
    ).model
    answers = model.predict(data.features)
    assert model.threshold == 0.0 and answers["score"].min() < 0 < answers["score"].max()
    assert np.mean(answers["predicted_label"] == data.labels) > 0.85


def test_regression_undoes_label_and_feature_normalisation() -> None:
    data = regression_data()
    settings = {"predictor_type": "regressor", "num_models": "4", "mini_batch_size": "50"}
    model = fit(settings, data).model
    np.testing.assert_allclose(model.weights, [1.5, -2.0, 0.0, 0.5, 3.0], atol=0.15)
    assert float(model.bias) == pytest.approx(40, abs=1.0)


@pytest.mark.parametrize("quantile", [0.1, 0.9])
def test_quantile_loss_puts_the_quantile_of_labels_below(quantile: float) -> None:
    data = regression_data(rows=2000)
    model = fit(
        {
            "predictor_type": "regressor",
            "loss": "quantile_loss",
            "quantile": str(quantile),
            "num_models": "1",
            "epochs": "40",
            "mini_batch_size": "100",
        },
        data,
    ).model
    below = np.mean(data.labels < model.predict(data.features)["score"])
    assert below == pytest.approx(quantile, abs=0.05)


def test_l1_sets_useless_weights_to_zero() -> None:
    data = regression_data()
    model = fit(
        {"predictor_type": "regressor", "num_models": "1", "l1": "0.05", "epochs": "30"},
        data,
    ).model
    assert model.weights[2] == 0.0 and np.count_nonzero(model.weights) == 4


def test_without_a_bias_the_model_goes_through_the_origin() -> None:
    data = regression_data()
    model = fit({"predictor_type": "regressor", "num_models": "2", "use_bias": "false"}, data).model
    assert float(model.bias) == 0.0


def test_sparse_and_dense_rows_train_the_same_model() -> None:
    data = binary_data()
    settings = {"predictor_type": "binary_classifier", "num_models": "3", "unbias_data": "true"}
    dense = fit(settings, data).model
    sparse = fit(settings, Dataset(sp.csr_matrix(data.features), data.labels)).model
    np.testing.assert_allclose(sparse.weights, dense.weights, rtol=1e-3, atol=1e-4)


def test_early_stopping_ends_training_when_the_loss_stops_improving() -> None:
    data = regression_data()
    result = fit(
        {"predictor_type": "regressor", "epochs": "200", "early_stopping_patience": "2"}, data
    )
    assert result.stopped_early and result.epochs_run < 200
    patient = fit(
        {"predictor_type": "regressor", "epochs": "5", "early_stopping_patience": "10"}, data
    )
    assert not patient.stopped_early and patient.epochs_run == 5


def test_multiclass_with_balanced_class_weights() -> None:
    rng = np.random.default_rng(7)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    labels = np.repeat([0, 1, 2], [400, 60, 40])
    features = (centres[labels] + rng.normal(size=(500, 2))).astype(np.float32)
    data = Dataset(features, labels.astype(np.float32))
    result = fit(
        {
            "predictor_type": "multiclass_classifier",
            "num_classes": "3",
            "balance_multiclass_weights": "true",
            "num_models": "4",
            "mini_batch_size": "50",
        },
        data,
    )
    answers = result.model.predict(features)
    assert answers["score"].shape == (500, 3)
    np.testing.assert_allclose(answers["score"].sum(axis=1), 1.0)
    for label in range(3):
        assert np.mean(answers["predicted_label"][labels == label] == label) > 0.8


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_every_optimizer_learns(optimizer: str) -> None:
    data = binary_data()
    result = fit(
        {
            "predictor_type": "binary_classifier",
            "optimizer": optimizer,
            "num_models": "4",
            "mini_batch_size": "50",
        },
        data,
    )
    predicted = result.model.predict(data.features)["predicted_label"]
    assert np.mean(predicted == data.labels) > 0.85
