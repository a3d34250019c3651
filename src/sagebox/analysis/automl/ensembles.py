"""Autopilot's ENSEMBLING mode, the models: k-fold bagged base models and a weighted ensemble.

Every base model (LightGBM, CatBoost, XGBoost, random forest, extra trees, a linear model,
scikit-learn's MLP) is bagged: one copy is fitted per fold on the other folds, its
predictions on the held-out fold are the model's out-of-fold (OOF) predictions, and the
bagged model predicts the mean of its copies. One stacking layer follows: greedy ensemble
selection (Caruana et al., 2004, as AutoGluon's WeightedEnsemble does it) picks, with
replacement, the base model whose addition best improves the objective on the OOF
predictions; the picks' counts are the weights.

A second stacking layer may come between them (multi-layer stack ensembling, as AutoGluon
does it): stacker models (LightGBM and the linear model) bagged on the same folds, whose
features are the original ones plus the layer-1 models' out-of-fold predictions; served,
they see the layer-1 bagged models' predictions instead. The weighted ensemble then selects
over the stackers and the layer-1 models together.

Sample weights, when the job has them, go to every fold model's fit and weigh every
metric, so ensemble selection optimises the weighted objective too.

scikit-learn and the boosting libraries are imported where used: the server imports this
module for its names only. Everything is deterministic for a given seed: the folds, every model's random state, and
ensemble selection (ties go to the earlier model). Pure: no service imports; the ensembling
training jobs (``sagebox.algorithms.automl_ensemble``) and their model server use it.

Predictions are class probabilities, shape (rows, classes), for classification (labels
are class indices 0..classes-1) and values, shape (rows,), for regression.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sagebox.analysis.automl.problems import BINARY, MULTICLASS, OBJECTIVES, REGRESSION

WEIGHTED_ENSEMBLE = "weighted-ensemble"
MLP = "mlp"
FAMILIES = (
    "lightgbm",
    "catboost",
    "xgboost",
    "randomforest",
    "extra-trees",
    "linear-learner",
    MLP,
)
"""One base model per AlgorithmsConfig family: what sagebox fits first, at any budget."""
LIGHTGBM_XT, LIGHTGBM_LARGE = "lightgbm-xt", "lightgbm-large"
RANDOMFOREST_ENTROPY, EXTRA_TREES_ENTROPY = "randomforest-entropy", "extra-trees-entropy"
VARIANTS = {
    LIGHTGBM_XT: "lightgbm",
    RANDOMFOREST_ENTROPY: "randomforest",
    EXTRA_TREES_ENTROPY: "extra-trees",
    LIGHTGBM_LARGE: "lightgbm",
}
"""More base models of a family with other settings, as AutoGluon's presets fit them
(LightGBMXT, RandomForestEntr, ExtraTreesEntr, LightGBMLarge), in the order they are worth
adding when time allows (the planner drops the last first): LightGBMXT first (on gpa2,
401ksubs and anes96 the best variant, and the only one ensemble selection kept on two of
them), LightGBMLarge last, as AutoGluon ranks it. No KNN (AutoGluon fits two):
AlgorithmsConfig has no family it would belong to, so a job could neither ask for it nor
leave it out."""
CLASSIFICATION_ONLY = frozenset({RANDOMFOREST_ENTROPY, EXTRA_TREES_ENTROPY})
"""Entropy splits exist for classification only (regression trees split on squared error)."""
ALGORITHMS = (*FAMILIES, *VARIANTS)
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
    LIGHTGBM_XT: "LightGBMXT",
    LIGHTGBM_LARGE: "LightGBMLarge",
    RANDOMFOREST_ENTROPY: "RandomForestEntr",
    EXTRA_TREES_ENTROPY: "ExtraTreesEntr",
    WEIGHTED_ENSEMBLE: "WeightedEnsemble",
}
DEFAULT_FOLDS = 5
SELECTION_ROUNDS = 25
PATIENCE = 50
"""Early stopping: a bagged boosting model's fold stops after this many rounds without a
better loss on its held-out fold (the round cap is its n_estimators / iterations)."""
BOOSTING = frozenset({"lightgbm", "catboost", "xgboost"})
STACKERS = ("lightgbm", "linear-learner")
"""The layer-2 models, when the job's algorithms include them (else its first base model)."""


THRESHOLD_OBJECTIVES = ("F1", "BalancedAccuracy")
"""Binary objectives whose best decision threshold on the positive class's probability is
rarely 0.5 (imbalanced classes, uncalibrated scores): each ENSEMBLING job tunes it on its
out-of-fold predictions, as AutoGluon calibrates its decision threshold for such metrics."""
THRESHOLD_GRID = np.round(np.linspace(0.02, 0.98, 97), 2)
THRESHOLD_WINDOW = 2
"""The tuned threshold's score is the mean over this many grid steps each side: one lucky
threshold among noisy out-of-fold predictions of a few hundred rows is not chosen."""


class TimeLimitReached(Exception):
    """Not even one fold of a base model could be fitted within its time limit."""


def canonical(algorithm: str) -> str:
    return ALIASES.get(algorithm, algorithm)


def base_family(algorithm: str) -> str:
    """The AlgorithmsConfig family a base model (or variant) belongs to."""
    algorithm = canonical(algorithm)
    return VARIANTS.get(algorithm, algorithm)


def base_models(requested: tuple[str, ...], problem_type: str | None = None) -> tuple[str, ...]:
    """The base models an AlgorithmsConfig asks for, in training order, aliases merged: each
    family's first model, then the variants of the families asked for (for `problem_type`,
    when given: regression has no entropy variants)."""
    wanted = {canonical(a) for a in requested}
    return tuple(
        a
        for a in ALGORITHMS
        if base_family(a) in wanted
        and not (problem_type == REGRESSION and a in CLASSIFICATION_ONLY)
    )


# -- the base models --------------------------------------------------------------------------


def estimator(algorithm: str, problem_type: str, seed: int) -> Any:
    """An unfitted scikit-learn compatible estimator for one base model. Settings are fixed
    (no search in this mode, as in AutoGluon's medium presets): moderate sizes that fit
    well-behaved on small and mid-sized tables. Single-threaded: jobs run side by side.
    The boosting models' round counts are caps: bagged (`fit_bagged`), each fold stops
    early on its held-out rows, as AutoGluon's bagged boosting models do."""
    classify = problem_type != REGRESSION
    algorithm = canonical(algorithm)
    if base_family(algorithm) == "lightgbm":
        import lightgbm

        kind = lightgbm.LGBMClassifier if classify else lightgbm.LGBMRegressor
        settings: dict[str, Any] = {"num_leaves": 31, "learning_rate": 0.05}
        if algorithm == LIGHTGBM_XT:  # extremely randomised split thresholds
            settings["extra_trees"] = True
        elif algorithm == LIGHTGBM_LARGE:  # bigger trees, slower learning, smaller leaves
            settings.update(num_leaves=128, learning_rate=0.03, min_child_samples=3)
        return kind(
            n_estimators=2000,
            **{"min_child_samples": 10, **settings},
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
            iterations=1500,
            learning_rate=0.06,
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
            n_estimators=1000,
            learning_rate=0.05,
            max_depth=6,
            subsample=0.9,
            colsample_bytree=0.9,
            tree_method="hist",
            random_state=seed,
            n_jobs=1,
        )
    from sklearn import ensemble, linear_model, neural_network, pipeline, preprocessing

    forests = {
        "randomforest": (ensemble.RandomForestClassifier, ensemble.RandomForestRegressor),
        "extra-trees": (ensemble.ExtraTreesClassifier, ensemble.ExtraTreesRegressor),
    }
    if base_family(algorithm) in forests:
        classifier, regressor = forests[base_family(algorithm)]
        if algorithm in CLASSIFICATION_ONLY and not classify:
            raise ValueError(f"base model '{algorithm}' is for classification only")
        entropy = {"criterion": "entropy"} if algorithm in CLASSIFICATION_ONLY else {}
        kind = classifier if classify else regressor
        return kind(n_estimators=150, min_samples_leaf=1, random_state=seed, n_jobs=1, **entropy)
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

    def fitted_models(self) -> list[Any]:
        """The fitted estimators that read the original features."""
        return list(self.models)


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
    weights: np.ndarray | None = None,
) -> tuple[BaggedModel, np.ndarray]:
    """The bagged model and its out-of-fold predictions on `features`.

    With a `deadline` (time.time()), no fold starts after it: the rows of folds never fitted
    get the mean prediction of the fold models that were (those rows were in their training
    data, so their OOF estimate is optimistic; the log says so). TimeLimitReached when no fold
    finished in time. `weights` (one per row, positive) are passed to every fold model's fit
    as sample_weight. The boosting models stop early on each fold's held-out rows (weighted
    too): at most PATIENCE rounds past the best loss, and they predict with the best round."""
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
        fold_weights = None if weights is None else weights[train]
        held_weights = None if weights is None else weights[held_out]
        model = _fit(
            clone(prototype),
            bag.algorithm,
            features[train],
            labels[train],
            until,
            fold_weights,
            (features[held_out], labels[held_out], held_weights),
        )
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
    model: Any,
    algorithm: str,
    features: np.ndarray,
    labels: np.ndarray,
    until: float | None,
    weights: np.ndarray | None = None,
    held_out: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
) -> Any:
    """model.fit, with the rows' `weights` given as sample_weight (to every step of a scaling
    pipeline); the boosting libraries stop adding rounds at `until` (a time) and, given the
    `held_out` rows (features, labels, weights), PATIENCE rounds after their best loss on them
    (the library's default metric for the problem: logloss, multi-class logloss or L2)."""
    extra: dict[str, Any] = {}
    if weights is not None:
        steps = getattr(model, "steps", None)
        if steps:  # the scaler and the model both weigh the rows
            extra = {f"{name}__sample_weight": weights for name, _ in steps}
        else:
            extra["sample_weight"] = weights
    family = base_family(algorithm)
    if family not in BOOSTING:
        return model.fit(features, labels, **extra)
    if held_out is not None and hasattr(model, "predict_proba"):  # a classifier
        # A class the fold's training rows lack cannot be scored (CatBoost refuses it): those
        # held-out rows are left out of the early-stopping loss.
        known = np.isin(held_out[1], np.unique(labels))
        if not known.all():
            weight = None if held_out[2] is None else held_out[2][known]
            held_out = (held_out[0][known], held_out[1][known], weight) if known.any() else None
    if family == "lightgbm":
        import lightgbm

        callbacks: list[Any] = []
        if held_out is not None:
            if "eval_X" in inspect.signature(model.fit).parameters:  # LightGBM 4.6 and later
                extra["eval_X"], extra["eval_y"] = (held_out[0],), (held_out[1],)
            else:
                extra["eval_set"] = [held_out[:2]]
            if held_out[2] is not None:
                extra["eval_sample_weight"] = [held_out[2]]
            callbacks.append(
                lightgbm.early_stopping(PATIENCE, first_metric_only=True, verbose=False)
            )
        if until is not None:

            def stop(env: Any) -> None:
                if time.time() >= until:
                    raise lightgbm.callback.EarlyStopException(
                        env.iteration, env.evaluation_result_list
                    )

            stop.order = 40  # type: ignore[attr-defined]  # after early stopping's check
            callbacks.append(stop)
        return model.fit(features, labels, callbacks=callbacks, **extra)
    if family == "catboost":
        import catboost

        if held_out is not None:
            extra["eval_set"] = catboost.Pool(held_out[0], held_out[1], weight=held_out[2])
            extra["early_stopping_rounds"] = PATIENCE
            extra["use_best_model"] = True
        if until is not None:

            class Stop:
                def after_iteration(self, info: Any) -> bool:
                    return time.time() < until

            extra["callbacks"] = [Stop()]
        return model.fit(features, labels, **extra)
    import xgboost

    class StopXGBoost(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            return until is not None and time.time() >= until

    if held_out is not None:
        extra["eval_set"] = [held_out[:2]]
        extra["verbose"] = False
        if held_out[2] is not None:
            extra["sample_weight_eval_set"] = [held_out[2]]
        model.set_params(early_stopping_rounds=PATIENCE)
    model.set_params(callbacks=[StopXGBoost()] if until is not None else None)
    try:
        return model.fit(features, labels, **extra)
    finally:
        # The callback's class is local and cannot be pickled: a fitted model must save. The
        # best round stays with the booster (predict uses it) without the setting.
        model.set_params(callbacks=None, early_stopping_rounds=None)


# -- metrics ---------------------------------------------------------------------------------


def decide(
    predictions: np.ndarray, problem_type: str, threshold: float | None = None
) -> np.ndarray:
    """The class index each row of probabilities predicts: the most probable class, or for a
    binary problem with a decision `threshold`, class 1 when its probability reaches it."""
    if problem_type == BINARY and threshold is not None:
        return (predictions[:, 1] >= threshold).astype(int)
    return predictions.argmax(axis=1)


def threshold_scores(
    labels: np.ndarray,
    predictions: np.ndarray,
    objective: str,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """The binary `objective` (one of THRESHOLD_OBJECTIVES) at each threshold of
    THRESHOLD_GRID, as scikit-learn scores the thresholded labels (weighted, F1's zero
    division 0). Counted for all thresholds at once rather than by calling scikit-learn per
    threshold: ensemble selection scores every candidate mix this way, hundreds of times."""
    if objective not in THRESHOLD_OBJECTIVES:
        raise ValueError(f"no decision threshold is tuned for {objective}")
    positive = labels.astype(int) == 1
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)
    above = (predictions[:, 1][None, :] >= THRESHOLD_GRID[:, None]).astype(np.float64)
    true_pos, false_pos = above @ (w * positive), above @ (w * ~positive)
    total_pos, total_neg = float((w * positive).sum()), float((w * ~positive).sum())
    if objective == "F1":
        denominator = true_pos + total_pos + false_pos  # 2 TP + FP + FN
        return np.divide(
            2 * true_pos, denominator, out=np.zeros_like(true_pos), where=denominator > 0
        )
    # Balanced accuracy: the mean recall of the classes the labels have.
    recalls = []
    if total_pos > 0:
        recalls.append(true_pos / total_pos)
    if total_neg > 0:
        recalls.append((total_neg - false_pos) / total_neg)
    return np.mean(recalls, axis=0)


def _smoothed(raw: np.ndarray) -> np.ndarray:
    """Each threshold's score as the mean over its THRESHOLD_WINDOW neighbours each side."""
    padded = np.pad(raw, THRESHOLD_WINDOW, mode="edge")
    width = 2 * THRESHOLD_WINDOW + 1
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def tune_threshold(
    labels: np.ndarray,
    predictions: np.ndarray,
    objective: str,
    weights: np.ndarray | None = None,
) -> float:
    """The decision threshold on the positive class's probability that makes the binary
    `objective` (one of THRESHOLD_OBJECTIVES) best on out-of-fold `predictions`: the best of
    THRESHOLD_GRID, each scored as the mean over its neighbours (THRESHOLD_WINDOW); of equal
    ones, the closest to 0.5. A grid rather than every distinct score: the neighbourhood mean
    needs evenly spaced thresholds."""
    smoothed = _smoothed(threshold_scores(labels, predictions, objective, weights))
    near = np.flatnonzero(np.isclose(smoothed, smoothed.max(), rtol=0, atol=1e-12))
    return float(THRESHOLD_GRID[near[np.argmin(np.abs(THRESHOLD_GRID[near] - 0.5))]])


def tuned_score(
    labels: np.ndarray,
    predictions: np.ndarray,
    objective: str,
    weights: np.ndarray | None = None,
) -> float:
    """The binary `objective` as the tuned threshold makes it (its neighbourhood mean): what
    ensemble selection maximises for THRESHOLD_OBJECTIVES, so that it picks the mix that is
    best once its threshold is tuned, not the one best at 0.5."""
    return float(_smoothed(threshold_scores(labels, predictions, objective, weights)).max())


def metrics(
    problem_type: str,
    labels: np.ndarray,
    predictions: np.ndarray,
    weights: np.ndarray | None = None,
    threshold: float | None = None,
) -> dict[str, float]:
    """Every Autopilot objective of the problem type (and LogLoss for classification) for
    `predictions` against `labels` (class indices or values), weighted by the rows' sample
    `weights` when given (as Autopilot weighs its objective metrics). A binary decision
    `threshold` decides the predicted labels (`decide`)."""
    from sklearn import metrics as m

    w = {"sample_weight": weights}

    if problem_type == REGRESSION:
        mse = float(m.mean_squared_error(labels, predictions, **w))
        return {
            "MSE": mse,
            "RMSE": float(np.sqrt(mse)),
            "MAE": float(m.mean_absolute_error(labels, predictions, **w)),
            "R2": float(m.r2_score(labels, predictions, **w)),
        }
    classes = predictions.shape[1]
    truth = labels.astype(int)
    chosen = decide(predictions, problem_type, threshold)
    clipped = np.clip(predictions, 1e-15, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    values = {
        "Accuracy": float(m.accuracy_score(truth, chosen, **w)),
        "BalancedAccuracy": float(m.balanced_accuracy_score(truth, chosen, **w)),
        "LogLoss": float(m.log_loss(truth, clipped, labels=list(range(classes)), **w)),
    }
    if problem_type == BINARY:
        values.update(
            {
                "F1": float(m.f1_score(truth, chosen, zero_division=0, **w)),
                "Precision": float(m.precision_score(truth, chosen, zero_division=0, **w)),
                "Recall": float(m.recall_score(truth, chosen, zero_division=0, **w)),
                "AUC": float(m.roc_auc_score(truth, predictions[:, 1], **w))
                if len(np.unique(truth)) == 2
                else 0.5,
            }
        )
    elif problem_type == MULTICLASS:
        every = list(range(classes))
        values.update(
            {
                "F1macro": float(
                    m.f1_score(truth, chosen, average="macro", labels=every, zero_division=0, **w)
                ),
                "PrecisionMacro": float(
                    m.precision_score(
                        truth, chosen, average="macro", labels=every, zero_division=0, **w
                    )
                ),
                "RecallMacro": float(
                    m.recall_score(
                        truth, chosen, average="macro", labels=every, zero_division=0, **w
                    )
                ),
            }
        )
    return values


def objective_score(
    problem_type: str,
    objective: str,
    labels: np.ndarray,
    predictions: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """The objective as a number where larger is better (losses negated). Ensemble selection
    calls it (rounds x models) times: the label-based objectives are computed alone here, as
    `metrics` computes them (a test holds them equal), rather than every metric each time."""
    if problem_type == REGRESSION or objective not in _LABEL_METRICS:
        value = metrics(problem_type, labels, predictions, weights)[objective]
    else:
        value = float(
            _LABEL_METRICS[objective](
                labels.astype(int), predictions.argmax(axis=1), predictions.shape[1], weights
            )
        )
    return value if OBJECTIVES[problem_type][objective].maximize else -value


def _accuracy(truth: np.ndarray, chosen: np.ndarray, _: int, weights: Any) -> float:
    from sklearn.metrics import accuracy_score

    return accuracy_score(truth, chosen, sample_weight=weights)


def _balanced_accuracy(truth: np.ndarray, chosen: np.ndarray, _: int, weights: Any) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(truth, chosen, sample_weight=weights)


def _f1(truth: np.ndarray, chosen: np.ndarray, classes: int, weights: Any) -> float:
    from sklearn.metrics import f1_score

    if classes == 2:
        # By hand: scikit-learn's f1_score spends ~20 ms checking its inputs, and selection
        # calls this hundreds of times. Weighted counts; 0 when there is no positive at all.
        w = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=np.float64)
        hits = float(w[(truth == 1) & (chosen == 1)].sum())
        misses = float(w[(truth == 1) != (chosen == 1)].sum())
        return 2 * hits / (2 * hits + misses) if hits + misses > 0 else 0.0
    every = list(range(classes))
    return f1_score(
        truth, chosen, average="macro", labels=every, zero_division=0, sample_weight=weights
    )


_LABEL_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, int, Any], float]] = {
    "Accuracy": _accuracy,
    "BalancedAccuracy": _balanced_accuracy,
    "F1": _f1,
    "F1macro": _f1,
}


# -- the stacking layer ----------------------------------------------------------------------


def select_weights(
    oof: list[np.ndarray],
    labels: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    rounds: int = SELECTION_ROUNDS,
) -> np.ndarray:
    """Greedy ensemble selection with replacement over OOF predictions: each round adds the
    model that makes the running average score best (larger is better; ties to the earlier
    model); the weights are how often each model was picked, up to the round whose ensemble
    scored best (the earliest of equal ones: later rounds can only add models that make it
    worse). Written here rather than taken from AutoGluon: a few lines, and AutoGluon is far
    too heavy a dependency."""
    if not oof:
        raise ValueError("ensemble selection needs at least one model")
    counts = np.zeros(len(oof))
    total = np.zeros_like(oof[0])
    kept, kept_score = counts, -np.inf
    for picked in range(rounds):
        scores = [score(labels, (total + candidate) / (picked + 1)) for candidate in oof]
        best = int(np.argmax(scores))  # the first of equal scores
        counts = counts.copy()
        counts[best] += 1
        total = total + oof[best]
        if scores[best] > kept_score:
            kept, kept_score = counts, scores[best]
    return kept / kept.sum()


@dataclass
class WeightedEnsemble:
    """Bagged models and their weights; a single base model is an ensemble of one."""

    problem_type: str
    classes: int
    members: list[Any]
    """BaggedModel (layer 1) or StackedModel (layer 2) each."""
    weights: list[float]
    names: list[str] = field(default_factory=list)
    """Where each member came from (its training job), for the record."""
    threshold: float | None = None
    """Binary problems: the decision threshold on the positive class's probability (tuned on
    out-of-fold predictions for THRESHOLD_OBJECTIVES); None decides by the most probable class."""

    def predict(self, features: np.ndarray) -> np.ndarray:
        cache: dict[int, np.ndarray] = {}
        total = sum(
            w * _member_predict(member, features, cache)
            for member, w in zip(self.members, self.weights, strict=True)
        )
        return np.asarray(total, dtype=np.float64)

    def fitted_models(self) -> list[Any]:
        return [fitted for member in self.members for fitted in member.fitted_models()]


def combine(predictions: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    return np.asarray(sum(w * p for p, w in zip(predictions, weights, strict=True)))


# -- the second stacking layer ---------------------------------------------------------------


def stacker_models(base: tuple[str, ...]) -> tuple[str, ...]:
    """The layer-2 models over the base models `base`: STACKERS among them, else the first."""
    chosen = tuple(a for a in STACKERS if a in {canonical(b) for b in base})
    return chosen or tuple(canonical(b) for b in base[:1])


def stack_features(features: np.ndarray, layer1: list[np.ndarray], problem_type: str) -> np.ndarray:
    """The original features with the layer-1 predictions appended: the positive class's
    probability (binary), every class's (multiclass) or the value (regression)."""
    columns = [np.asarray(features, dtype=np.float64)]
    for values in layer1:
        if problem_type == REGRESSION:
            columns.append(values.reshape(-1, 1))
        elif problem_type == BINARY:
            columns.append(values[:, 1:2])
        else:
            columns.append(values)
    return np.hstack(columns)


def _member_predict(
    member: Any, features: np.ndarray, cache: dict[int, np.ndarray] | None
) -> np.ndarray:
    """A member's predictions, computed once per call of the ensemble (layer-1 models are
    shared between the stackers and the ensemble)."""
    if cache is None:
        return member.predict(features)
    key = id(member)
    if key not in cache:
        if isinstance(member, StackedModel):
            cache[key] = member.predict(features, cache)
        else:
            cache[key] = member.predict(features)
    return cache[key]


@dataclass
class StackedModel:
    """A layer-2 bagged model: reads the original features plus its layer-1 models' predictions."""

    layer1: list[BaggedModel]
    top: BaggedModel
    layer1_names: list[str] = field(default_factory=list)
    """The training jobs the layer-1 models came from, for the record."""

    @property
    def algorithm(self) -> str:
        return self.top.algorithm

    @property
    def problem_type(self) -> str:
        return self.top.problem_type

    @property
    def classes(self) -> int:
        return self.top.classes

    def predict(
        self, features: np.ndarray, cache: dict[int, np.ndarray] | None = None
    ) -> np.ndarray:
        base = [_member_predict(m, features, cache) for m in self.layer1]
        return self.top.predict(stack_features(features, base, self.problem_type))

    def fitted_models(self) -> list[Any]:
        return [fitted for member in self.layer1 for fitted in member.fitted_models()]


def fit_stacker(
    algorithm: str,
    problem_type: str,
    classes: int,
    features: np.ndarray,
    labels: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    layer1: list[tuple[str, BaggedModel, np.ndarray]],
    seed: int = 0,
    deadline: float | None = None,
    log: Callable[[str], None] = lambda _: None,
    weights: np.ndarray | None = None,
) -> tuple[StackedModel, np.ndarray]:
    """A layer-2 model bagged on the same `splits` as its layer-1 models (name, bagged model,
    out-of-fold predictions), on the original features plus those OOF predictions, and its
    own out-of-fold predictions. A row's layer-1 OOF prediction comes from models that never
    saw it, so the stacker's held-out fold is scored on features its fold models did not
    fit: no leakage beyond what k-fold stacking with shared folds has by design."""
    augmented = stack_features(features, [oof for _, _, oof in layer1], problem_type)
    top, oof = fit_bagged(
        algorithm,
        problem_type,
        classes,
        augmented,
        labels,
        splits,
        seed=seed,
        deadline=deadline,
        log=log,
        weights=weights,
    )
    model = StackedModel([m for _, m, _ in layer1], top, [n for n, _, _ in layer1])
    return model, oof
