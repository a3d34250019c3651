"""Binary decision thresholds: tuned on out-of-fold predictions for F1 and BalancedAccuracy,
scored as scikit-learn scores thresholded labels, and used by the model server."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from sagebox.analysis.automl import ensembles
from sagebox.analysis.automl.problems import BINARY


def _imbalanced(rows: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels with 15 % positives and scores that rank them well but sit mostly under 0.5."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(rows) < 0.15).astype(float)
    positive = np.clip(0.1 + 0.25 * labels + rng.normal(0, 0.1, rows), 0, 1)
    return labels, np.column_stack([1 - positive, positive])


@pytest.mark.parametrize(
    ("objective", "measure"), [("F1", f1_score), ("BalancedAccuracy", balanced_accuracy_score)]
)
def test_the_tuned_threshold_beats_one_half_and_is_near_the_best_of_the_grid(
    objective: str, measure: Any
) -> None:
    labels, scores = _imbalanced()
    threshold = ensembles.tune_threshold(labels, scores, objective)
    assert threshold in ensembles.THRESHOLD_GRID
    at = {t: measure(labels, (scores[:, 1] >= t).astype(int)) for t in ensembles.THRESHOLD_GRID}
    assert at[threshold] > at[0.5] + 0.05
    assert at[threshold] >= max(at.values()) - 0.02  # smoothing may give up a little
    values = ensembles.metrics(BINARY, labels, scores, threshold=threshold)
    assert values[objective] == pytest.approx(at[threshold])
    assert values["Accuracy"] == pytest.approx(
        np.mean((scores[:, 1] >= threshold).astype(int) == labels)
    )


def test_ties_go_to_the_threshold_closest_to_one_half() -> None:
    labels = np.array([0, 0, 1, 1], dtype=float)
    positive = np.array([0.01, 0.01, 0.99, 0.99])  # every threshold in the grid separates them
    assert ensembles.tune_threshold(labels, np.column_stack([1 - positive, positive]), "F1") == 0.5


def test_objectives_without_a_threshold_are_refused() -> None:
    labels, scores = _imbalanced(100)
    with pytest.raises(ValueError, match="Accuracy"):
        ensembles.tune_threshold(labels, scores, "Accuracy")


def test_the_model_server_decides_labels_with_the_threshold(tmp_path: Any) -> None:
    import joblib

    from sagebox.serving.handlers import automl_ensemble

    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + rng.normal(0, 1, 300) > 1.2).astype(float)
    splits = ensembles.folds(y, BINARY, count=2, seed=0)
    bag, oof = ensembles.fit_bagged("linear-learner", BINARY, 2, x, y, splits)
    threshold = ensembles.tune_threshold(y, oof, "F1")
    model = ensembles.WeightedEnsemble(BINARY, 2, [bag], [1.0], threshold=threshold)
    joblib.dump(model, tmp_path / automl_ensemble.MODEL_FILE)
    handler = automl_ensemble.load(tmp_path)
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in x).encode()
    answer, _ = handler.predict(body, "text/csv", "text/csv")
    served = np.array([int(line) for line in answer.decode().split()])
    expected = (model.predict(x)[:, 1] >= threshold).astype(int)
    np.testing.assert_array_equal(served, expected)
    assert threshold < 0.5 and (served != model.predict(x).argmax(axis=1)).any()


@pytest.mark.parametrize("objective", ["F1", "BalancedAccuracy"])
def test_counted_scores_equal_scikit_learn_at_every_threshold(objective: str) -> None:
    labels, scores = _imbalanced(400, seed=3)
    weights = np.random.default_rng(4).uniform(0.2, 3.0, len(labels))
    measure = f1_score if objective == "F1" else balanced_accuracy_score
    counted = ensembles.threshold_scores(labels, scores, objective, weights)
    expected = [
        measure(labels, (scores[:, 1] >= t).astype(int), sample_weight=weights)
        for t in ensembles.THRESHOLD_GRID
    ]
    np.testing.assert_allclose(counted, expected, atol=1e-12)
    best = ensembles.tune_threshold(labels, scores, objective, weights)
    assert ensembles.tuned_score(labels, scores, objective, weights) <= max(expected) + 1e-12
    assert (
        ensembles.tuned_score(labels, scores, objective, weights)
        >= counted[list(ensembles.THRESHOLD_GRID).index(best)] - 0.05
    )
