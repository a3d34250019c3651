"""Linear Learner quality and the cost of training many models at once.

Quality: sagebox's pure training code (``trainer.train_models``) against
scikit-learn on bundled data sets, on the same shuffled train/test splits (five
80/20 splits, stratified for classifiers; the mean is reported):

- binary: breast cancer, against ``LogisticRegression`` (C=1) on standardised features
- multiclass: digits, against multinomial ``LogisticRegression`` (C=1)
- regression: diabetes, against ``Ridge`` (alpha=1) on standardised features

sagebox gets the same regularisation (``wd = 1 / (C n)`` for the logistic losses,
``2 alpha / n`` for squared loss; its features are standardised by
``normalize_data``), ``l1=0``, one model and full-batch Adam steps until the loss
stops improving. Targets: accuracy at least 99% of the reference's, RMSE at most
101% of it.

Speed: training time with ``num_models=32`` against ``num_models=1``, same data
and settings otherwise (SageMaker's defaults: ``mini_batch_size=1000``, 15 epochs,
early stopping off so both run every epoch), on synthetic dense data for each
predictor type. Target: at most 3x. BLAS is limited to one thread so that the
figures do not depend on other load on the machine.

Run ``python bench/linear_learner.py``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sagebox.algorithms.linear_learner.config import resolve
from sagebox.algorithms.linear_learner.hyperparameters import LINEAR_LEARNER_HYPERPARAMETERS
from sagebox.algorithms.linear_learner.trainer import Dataset, TrainingResult, train_models

SPLITS = 5
REPEATS = 3
ACCURACY_TARGET = 0.99
RMSE_TARGET = 1.01
TIME_TARGET = 3.0
CONVERGE = {
    "num_models": "1",
    "l1": "0",
    "mini_batch_size": "5000",
    "use_lr_scheduler": "false",
    "learning_rate": "0.05",
    "epochs": "1000",
    "early_stopping_tolerance": "0.000001",
    "early_stopping_patience": "20",
    "binary_classifier_model_selection_criteria": "loss_function",
}


def fit(hyperparameters: dict[str, str], features: Any, labels: np.ndarray) -> TrainingResult:
    config = resolve(
        LINEAR_LEARNER_HYPERPARAMETERS.validate(hyperparameters), frozenset(hyperparameters)
    )
    return train_models(config, Dataset(features, labels.astype(np.float32)), seed=0)


def splits(loader: Callable[..., Any], stratify: bool) -> list[tuple[np.ndarray, ...]]:
    features, labels = loader(return_X_y=True)
    return [
        train_test_split(
            features.astype(np.float32),
            labels,
            test_size=0.2,
            random_state=seed,
            stratify=labels if stratify else None,
        )
        for seed in range(SPLITS)
    ]


def classifier_quality(name: str, loader: Callable[..., Any], multiclass: bool) -> dict[str, str]:
    ours, theirs = [], []
    for x_train, x_test, y_train, y_test in splits(loader, stratify=True):
        reference = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
        theirs.append(reference.fit(x_train, y_train).score(x_test, y_test))
        hyperparameters = {"wd": str(1.0 / len(x_train)), **CONVERGE}
        if multiclass:
            hyperparameters["predictor_type"] = "multiclass_classifier"
            hyperparameters["num_classes"] = str(len(np.unique(y_train)))
        else:
            hyperparameters["predictor_type"] = "binary_classifier"
        predicted = fit(hyperparameters, x_train, y_train).model.predict(x_test)
        ours.append(float(np.mean(predicted["predicted_label"] == y_test)))
    ratio = float(np.mean(ours) / np.mean(theirs))
    kind = "multinomial LogisticRegression" if multiclass else "LogisticRegression"
    return {
        "measure": f"{name}: test accuracy (mean of {SPLITS} splits)",
        "sagebox": f"{np.mean(ours):.4f}",
        "reference": f"{np.mean(theirs):.4f} (sklearn {kind}, C=1)",
        "ratio": f"{ratio:.4f}x",
        "target": f">= {ACCURACY_TARGET}x",
        "met": "yes" if ratio >= ACCURACY_TARGET else "no",
    }


def regression_quality() -> dict[str, str]:
    ours, theirs = [], []
    for x_train, x_test, y_train, y_test in splits(load_diabetes, stratify=False):
        reference = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x_train, y_train)
        theirs.append(float(np.sqrt(np.mean((reference.predict(x_test) - y_test) ** 2))))
        hyperparameters = {
            "predictor_type": "regressor",
            "wd": str(2.0 / len(x_train)),
            **CONVERGE,
        }
        predicted = fit(hyperparameters, x_train, y_train).model.predict(x_test)["score"]
        ours.append(float(np.sqrt(np.mean((predicted - y_test) ** 2))))
    ratio = float(np.mean(ours) / np.mean(theirs))
    return {
        "measure": f"diabetes (442 x 10): test RMSE (mean of {SPLITS} splits)",
        "sagebox": f"{np.mean(ours):.3f}",
        "reference": f"{np.mean(theirs):.3f} (sklearn Ridge, alpha=1)",
        "ratio": f"{ratio:.4f}x",
        "target": f"<= {RMSE_TARGET}x",
        "met": "yes" if ratio <= RMSE_TARGET else "no",
    }


def synthetic(predictor: str, rows: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    classes = 10 if predictor == "multiclass_classifier" else 2
    features, labels = make_classification(
        rows, width, n_informative=width // 2, n_classes=classes, random_state=0
    )
    if predictor == "regressor":
        weights = np.random.default_rng(0).normal(size=width)
        labels = features @ weights + np.random.default_rng(1).normal(size=rows)
    return features.astype(np.float32), labels.astype(np.float32)


def models_cost(predictor: str, rows: int, width: int) -> dict[str, str]:
    features, labels = synthetic(predictor, rows, width)
    base = {"predictor_type": predictor, "epochs": "15", "early_stopping_patience": "16"}
    if predictor == "multiclass_classifier":
        base["num_classes"] = "10"
    best = {"1": float("inf"), "32": float("inf")}
    for _ in range(REPEATS):
        for count in best:
            start = time.perf_counter()
            fit({**base, "num_models": count}, features, labels)
            best[count] = min(best[count], time.perf_counter() - start)
    ratio = best["32"] / best["1"]
    return {
        "measure": f"{predictor} ({rows} x {width}, synthetic): training seconds, "
        f"num_models=32 (best of {REPEATS})",
        "sagebox": f"{best['32']:.3f}",
        "reference": f"{best['1']:.3f} (num_models=1)",
        "ratio": f"{ratio:.2f}x",
        "target": f"<= {TIME_TARGET}x",
        "met": "yes" if ratio <= TIME_TARGET else "no",
    }


def run() -> dict[str, Any]:
    with threadpool_limits(limits=1, user_api="blas"):
        rows = [
            classifier_quality("breast cancer (569 x 30)", load_breast_cancer, multiclass=False),
            classifier_quality("digits (1797 x 64, 10 classes)", load_digits, multiclass=True),
            regression_quality(),
            models_cost("binary_classifier", 50_000, 100),
            models_cost("regressor", 50_000, 100),
            models_cost("multiclass_classifier", 20_000, 100),
        ]
    result = {
        "name": "linear_learner",
        "rows": rows,
        "notes": "Quality: the same five shuffled 80/20 splits for both (stratified for "
        "classifiers); sagebox with the reference's regularisation (wd = 1/(C n), or 2 alpha/n "
        "for squared loss), l1=0, num_models=1, full-batch Adam (learning_rate=0.05, no "
        "schedule) until the loss improves by less than 1e-6 for 20 epochs; the reference on "
        "StandardScaler features. Speed: the pure training code with SageMaker's defaults "
        "(mini_batch_size=1000, epochs=15, early stopping off), BLAS on one thread, best of "
        f"{REPEATS} interleaved runs; a multiclass model has one output per class, so 32 "
        "multiclass models carry 320 score columns against 10.",
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    run()
