"""ENSEMBLING's models against scikit-learn: bagging's out-of-fold predictions are
cross_val_predict's, ensemble selection picks what it should, and every base model fits."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import cross_val_predict

from sagebox.analysis.automl import ensembles
from sagebox.analysis.automl.problems import BINARY, MULTICLASS, REGRESSION


def _data(problem_type: str) -> tuple[np.ndarray, np.ndarray, int]:
    if problem_type == BINARY:
        x, y = load_breast_cancer(return_X_y=True)
        return x[:300], y[:300].astype(float), 2
    if problem_type == MULTICLASS:
        x, y = load_iris(return_X_y=True)
        return x, y.astype(float), 3
    x, y = load_diabetes(return_X_y=True)
    return x[:300], y[:300], 0


@pytest.mark.parametrize(
    ("algorithm", "problem_type"),
    [
        ("randomforest", BINARY),
        ("linear-learner", MULTICLASS),
        ("extra-trees", REGRESSION),
        ("lightgbm", BINARY),
    ],
)
def test_out_of_fold_predictions_are_cross_val_predict(algorithm: str, problem_type: str) -> None:
    x, y, classes = _data(problem_type)
    splits = ensembles.folds(y, problem_type, count=3, seed=0)
    bag, oof = ensembles.fit_bagged(algorithm, problem_type, classes, x, y, splits, seed=0)
    method = "predict" if problem_type == REGRESSION else "predict_proba"
    expected = cross_val_predict(
        ensembles.estimator(algorithm, problem_type, 0), x, y, cv=splits, method=method
    )
    np.testing.assert_allclose(oof, expected, rtol=1e-9, atol=1e-12)
    assert len(bag.models) == 3
    # The bagged model predicts the mean of its fold models.
    mean = np.mean(
        [m.predict_proba(x[:5]) if classes else m.predict(x[:5]) for m in bag.models], axis=0
    )
    np.testing.assert_allclose(bag.predict(x[:5]), mean)


def test_folds_are_stratified_and_deterministic() -> None:
    _, y, _ = _data(BINARY)
    first = ensembles.folds(y, BINARY, count=2, seed=3)
    again = ensembles.folds(y, BINARY, count=2, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    assert sorted(np.concatenate([held for _, held in first]).tolist()) == list(range(len(y)))
    shares = [y[held].mean() for _, held in first]
    assert abs(shares[0] - shares[1]) < 0.01


def test_selection_prefers_the_better_model_and_mixes_when_it_helps() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=400)
    good = truth + rng.normal(scale=0.5, size=400)
    bad = truth + rng.normal(scale=3.0, size=400)

    def score(labels: np.ndarray, predictions: np.ndarray) -> float:
        return ensembles.objective_score(REGRESSION, "MSE", labels, predictions)

    weights = ensembles.select_weights([bad, good], truth, score, rounds=20)
    assert weights[1] > 0.8 and abs(weights.sum() - 1) < 1e-12
    # Two equally good, independent errors: the average beats either, so both are picked.
    other = truth + rng.normal(scale=0.5, size=400)
    weights = ensembles.select_weights([good, other], truth, score, rounds=20)
    assert 0.3 <= weights[0] <= 0.7
    combined = ensembles.combine([good, other], weights)
    assert score(truth, combined) > max(score(truth, good), score(truth, other))


def test_every_base_model_fits_and_the_ensemble_is_at_least_as_good_on_oof() -> None:
    x, y, classes = _data(MULTICLASS)
    splits = ensembles.folds(y, MULTICLASS, count=2, seed=0)
    oofs = []
    for algorithm in ensembles.ALGORITHMS:
        _, oof = ensembles.fit_bagged(algorithm, MULTICLASS, classes, x, y, splits)
        assert oof.shape == (len(y), 3)
        np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-6)
        oofs.append(oof)

    def score(labels: np.ndarray, predictions: np.ndarray) -> float:
        return ensembles.objective_score(MULTICLASS, "Accuracy", labels, predictions)

    weights = ensembles.select_weights(oofs, y, score, rounds=10)
    assert score(y, ensembles.combine(oofs, weights)) >= max(score(y, o) for o in oofs)


def test_metrics_match_scikit_learn() -> None:
    from sklearn.metrics import f1_score, roc_auc_score

    truth = np.array([0, 1, 1, 0, 1, 0], dtype=float)
    scores = np.array([0.2, 0.7, 0.4, 0.1, 0.9, 0.6])
    values = ensembles.metrics(BINARY, truth, np.column_stack([1 - scores, scores]))
    assert values["AUC"] == pytest.approx(roc_auc_score(truth, scores))
    assert values["F1"] == pytest.approx(f1_score(truth, scores > 0.5))
    assert ensembles.base_models(("fastai", "nn-torch", "lightgbm")) == ("lightgbm", "mlp")


def test_a_deadline_stops_bagging_after_the_folds_that_fit() -> None:
    x, y, classes = _data(BINARY)
    splits = ensembles.folds(y, BINARY, count=3, seed=0)
    bag, oof = ensembles.fit_bagged(
        "lightgbm", BINARY, classes, x, y, splits, deadline=time.time() - 1
    )
    assert len(bag.models) == 1  # the first fold always fits; no other starts late
    assert oof.shape == (len(y), 2) and np.isfinite(oof).all()
    started = time.time()
    bag, _ = ensembles.fit_bagged(
        "catboost", BINARY, classes, x, y, splits, deadline=time.time() + 0.5
    )
    assert time.time() - started < 2.0
    assert bag.models[0].tree_count_ < 300  # boosting stopped adding rounds in time


def test_a_boosted_bag_fitted_with_a_deadline_pickles() -> None:
    import pickle

    x, y, classes = _data(BINARY)
    splits = ensembles.folds(y, BINARY, count=2, seed=0)
    bag, _ = ensembles.fit_bagged(
        "xgboost", BINARY, classes, x, y, splits, deadline=time.time() + 30
    )
    restored = pickle.loads(pickle.dumps(bag))
    assert np.allclose(restored.models[0].predict_proba(x[:5]), bag.models[0].predict_proba(x[:5]))


def test_the_model_server_loads_a_saved_ensemble_with_catboost_first(tmp_path: Any) -> None:
    import joblib

    from sagebox.serving.handlers import automl_ensemble

    x, y, _ = _data(REGRESSION)
    splits = ensembles.folds(y, REGRESSION, count=2, seed=0)
    bags = [
        ensembles.fit_bagged(a, REGRESSION, 0, x, y, splits)[0]
        for a in ("catboost", "linear-learner")
    ]
    model = ensembles.WeightedEnsemble(REGRESSION, 0, bags, [0.5, 0.5])
    joblib.dump(model, tmp_path / automl_ensemble.MODEL_FILE)
    handler = automl_ensemble.load(tmp_path)
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in x[:3]).encode()
    answer, _ = handler.predict(body, "text/csv", "text/csv")
    served = [float(line) for line in answer.decode().split()]
    np.testing.assert_allclose(served, model.predict(x[:3]))
    with pytest.raises(automl_ensemble.BadRequest, match="10 feature values; got 2"):
        handler.predict(b"1,2\n", "text/csv", "text/csv")
