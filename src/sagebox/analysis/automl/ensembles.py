"""Autopilot's ENSEMBLING mode, the models: k-fold bagged base models and a weighted ensemble.

Every base model (LightGBM, CatBoost, XGBoost, random forest, extra trees, a linear model,
scikit-learn's MLP) is bagged: one copy is fitted per fold on the other folds, its
predictions on the held-out fold are the model's out-of-fold (OOF) predictions, and the
bagged model predicts the mean of its copies. One stacking layer follows: greedy ensemble
selection (Caruana et al., 2004, as AutoGluon's WeightedEnsemble does it) picks, with
replacement, the base model whose addition best improves the objective on the OOF
predictions; the picks' counts are the weights.

scikit-learn and the boosting libraries are imported where used: the server imports this
module for its names only. Everything is deterministic for a given seed: the folds, every model's random state, and
ensemble selection (ties go to the earlier model). Pure: no service imports; the ensembling
training jobs (``sagebox.algorithms.automl_ensemble``) and their model server use it.

Predictions are class probabilities, shape (rows, classes), for classification (labels
are class indices 0..classes-1) and values, shape (rows,), for regression.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sagebox.analysis.automl.problems import BINARY, MULTICLASS, OBJECTIVES, REGRESSION

WEIGHTED_ENSEMBLE = "weighted-ensemble"
MLP = "mlp"
ALGORITHMS = (
    "lightgbm",
    "catboost",
    "xgboost",
    "randomforest",
    "extra-trees",
    "linear-learner",
    MLP,
)
"""The base models sagebox fits, in the order they are trained and listed."""
ALIASES = {"nn-torch": MLP, "fastai": MLP}
"""Autopilot's neural networks (PyTorch, fastai) are scikit-learn's MLP here."""
DISPLAY_NAMES = {
    "lightgbm": "LightGBM",
    "catboost": "CatBoost",
    "xgboost": "XGBoost",
    "randomforest": "RandomForest",
    "extra-trees": "ExtraTrees",
    "linear-learner": "Linear",
    MLP: "NeuralNet",
    WEIGHTED_ENSEMBLE: "WeightedEnsemble",
}
DEFAULT_FOLDS = 5
SELECTION_ROUNDS = 25


class TimeLimitReached(Exception):
    """Not even one fold of a base model could be fitted within its time limit."""


def canonical(algorithm: str) -> str:
    return ALIASES.get(algorithm, algorithm)


def base_models(requested: tuple[str, ...]) -> tuple[str, ...]:
    """The base models an AlgorithmsConfig asks for, in training order, aliases merged."""
    wanted = {canonical(a) for a in requested}
    return tuple(a for a in ALGORITHMS if a in wanted)


# -- the base models --------------------------------------------------------------------------


def estimator(algorithm: str, problem_type: str, seed: int) -> Any:
    """An unfitted scikit-learn compatible estimator for one base model. Settings are fixed
    (no search in this mode, as in AutoGluon's medium presets): moderate sizes that fit
    well-behaved on small and mid-sized tables. Single-threaded: jobs run side by side."""
    classify = problem_type != REGRESSION
    algorithm = canonical(algorithm)
    if algorithm == "lightgbm":
        import lightgbm

        kind = lightgbm.LGBMClassifier if classify else lightgbm.LGBMRegressor
        return kind(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=10,
            subsample=0.9,
            subsample_freq=1,
            colsample_bytree=0.9,
            random_state=seed,
            n_jobs=1,
            deterministic=True,
            verbose=-1,
        )
    if algorithm == "catboost":
        import catboost

        kind = catboost.CatBoostClassifier if classify else catboost.CatBoostRegressor
        return kind(
            iterations=300,
            learning_rate=0.08,
            depth=6,
            random_seed=seed,
            thread_count=1,
            verbose=False,
            allow_writing_files=False,
        )
    if algorithm == "xgboost":
        import xgboost

        kind = xgboost.XGBClassifier if classify else xgboost.XGBRegressor
        return kind(
            n_estimators=200,
            learning_rate=0.08,
            max_depth=6,
            subsample=0.9,
            colsample_bytree=0.9,
            tree_method="hist",
            random_state=seed,
            n_jobs=1,
        )
    from sklearn import ensemble, linear_model, neural_network, pipeline, preprocessing

    if algorithm == "randomforest":
        kind = ensemble.RandomForestClassifier if classify else ensemble.RandomForestRegressor
        return kind(n_estimators=150, min_samples_leaf=1, random_state=seed, n_jobs=1)
    if algorithm == "extra-trees":
        kind = ensemble.ExtraTreesClassifier if classify else ensemble.ExtraTreesRegressor
        return kind(n_estimators=150, min_samples_leaf=1, random_state=seed, n_jobs=1)
    # The linear model and the MLP need scaled features (the preprocessing leaves numbers as they are).
    if algorithm == "linear-learner":
        model = (
            linear_model.LogisticRegression(C=1.0, max_iter=2000)
            if classify
            else linear_model.Ridge(alpha=1.0)
        )
        return pipeline.make_pipeline(preprocessing.StandardScaler(), model)
    if algorithm == MLP:
        kind = neural_network.MLPClassifier if classify else neural_network.MLPRegressor
        return pipeline.make_pipeline(
            preprocessing.StandardScaler(),
            kind(
                hidden_layer_sizes=(128, 64),
                alpha=1e-3,
                learning_rate_init=1e-3,
                max_iter=200,
                early_stopping=True,
                n_iter_no_change=10,
                random_state=seed,
            ),
        )
    raise ValueError(f"unknown base model '{algorithm}'; known: {', '.join(ALGORITHMS)}")


def predict(model: Any, features: np.ndarray, problem_type: str, classes: int) -> np.ndarray:
    """One fitted estimator's predictions: (rows, classes) probabilities, or (rows,) values.
    A fold that missed a class gives it probability 0."""
    if problem_type == REGRESSION:
        return np.asarray(model.predict(features), dtype=np.float64).reshape(-1)
    scores = np.asarray(model.predict_proba(features), dtype=np.float64)
    seen = np.asarray(model.classes_).astype(int)
    if len(seen) == classes and np.array_equal(seen, np.arange(classes)):
        return scores
    full = np.zeros((scores.shape[0], classes))
    full[:, seen] = scores
    return full


def folds(
    labels: np.ndarray, problem_type: str, count: int = DEFAULT_FOLDS, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, held-out rows) per fold: stratified for classification when every class
    has at least `count` rows, shuffled with `seed`."""
    from sklearn.model_selection import KFold, StratifiedKFold

    rows = np.arange(len(labels))
    if problem_type != REGRESSION and np.unique(labels, return_counts=True)[1].min() >= count:
        splitter: Any = StratifiedKFold(n_splits=count, shuffle=True, random_state=seed)
        return [(a, b) for a, b in splitter.split(rows, labels)]
    splitter = KFold(n_splits=count, shuffle=True, random_state=seed)
    return [(a, b) for a, b in splitter.split(rows)]


# -- bagging ---------------------------------------------------------------------------------


@dataclass
class BaggedModel:
    """One base model fitted once per fold; predicts the mean of its fold models."""

    algorithm: str
    problem_type: str
    classes: int
    models: list[Any] = field(default_factory=list)

    def predict(self, features: np.ndarray) -> np.ndarray:
        total = sum(predict(m, features, self.problem_type, self.classes) for m in self.models)
        return np.asarray(total, dtype=np.float64) / len(self.models)


def fit_bagged(
    algorithm: str,
    problem_type: str,
    classes: int,
    features: np.ndarray,
    labels: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    seed: int = 0,
    deadline: float | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[BaggedModel, np.ndarray]:
    """The bagged model and its out-of-fold predictions on `features`.

    With a `deadline` (time.time()), no fold starts after it: the rows of folds never fitted
    get the mean prediction of the fold models that were (those rows were in their training
    data, so their OOF estimate is optimistic; the log says so). TimeLimitReached when no fold
    finished in time."""
    from sklearn.base import clone

    prototype = estimator(algorithm, problem_type, seed)
    bag = BaggedModel(canonical(algorithm), problem_type, classes)
    shape = (len(labels), classes) if problem_type != REGRESSION else (len(labels),)
    oof = np.zeros(shape)
    fitted = np.zeros(len(labels), dtype=bool)
    for index, (train, held_out) in enumerate(splits):
        if deadline is not None and time.time() >= deadline and bag.models:
            log(
                f"Time limit reached after {index} of {len(splits)} folds; the other folds' rows "
                "take the fitted folds' mean prediction."
            )
            break
        started = time.time()
        # Each fold may take its share of the time left; boosting stops adding rounds after it.
        until = None if deadline is None else started + (deadline - started) / (len(splits) - index)
        model = _fit(clone(prototype), bag.algorithm, features[train], labels[train], until)
        bag.models.append(model)
        oof[held_out] = predict(model, features[held_out], problem_type, classes)
        fitted[held_out] = True
        log(f"Fold {index + 1}/{len(splits)} fitted in {time.time() - started:.2f} s")
    if not bag.models:
        raise TimeLimitReached(f"{algorithm}: no fold could be fitted within the time limit")
    if not fitted.all():
        oof[~fitted] = bag.predict(features[~fitted])
    return bag, oof


def _fit(
    model: Any, algorithm: str, features: np.ndarray, labels: np.ndarray, until: float | None
) -> Any:
    """model.fit, with the boosting libraries told to stop adding rounds at `until`."""
    if until is None:
        return model.fit(features, labels)
    if algorithm == "lightgbm":
        import lightgbm

        def stop(env: Any) -> None:
            if time.time() >= until:
                raise lightgbm.callback.EarlyStopException(
                    env.iteration, env.evaluation_result_list
                )

        return model.fit(features, labels, callbacks=[stop])
    if algorithm == "catboost":

        class Stop:
            def after_iteration(self, info: Any) -> bool:
                return time.time() < until

        return model.fit(features, labels, callbacks=[Stop()])
    if algorithm == "xgboost":
        import xgboost

        class StopXGBoost(xgboost.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                return time.time() >= until

        model.set_params(callbacks=[StopXGBoost()])
        try:
            return model.fit(features, labels)
        finally:
            # the callback's class is local and cannot be pickled: a fitted model must save
            model.set_params(callbacks=None)
    return model.fit(features, labels)


# -- metrics ---------------------------------------------------------------------------------


def metrics(problem_type: str, labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Every Autopilot objective of the problem type (and LogLoss for classification) for
    `predictions` against `labels` (class indices or values)."""
    from sklearn import metrics as m

    if problem_type == REGRESSION:
        mse = float(m.mean_squared_error(labels, predictions))
        return {
            "MSE": mse,
            "RMSE": float(np.sqrt(mse)),
            "MAE": float(m.mean_absolute_error(labels, predictions)),
            "R2": float(m.r2_score(labels, predictions)),
        }
    classes = predictions.shape[1]
    truth = labels.astype(int)
    chosen = predictions.argmax(axis=1)
    clipped = np.clip(predictions, 1e-15, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    values = {
        "Accuracy": float(m.accuracy_score(truth, chosen)),
        "BalancedAccuracy": float(m.balanced_accuracy_score(truth, chosen)),
        "LogLoss": float(m.log_loss(truth, clipped, labels=list(range(classes)))),
    }
    if problem_type == BINARY:
        values.update(
            {
                "F1": float(m.f1_score(truth, chosen, zero_division=0)),
                "Precision": float(m.precision_score(truth, chosen, zero_division=0)),
                "Recall": float(m.recall_score(truth, chosen, zero_division=0)),
                "AUC": float(m.roc_auc_score(truth, predictions[:, 1]))
                if len(np.unique(truth)) == 2
                else 0.5,
            }
        )
    elif problem_type == MULTICLASS:
        every = list(range(classes))
        values.update(
            {
                "F1macro": float(
                    m.f1_score(truth, chosen, average="macro", labels=every, zero_division=0)
                ),
                "PrecisionMacro": float(
                    m.precision_score(truth, chosen, average="macro", labels=every, zero_division=0)
                ),
                "RecallMacro": float(
                    m.recall_score(truth, chosen, average="macro", labels=every, zero_division=0)
                ),
            }
        )
    return values


def objective_score(
    problem_type: str, objective: str, labels: np.ndarray, predictions: np.ndarray
) -> float:
    """The objective as a number where larger is better (losses negated)."""
    value = metrics(problem_type, labels, predictions)[objective]
    return value if OBJECTIVES[problem_type][objective].maximize else -value


# -- the stacking layer ----------------------------------------------------------------------


def select_weights(
    oof: list[np.ndarray],
    labels: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    rounds: int = SELECTION_ROUNDS,
) -> np.ndarray:
    """Greedy ensemble selection with replacement over OOF predictions: each round adds the
    model that makes the running average score best (larger is better; ties to the earlier
    model); the weights are how often each model was picked, over the rounds. Written here
    rather than taken from AutoGluon: a few lines, and AutoGluon is far too heavy a dependency."""
    if not oof:
        raise ValueError("ensemble selection needs at least one model")
    counts = np.zeros(len(oof))
    total = np.zeros_like(oof[0])
    for picked in range(rounds):
        scores = [score(labels, (total + candidate) / (picked + 1)) for candidate in oof]
        best = int(np.argmax(scores))  # the first of equal scores
        counts[best] += 1
        total = total + oof[best]
    return counts / counts.sum()


@dataclass
class WeightedEnsemble:
    """Bagged models and their weights; a single base model is an ensemble of one."""

    problem_type: str
    classes: int
    members: list[BaggedModel]
    weights: list[float]
    names: list[str] = field(default_factory=list)
    """Where each member came from (its training job), for the record."""

    def predict(self, features: np.ndarray) -> np.ndarray:
        total = sum(
            w * member.predict(features)
            for member, w in zip(self.members, self.weights, strict=True)
        )
        return np.asarray(total, dtype=np.float64)


def combine(predictions: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    return np.asarray(sum(w * p for p, w in zip(predictions, weights, strict=True)))
