"""Linear Learner against scikit-learn on bundled data sets, same train/test split.

With the same regularisation as the reference (sklearn's ``C`` or ``alpha`` turned
into ``wd``), one model and full-batch steps, training converges to the reference's
solution: accuracy and RMSE within 1% (relative), and close predictions.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sagebox.algorithms.linear_learner.config import resolve
from sagebox.algorithms.linear_learner.hyperparameters import LINEAR_LEARNER_HYPERPARAMETERS
from sagebox.algorithms.linear_learner.trainer import Dataset, TrainingResult, train_models

CONVERGE = {
    "num_models": "1",
    "l1": "0",
    "mini_batch_size": "5000",
    "use_lr_scheduler": "false",
    "learning_rate": "0.05",
    "epochs": "800",
    "early_stopping_tolerance": "0.000001",
    "early_stopping_patience": "20",
}


def fit(
    hyperparameters: dict[str, str], features: np.ndarray, labels: np.ndarray
) -> TrainingResult:
    config = resolve(
        LINEAR_LEARNER_HYPERPARAMETERS.validate(hyperparameters), frozenset(hyperparameters)
    )
    return train_models(config, Dataset(features, labels.astype(np.float32)), seed=0)


def split(loader, stratify: bool = True):  # noqa: ANN001, ANN201 - sklearn loaders and tuples
    features, labels = loader(return_X_y=True)
    return train_test_split(
        features.astype(np.float32),
        labels,
        test_size=0.2,
        random_state=0,
        stratify=labels if stratify else None,
    )


def test_binary_classifier_matches_logistic_regression() -> None:
    x_train, x_test, y_train, y_test = split(load_breast_cancer)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    reference.fit(x_train, y_train)
    hyperparameters = {
        "predictor_type": "binary_classifier",
        "wd": str(1.0 / len(x_train)),
        "binary_classifier_model_selection_criteria": "loss_function",
        **CONVERGE,
    }
    model = fit(hyperparameters, x_train, y_train).model
    answers = model.predict(x_test)
    accuracy = np.mean(answers["predicted_label"] == y_test)
    assert accuracy >= 0.99 * reference.score(x_test, y_test)
    np.testing.assert_allclose(answers["score"], reference.predict_proba(x_test)[:, 1], atol=0.02)
    assert model.threshold == 0.5


@pytest.mark.parametrize("loader", [load_wine, load_digits])
def test_multiclass_classifier_matches_multinomial_logistic_regression(loader) -> None:  # noqa: ANN001
    x_train, x_test, y_train, y_test = split(loader)
    classes = len(np.unique(y_train))
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    reference.fit(x_train, y_train)
    hyperparameters = {
        "predictor_type": "multiclass_classifier",
        "num_classes": str(classes),
        "wd": str(1.0 / len(x_train)),
        **CONVERGE,
    }
    answers = fit(hyperparameters, x_train, y_train).model.predict(x_test)
    accuracy = np.mean(answers["predicted_label"] == y_test)
    assert accuracy >= 0.99 * reference.score(x_test, y_test)
    np.testing.assert_allclose(answers["score"], reference.predict_proba(x_test), atol=0.05)


def test_regressor_matches_ridge() -> None:
    x_train, x_test, y_train, y_test = split(load_diabetes, stratify=False)
    alpha = 1.0
    reference = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(x_train, y_train)
    expected = reference.predict(x_test)
    # Ridge: sum of squares + alpha |w|^2; Linear Learner: mean of squares + wd / 2 |w|^2
    hyperparameters = {
        "predictor_type": "regressor",
        "wd": str(2 * alpha / len(x_train)),
        **CONVERGE,
    }
    model = fit(hyperparameters, x_train, y_train).model
    predicted = model.predict(x_test)["score"]
    rmse = np.sqrt(np.mean((predicted - y_test) ** 2))
    assert rmse <= 1.01 * np.sqrt(np.mean((expected - y_test) ** 2))
    np.testing.assert_allclose(predicted, expected, atol=0.5)
    coefficients = reference[-1].coef_ / reference[0].scale_
    np.testing.assert_allclose(model.weights, coefficients, rtol=0.02, atol=0.5)


def test_default_settings_with_a_validation_channel_learn_a_good_model() -> None:
    x_train, x_test, y_train, y_test = split(load_breast_cancer)
    x_fit, x_valid, y_fit, y_valid = train_test_split(
        x_train, y_train, test_size=0.25, random_state=0, stratify=y_train
    )
    config = resolve(
        LINEAR_LEARNER_HYPERPARAMETERS.validate(
            {"predictor_type": "binary_classifier", "mini_batch_size": "50"}
        )
    )
    result = train_models(
        config,
        Dataset(x_fit, y_fit.astype(np.float32)),
        Dataset(x_valid, y_valid.astype(np.float32)),
        seed=0,
    )
    assert result.grid.num_models == 32
    assert np.mean(result.model.predict(x_test)["predicted_label"] == y_test) >= 0.94
