"""Random Cut Forest: anomaly ROC AUC against scikit-learn's IsolationForest, and scoring speed.

Both detectors get the same size: 100 trees of 256 samples (SageMaker's defaults for
``num_trees`` and ``num_samples_per_tree``; ``IsolationForest(n_estimators=100,
max_samples=256)``). sagebox runs its pure code: the per-tree reservoir samples,
``grow_forest`` and ``ForestScorer.score``; no server.

Labelled anomaly data built from scikit-learn's bundled datasets (none is labelled
for anomalies), scored the usual unsupervised way (fit on every row, anomalies
included; score every row; ROC AUC of the scores against the labels):

- breast cancer: the 357 benign rows plus 10 malignant rows drawn at random (the
  "WBC" construction of anomaly-detection benchmarks), 5 draws;
- digits: for each digit in turn, the other nine classes plus that digit's rows
  drawn down to 2% of the data (10 data sets);
- wine: for each class in turn, the two other classes plus 5% of that class, 5 draws;
  raw, and with every feature standardised (RCF's range-weighted cuts see feature
  scales; isolation forests do not).

Targets: ROC AUC at least IsolationForest's; scoring at least 50,000 rows per second
(``ForestScorer.score`` on 100,000 rows of 30 features, one thread, best of 5).
Run ``python bench/random_cut_forest.py``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from sagebox.algorithms.random_cut_forest.forest import grow_forest
from sagebox.algorithms.random_cut_forest.sampling import ForestSampler
from sagebox.algorithms.random_cut_forest.scoring import ForestScorer

TREES = 100
SAMPLES = 256
SPEED_TARGET = 50_000
SPEED_ROWS = 100_000
REPEATS = 5

Case = tuple[np.ndarray, np.ndarray, int]


def forest_scorer(rows: np.ndarray, seed: int) -> ForestScorer:
    rng = np.random.default_rng(seed)
    sampler = ForestSampler(TREES, SAMPLES, rows.shape[1], rng)
    sampler.add(rows)
    return ForestScorer(grow_forest(sampler.samples(), rng))


def isolation_scores(rows: np.ndarray, seed: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_samples above the row count
        model = IsolationForest(n_estimators=TREES, max_samples=SAMPLES, random_state=seed)
        return -model.fit(rows).score_samples(rows)


def contaminated(
    features: np.ndarray, classes: np.ndarray, anomaly: int, count: int, seed: int
) -> Case:
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(classes != anomaly)
    drawn = rng.choice(np.flatnonzero(classes == anomaly), count, replace=False)
    rows = features[np.concatenate([normal, drawn])].astype(np.float32)
    labels = np.r_[np.zeros(len(normal)), np.ones(count)]
    return rows, labels, seed


def cancer_cases() -> Iterator[Case]:
    features, classes = load_breast_cancer(return_X_y=True)
    for seed in range(5):
        yield contaminated(features, classes, 0, 10, seed)


def digits_cases() -> Iterator[Case]:
    features, classes = load_digits(return_X_y=True)
    for digit in range(10):
        normal = int(np.count_nonzero(classes != digit))
        yield contaminated(features, classes, digit, round(0.02 * normal / 0.98), digit)


def wine_cases(standardise: bool) -> Iterator[Case]:
    features, classes = load_wine(return_X_y=True)
    if standardise:
        features = (features - features.mean(axis=0)) / features.std(axis=0)
    for anomaly in range(3):
        normal = int(np.count_nonzero(classes != anomaly))
        for seed in range(5):
            yield contaminated(features, classes, anomaly, round(0.05 * normal / 0.95), seed)


def auc_row(name: str, cases: Iterator[Case]) -> dict[str, str]:
    ours, reference = [], []
    for rows, labels, seed in cases:
        ours.append(roc_auc_score(labels, forest_scorer(rows, seed).score(rows)))
        reference.append(roc_auc_score(labels, isolation_scores(rows, seed)))
    mean, ref = float(np.mean(ours)), float(np.mean(reference))
    return {
        "measure": f"{name}: ROC AUC (mean of {len(ours)})",
        "sagebox": f"{mean:.4f}",
        "reference": f"{ref:.4f} (sklearn IsolationForest)",
        "ratio": f"{mean / ref:.3f}x",
        "target": ">= 1x",
        "met": "yes" if mean >= ref else "no",
    }


def best_rate(action: Any, rows: np.ndarray) -> tuple[float, float]:
    """(rows per wall-clock second, rows per CPU second), best of REPEATS."""
    wall, cpu = 0.0, 0.0
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        action(rows)
        wall = max(wall, len(rows) / (time.perf_counter() - start))
        cpu = max(cpu, len(rows) / (time.process_time() - start_cpu))
    return wall, cpu


def speed_row() -> dict[str, str]:
    features = load_breast_cancer(return_X_y=True)[0].astype(np.float32)
    rng = np.random.default_rng(0)
    scorer = forest_scorer(features, 0)
    picks = rng.integers(0, len(features), SPEED_ROWS)
    noise = rng.normal(0, 0.05, (SPEED_ROWS, features.shape[1])) * features.std(axis=0)
    rows = (features[picks] + noise).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        isolation = IsolationForest(n_estimators=TREES, max_samples=SAMPLES, random_state=0)
        isolation.fit(features)
    ours, ours_cpu = best_rate(scorer.score, rows)
    reference, _ = best_rate(isolation.score_samples, rows)
    return {
        "measure": f"scoring throughput, {SPEED_ROWS} rows x 30 features (rows/s, best of "
        f"{REPEATS})",
        "sagebox": f"{ours:,.0f} ({ours_cpu:,.0f} per CPU second)",
        "reference": f"{reference:,.0f} (sklearn IsolationForest.score_samples)",
        "ratio": f"{ours / reference:.2f}x",
        "target": f">= {SPEED_TARGET:,} rows/s",
        "met": "yes" if ours >= SPEED_TARGET else "no",
    }


def run() -> dict[str, Any]:
    rows = [
        auc_row("breast cancer, benign + 10 malignant", cancer_cases()),
        auc_row("digits, each digit as 2% anomalies", digits_cases()),
        auc_row("wine, each class as 5% anomalies, raw features", wine_cases(False)),
        auc_row("wine, each class as 5% anomalies, standardised", wine_cases(True)),
        speed_row(),
    ]
    result = {
        "name": "random_cut_forest",
        "rows": rows,
        "notes": "100 trees x 256 samples for both detectors, seeds 0.. per data set. "
        "Anomaly data built from scikit-learn's bundled breast cancer, digits and wine "
        "data (a minority of one class as the anomalies). Throughput rows are jittered "
        "copies of breast-cancer rows; sagebox scores in one thread with numpy.",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
