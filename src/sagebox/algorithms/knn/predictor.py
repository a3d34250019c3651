"""Turning each row's neighbor labels into a prediction (``predictor_type``).

- ``classifier``: the most frequent label among the ``k`` neighbors; when several
  labels are equally frequent, the smallest of them wins (scikit-learn's
  ``KNeighborsClassifier`` makes the same choice: ``argmax`` over its sorted classes).
- ``regressor``: the mean of the neighbors' labels.
"""

from __future__ import annotations

import numpy as np

CLASSIFIER = "classifier"
REGRESSOR = "regressor"


def majority_vote(labels: np.ndarray) -> np.ndarray:
    """Per row of ``labels`` (rows, k): the most frequent value, the smallest on ties."""
    ordered = np.sort(np.asarray(labels, dtype=np.float64), axis=1)
    count, width = ordered.shape
    if width == 0:
        raise ValueError("there are no neighbor labels to vote with")
    positions = np.arange(width)
    changes = ordered[:, 1:] != ordered[:, :-1]
    starts = np.ones_like(ordered, dtype=bool)
    starts[:, 1:] = changes
    ends = np.ones_like(ordered, dtype=bool)
    ends[:, :-1] = changes
    run_start = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    run_end = np.minimum.accumulate(np.where(ends, positions, width)[:, ::-1], axis=1)[:, ::-1]
    run_length = run_end - run_start + 1
    # argmax takes the first longest run; runs are in ascending label order
    return ordered[np.arange(count), run_length.argmax(axis=1)]


def mean_label(labels: np.ndarray) -> np.ndarray:
    """Per row of ``labels`` (rows, k): the mean, in float64."""
    return np.asarray(labels, dtype=np.float64).mean(axis=1)


def predict_labels(predictor_type: str, neighbor_labels: np.ndarray) -> np.ndarray:
    """The predicted label of each row from its neighbors' labels."""
    if predictor_type == CLASSIFIER:
        return majority_vote(neighbor_labels)
    if predictor_type == REGRESSOR:
        return mean_label(neighbor_labels)
    raise ValueError(
        f"unknown predictor_type '{predictor_type}'; expected '{CLASSIFIER}' or '{REGRESSOR}'"
    )
