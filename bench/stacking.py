"""ENSEMBLING's second stacking layer: what it adds to the weighted ensemble on held-out data.

The three packaged tables of ``automl_quality`` (statsmodels' ``fair``: binary, whether
``affairs`` is above 0, 6366 rows; scikit-learn's digits: multiclass, 1797 rows; statsmodels'
``randhie``: regression of ``mdvis``, 5000 of its rows, seed 0), all numeric, each split once
(seed 0) into 75 % for training and a 25 % held-out test split. On the training part, the
pure models the ENSEMBLING training jobs run (``analysis/automl/ensembles.py``): layer 1 =
LightGBM, random forest, extra trees and the linear model, bagged over 5 folds; layer 2 =
the LightGBM and linear stackers over them, same folds. The reference is the weighted
ensemble over layer 1 alone (sagebox before this layer); sagebox's figure is the weighted
ensemble over both layers. Selection is on Autopilot's default objective (F1, Accuracy,
MSE); reported: accuracy (classification) or R2 (regression) on the test split, that
objective on the test split (in the details), and the seconds each variant took to fit
(layer 2 adds its stackers' time).

Run ``python -m bench stacking``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from sagebox.analysis.automl import ensembles
from sagebox.analysis.automl.problems import BINARY, MULTICLASS, REGRESSION

BASE = ("lightgbm", "randomforest", "extra-trees", "linear-learner")
OBJECTIVE = {BINARY: "F1", MULTICLASS: "Accuracy", REGRESSION: "MSE"}


def _datasets() -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    from sklearn.datasets import load_digits
    from statsmodels.datasets import fair, randhie

    affairs = fair.load_pandas().data
    target = (affairs.pop("affairs") > 0).to_numpy(dtype=float)
    digits = load_digits()
    visits = randhie.load_pandas().data.sample(n=5000, random_state=0)
    doctor = visits.pop("mdvis").to_numpy(dtype=float)
    return {
        "fair, any affair (statsmodels)": (affairs.to_numpy(dtype=float), target, BINARY),
        "digits (scikit-learn)": (
            digits.data.astype(float),
            digits.target.astype(float),
            MULTICLASS,
        ),
        "randhie, doctor visits, 5000 rows (statsmodels)": (
            visits.to_numpy(dtype=float),
            doctor,
            REGRESSION,
        ),
    }


def _test_score(problem_type: str, truth: np.ndarray, predictions: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    if problem_type == REGRESSION:
        return float(r2_score(truth, predictions))
    return float(accuracy_score(truth.astype(int), predictions.argmax(axis=1)))


def _ensemble(
    problem_type: str,
    classes: int,
    objective: str,
    labels: np.ndarray,
    models: list[tuple[Any, np.ndarray]],
) -> ensembles.WeightedEnsemble:
    def score(truth: np.ndarray, candidate: np.ndarray) -> float:
        return ensembles.objective_score(problem_type, objective, truth, candidate)

    weights = ensembles.select_weights([oof for _, oof in models], labels, score)
    kept = [i for i, w in enumerate(weights) if w > 0]
    return ensembles.WeightedEnsemble(
        problem_type, classes, [models[i][0] for i in kept], [float(weights[i]) for i in kept]
    )


def _one(features: np.ndarray, labels: np.ndarray, problem_type: str) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    stratify = labels if problem_type != REGRESSION else None
    x, x_test, y, y_test = train_test_split(
        features, labels, test_size=0.25, random_state=0, stratify=stratify
    )
    classes = 0 if problem_type == REGRESSION else int(labels.max()) + 1
    objective = OBJECTIVE[problem_type]
    splits = ensembles.folds(y, problem_type, ensembles.DEFAULT_FOLDS, 0)
    started = time.perf_counter()
    layer1 = []
    for algorithm in BASE:
        bag, oof = ensembles.fit_bagged(algorithm, problem_type, classes, x, y, splits, seed=0)
        layer1.append((algorithm, bag, oof))
    layer1_seconds = time.perf_counter() - started
    flat = _ensemble(problem_type, classes, objective, y, [(b, o) for _, b, o in layer1])
    started = time.perf_counter()
    layer2 = [
        ensembles.fit_stacker(a, problem_type, classes, x, y, splits, layer1, seed=0)
        for a in ensembles.stacker_models(BASE)
    ]
    layer2_seconds = time.perf_counter() - started
    stacked = _ensemble(
        problem_type, classes, objective, y, [(b, o) for _, b, o in layer1] + layer2
    )
    flat_test, stacked_test = flat.predict(x_test), stacked.predict(x_test)
    return {
        "layer1_only": _test_score(problem_type, y_test, flat_test),
        "with_layer2": _test_score(problem_type, y_test, stacked_test),
        "objective": objective,
        "objective_layer1_only": ensembles.metrics(problem_type, y_test, flat_test)[objective],
        "objective_with_layer2": ensembles.metrics(problem_type, y_test, stacked_test)[objective],
        "layer1_seconds": round(layer1_seconds, 2),
        "layer2_seconds": round(layer2_seconds, 2),
        "stacked_weights": {
            ("L2 " if isinstance(m, ensembles.StackedModel) else "L1 ") + m.algorithm: round(w, 3)
            for m, w in zip(stacked.members, stacked.weights, strict=True)
        },
    }


def run() -> dict[str, Any]:
    rows, details = [], {}
    for name, (features, labels, problem_type) in _datasets().items():
        result = _one(features, labels, problem_type)
        details[name] = result
        metric = "R2" if problem_type == REGRESSION else "accuracy"
        rows.append(
            {
                "measure": f"{name}: test {metric}, ensemble over layers 1+2 vs layer 1 alone",
                "sagebox": f"{result['with_layer2']:.4f}",
                "reference": f"{result['layer1_only']:.4f}",
                "ratio": f"{result['with_layer2'] / result['layer1_only']:.4f}",
                "target": ">= 1 on most",
                "met": "yes" if result["with_layer2"] >= result["layer1_only"] else "no",
            }
        )
        print(name, result, flush=True)
    load = os.getloadavg()[0]
    fit_time = sum(d["layer2_seconds"] for d in details.values()) / max(
        1e-9, sum(d["layer1_seconds"] for d in details.values())
    )
    return {
        "name": "stacking",
        "rows": rows,
        "details": details,
        "notes": (
            "The second stacking layer (LightGBM and linear stackers over LightGBM, random forest, extra "
            "trees and the linear model, 5 folds) against the weighted ensemble of layer 1 alone, pure "
            f"models in one process, the same folds and seed. Layer 2's fitting took {fit_time:.2f}x "
            f"layer 1's time. Measured under load (1-minute load average {load:.1f} on a shared "
            "machine): the times are inflated, the scores are not."
        ),
    }
