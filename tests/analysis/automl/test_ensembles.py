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
        ("randomforest", MULTICLASS),
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


def test_selection_keeps_the_best_round_not_the_last() -> None:
    truth = np.zeros(2)
    over, under = np.array([1.0, -1.0]), np.array([-0.9, 0.9])

    def score(labels: np.ndarray, predictions: np.ndarray) -> float:
        return ensembles.objective_score(REGRESSION, "MSE", labels, predictions)

    # Round 1 picks `under` (MSE 0.81), round 2 `over` (their mean: MSE 0.0025); round 3 can
    # only make that worse (0.071 at best), so the ensemble of round 2 is kept.
    weights = ensembles.select_weights([over, under], truth, score, rounds=3)
    assert weights.tolist() == [0.5, 0.5]
    assert score(truth, ensembles.combine([over, under], weights)) == pytest.approx(-0.0025)


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
    assert ensembles.base_models(("fastai", "nn-torch", "lightgbm")) == (
        "lightgbm",
        "mlp",
        ensembles.LIGHTGBM_XT,
        ensembles.LIGHTGBM_LARGE,
    )


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


# -- the second stacking layer and sample weights ---------------------------------------------


@pytest.mark.parametrize("problem_type", [BINARY, MULTICLASS, REGRESSION])
def test_layer_two_oof_is_cross_val_predict_on_the_augmented_features(problem_type: str) -> None:
    """No leakage: the stacker's OOF predictions are what scikit-learn's cross_val_predict
    gives on the original features plus the layer-1 models' cross_val_predict, same folds."""
    x, y, classes = _data(problem_type)
    splits = ensembles.folds(y, problem_type, count=3, seed=0)
    method = "predict" if problem_type == REGRESSION else "predict_proba"
    layer1 = []
    reference = []
    for algorithm in ("linear-learner", "extra-trees"):
        bag, oof = ensembles.fit_bagged(algorithm, problem_type, classes, x, y, splits, seed=0)
        layer1.append((algorithm, bag, oof))
        reference.append(
            cross_val_predict(
                ensembles.estimator(algorithm, problem_type, 0), x, y, cv=splits, method=method
            )
        )
    stacker, oof = ensembles.fit_stacker(
        "linear-learner", problem_type, classes, x, y, splits, layer1, seed=0
    )
    # The augmented features by hand: positive class (binary), every class, or the value.
    extra = [
        r[:, 1:] if problem_type == BINARY else r if problem_type == MULTICLASS else r[:, None]
        for r in reference
    ]
    augmented = np.hstack([x, *extra])
    assert augmented.shape[1] == x.shape[1] + (2 if problem_type != MULTICLASS else 2 * classes)
    expected = cross_val_predict(
        ensembles.estimator("linear-learner", problem_type, 0),
        augmented,
        y,
        cv=splits,
        method=method,
    )
    np.testing.assert_allclose(oof, expected, rtol=1e-7, atol=1e-10)
    # Served, the stacker reads the layer-1 bagged models' predictions on the same rows.
    served = stacker.predict(x[:7])
    by_hand = stacker.top.predict(
        ensembles.stack_features(x[:7], [b.predict(x[:7]) for _, b, _ in layer1], problem_type)
    )
    np.testing.assert_allclose(served, by_hand)
    assert stacker.layer1_names == ["linear-learner", "extra-trees"]


def test_an_ensemble_over_both_layers_predicts_each_layer_one_model_once() -> None:
    x, y, classes = _data(BINARY)
    splits = ensembles.folds(y, BINARY, count=2, seed=0)
    bag, oof = ensembles.fit_bagged("randomforest", BINARY, classes, x, y, splits, seed=0)
    stacker, stacked_oof = ensembles.fit_stacker(
        "lightgbm", BINARY, classes, x, y, splits, [("rf", bag, oof)], seed=0
    )
    calls = []
    original = bag.predict

    def counting(features: np.ndarray) -> np.ndarray:
        calls.append(len(features))
        return original(features)

    bag.predict = counting  # type: ignore[method-assign]
    ensemble = ensembles.WeightedEnsemble(BINARY, classes, [bag, stacker], [0.5, 0.5])
    values = ensemble.predict(x[:4])
    assert len(calls) == 1
    np.testing.assert_allclose(values, 0.5 * original(x[:4]) + 0.5 * stacker.predict(x[:4]))
    assert len(ensemble.fitted_models()) == 4  # the rf's two folds, reached twice


def test_weighted_metrics_equal_scikit_learn_with_sample_weight() -> None:
    from sklearn import metrics as m

    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 200).astype(float)
    scores = np.clip(truth * 0.6 + rng.normal(0.2, 0.3, 200), 0.01, 0.99)
    probabilities = np.column_stack([1 - scores, scores])
    weights = rng.uniform(0.1, 5.0, 200)
    values = ensembles.metrics(BINARY, truth, probabilities, weights)
    chosen = probabilities.argmax(axis=1)
    assert values["Accuracy"] == pytest.approx(
        m.accuracy_score(truth, chosen, sample_weight=weights)
    )
    assert values["F1"] == pytest.approx(m.f1_score(truth, chosen, sample_weight=weights))
    assert values["AUC"] == pytest.approx(m.roc_auc_score(truth, scores, sample_weight=weights))
    assert values["AUC"] != pytest.approx(m.roc_auc_score(truth, scores))
    assert values["LogLoss"] == pytest.approx(
        m.log_loss(truth, probabilities, sample_weight=weights)
    )
    target = rng.normal(size=100)
    guess = target + rng.normal(scale=0.5, size=100)
    w = rng.uniform(0, 3, 100)
    regression = ensembles.metrics(REGRESSION, target, guess, w)
    assert regression["MSE"] == pytest.approx(m.mean_squared_error(target, guess, sample_weight=w))
    assert regression["R2"] == pytest.approx(m.r2_score(target, guess, sample_weight=w))


@pytest.mark.parametrize("algorithm", ensembles.ALGORITHMS)
def test_every_base_model_takes_sample_weights(algorithm: str) -> None:
    """Each fold model is fitted with the rows' weights: a weight of zero is a row left out."""
    x, y, classes = _data(BINARY)
    x, y = x[:120], y[:120]
    splits = [(np.arange(0, 80), np.arange(80, 120))]
    weights = np.ones(120)
    weights[:40] = 0.0
    _, weighted = ensembles.fit_bagged(
        algorithm, BINARY, classes, x, y, splits, seed=0, weights=weights
    )
    dropped = ensembles.estimator(algorithm, BINARY, 0).fit(x[40:80], y[40:80])
    trees = ("lightgbm", "catboost", "xgboost", "randomforest", "extra-trees", "mlp")
    if ensembles.base_family(algorithm) in trees:
        # Tree learners and the MLP draw rows or bins over all rows, so a zero weight changes
        # their randomness; they must still differ from the unweighted fit.
        _, plain = ensembles.fit_bagged(algorithm, BINARY, classes, x, y, splits, seed=0)
        assert not np.allclose(weighted, plain)
    else:
        np.testing.assert_allclose(
            weighted[80:], dropped.predict_proba(x[80:]), rtol=1e-4, atol=1e-6
        )


@pytest.mark.parametrize(
    ("algorithm", "problem_type"),
    [("lightgbm", BINARY), ("catboost", MULTICLASS), ("xgboost", REGRESSION)],
)
def test_bagged_boosting_stops_early_on_the_held_out_fold_and_pickles(
    algorithm: str, problem_type: str
) -> None:
    """Each fold model stops PATIENCE rounds after its best loss on its held-out rows (far
    under the round cap on a small table), predicts with its best round, is the same for the
    same seed, still obeys the time limit, weighs the held-out rows too, and pickles."""
    import pickle

    x, y, classes = _data(problem_type)
    splits = ensembles.folds(y, problem_type, count=3, seed=0)
    bag, oof = ensembles.fit_bagged(algorithm, problem_type, classes, x, y, splits, seed=0)
    cap = ensembles.estimator(algorithm, problem_type, 0).get_params()[
        "iterations" if algorithm == "catboost" else "n_estimators"
    ]
    for model in bag.models:
        best = (
            model.get_best_iteration()
            if algorithm == "catboost"
            else model.best_iteration_
            if algorithm == "lightgbm"
            else model.best_iteration
        )
        built = (
            model.tree_count_
            if algorithm == "catboost"
            else model.booster_.current_iteration()
            if algorithm == "lightgbm"
            else model.get_booster().num_boosted_rounds()
        )
        assert 0 < best < cap and built <= best + ensembles.PATIENCE + 1 < cap
    again = pickle.loads(pickle.dumps(bag))
    np.testing.assert_array_equal(again.predict(x[:9]), bag.predict(x[:9]))
    _, same = ensembles.fit_bagged(algorithm, problem_type, classes, x, y, splits, seed=0)
    np.testing.assert_array_equal(same, oof)
    # Weighted rows (the held-out ones weigh the early-stopping loss) fit and pickle too.
    weights = np.ones(len(y))
    weights[::3] = 0.0
    weighted, _ = ensembles.fit_bagged(
        algorithm, problem_type, classes, x, y, splits, seed=0, weights=weights
    )
    assert pickle.loads(pickle.dumps(weighted)).predict(x[:3]).shape == bag.predict(x[:3]).shape
    # Both stop rules: a deadline already passed still fits one fold, and stops it at once.
    hurried, _ = ensembles.fit_bagged(
        algorithm, problem_type, classes, x, y, splits, seed=0, deadline=time.time()
    )
    assert len(hurried.models) == 1


def test_variants_belong_to_their_family_and_differ_from_its_model() -> None:
    """AlgorithmsConfig families bring their variants, after every family's own model; the
    entropy forests are classification only; the training image accepts every variant; and
    a variant's fit is its own (not the family model under another name)."""
    from sagebox.algorithms.automl_ensemble.spec import BASE_ALGORITHMS

    assert ensembles.base_models(("randomforest", "lightgbm")) == (
        "lightgbm",
        "randomforest",
        ensembles.LIGHTGBM_XT,
        ensembles.RANDOMFOREST_ENTROPY,
        ensembles.LIGHTGBM_LARGE,
    )
    assert ensembles.base_models(("extra-trees",), REGRESSION) == ("extra-trees",)
    assert ensembles.base_models(("nn-torch",)) == (ensembles.MLP,)
    assert set(ensembles.ALGORITHMS) <= set(BASE_ALGORITHMS)
    assert set(ensembles.DISPLAY_NAMES) >= set(ensembles.ALGORITHMS)
    with pytest.raises(ValueError, match="classification only"):
        ensembles.estimator(ensembles.EXTRA_TREES_ENTROPY, REGRESSION, 0)
    x, y, classes = _data(BINARY)
    splits = ensembles.folds(y, BINARY, count=3, seed=0)
    for variant, family in ensembles.VARIANTS.items():
        assert ensembles.base_family(variant) == family
        bag, oof = ensembles.fit_bagged(variant, BINARY, classes, x, y, splits, seed=0)
        _, plain = ensembles.fit_bagged(family, BINARY, classes, x, y, splits, seed=0)
        assert bag.algorithm == variant and not np.allclose(oof, plain)
        assert ensembles.metrics(BINARY, y, oof)["Accuracy"] > 0.85


@pytest.mark.parametrize("algorithm", sorted(ensembles.BOOSTING))
def test_early_stopping_leaves_out_a_class_the_fold_never_trained_on(algorithm: str) -> None:
    """A class with one row: the fold holding it trains without it; its row cannot weigh the
    early-stopping loss (CatBoost refuses it), so it is left out of it, not the fit failed."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] > 0).astype(float)
    y[0] = 2.0
    splits = ensembles.folds(y, MULTICLASS, count=3, seed=0)
    bag, oof = ensembles.fit_bagged(algorithm, MULTICLASS, 3, x, y, splits, seed=0)
    assert len(bag.models) == 3 and oof.shape == (60, 3)
    assert ensembles.metrics(MULTICLASS, y, oof)["Accuracy"] > 0.8


@pytest.mark.parametrize("problem_type", [BINARY, MULTICLASS, REGRESSION])
def test_objective_score_is_the_metric_each_objective_names(problem_type: str) -> None:
    """objective_score computes some objectives alone (ensemble selection calls it often):
    each equals `metrics`' value, sign-flipped for losses, with and without weights."""
    from sagebox.analysis.automl.problems import OBJECTIVES

    rng = np.random.default_rng(1)
    classes = {BINARY: 2, MULTICLASS: 4, REGRESSION: 0}[problem_type]
    if classes:
        labels = rng.integers(0, classes, 90).astype(float)
        predictions = rng.dirichlet(np.ones(classes), 90)
    else:
        labels, predictions = rng.normal(size=90), rng.normal(size=90)
    for weights in (None, rng.random(90)):
        every = ensembles.metrics(problem_type, labels, predictions, weights)
        for name, objective in OBJECTIVES[problem_type].items():
            expected = every[name] if objective.maximize else -every[name]
            got = ensembles.objective_score(problem_type, name, labels, predictions, weights)
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), name
