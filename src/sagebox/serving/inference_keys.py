"""Selectable inference content: ``SAGEMAKER_INFERENCE_OUTPUT`` / ``SAGEMAKER_INFERENCE_INPUT``.

Autopilot's containers answer with the keys an endpoint asks for, one CSV row per
record, the keys' values in the order named: ``predicted_label``, ``probability``,
``probabilities`` and ``labels``; a list value is written as JSON (``[0.1, 0.9]``,
``["no", "yes"]``), quoted as CSV quotes a cell holding commas. The model container writes class indices; the last
container of the pipeline reads them (``SAGEMAKER_INFERENCE_INPUT``) and writes labels.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

PREDICTED_LABEL, PROBABILITY, PROBABILITIES, LABELS = (
    "predicted_label",
    "probability",
    "probabilities",
    "labels",
)
KEYS = (PREDICTED_LABEL, PROBABILITY, PROBABILITIES, LABELS)
OUTPUT_VARIABLE, INPUT_VARIABLE = "SAGEMAKER_INFERENCE_OUTPUT", "SAGEMAKER_INFERENCE_INPUT"


def keys_from(variable: str, default: Sequence[str] = ()) -> tuple[str, ...]:
    """The keys an environment variable names (comma-separated), else `default`; ValueError for
    a key no container writes."""
    raw = os.environ.get(variable, "")
    keys = tuple(k.strip() for k in raw.split(",") if k.strip()) or tuple(default)
    unknown = [k for k in keys if k not in KEYS]
    if unknown:
        raise ValueError(f"{variable} names unknown keys {unknown}; supported: {', '.join(KEYS)}")
    return keys


def class_scores(scores: np.ndarray, classes: int) -> np.ndarray:
    """Per-class probabilities (n, classes) from a classifier's scores: (n,) for binary (the
    probability of class 1) or (n, classes)."""
    if scores.ndim == 1:
        positive = scores.astype(np.float64)
        return np.column_stack([1.0 - positive, positive])
    return scores.astype(np.float64)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(rows: list[dict[str, Any]], keys: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(row[key]) for key in keys])
    return buffer.getvalue().encode()


def read_csv(body: bytes, keys: Sequence[str]) -> list[dict[str, Any]]:
    """Rows written by `write_csv` with `keys` (list cells parsed back)."""
    rows = []
    for cells in csv.reader(io.StringIO(body.decode())):
        if not cells:
            continue
        if len(cells) != len(keys):
            raise ValueError(
                f"expected {len(keys)} values per row ({', '.join(keys)}), got {len(cells)}: {cells}"
            )
        row: dict[str, Any] = {}
        for key, cell in zip(keys, cells, strict=True):
            text = cell.strip()
            row[key] = json.loads(text) if text.startswith("[") else text
        rows.append(row)
    return rows


def select(
    scores: np.ndarray,
    keys: Sequence[str],
    classes: int | None,
    threshold: float | None = None,
) -> list[dict[str, Any]]:
    """The requested keys of each row from a model's scores; `classes` is None for regression.
    The predicted label is the most probable class, or for two classes with a decision
    `threshold`, class 1 when its probability reaches the threshold."""
    if classes is None:
        return [{PREDICTED_LABEL: float(value)} for value in scores.reshape(-1)]
    probabilities = class_scores(scores, classes)
    if classes == 2 and threshold is not None:
        winners = (probabilities[:, 1] >= threshold).astype(int)
    else:
        winners = probabilities.argmax(axis=1)
    rows = []
    for row, winner in zip(probabilities, winners, strict=True):
        values: dict[str, Any] = {}
        for key in keys:
            if key == PREDICTED_LABEL:
                values[key] = int(winner)
            elif key == PROBABILITY:  # binary: the positive class's; multiclass: the winner's
                values[key] = float(row[1] if classes == 2 else row[winner])
            elif key == PROBABILITIES:
                values[key] = [float(v) for v in row]
            else:
                values[key] = list(range(classes))
        rows.append(values)
    return rows
