"""Partial dependence: the model's mean score as one feature takes each value of a grid.

For a numerical feature the range [min, max] is cut into ``grid_resolution`` equal
buckets; ``feature_values`` are their centres and ``data_distribution`` the share of
records in each. A feature with at most ``grid_resolution`` distinct values, or a
non-numeric one, is categorical: its values, with their shares. ``model_predictions[l][i]``
is the mean of score ``l`` over the records (at most MAX_RECORDS of them, a seeded
sample) with the feature set to value ``i``: the schema of analysis.json's
``explanations.pdp`` entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

MAX_RECORDS = 1000


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def partial_dependence(
    predict: Callable[[np.ndarray], np.ndarray],
    frame: pd.DataFrame,
    feature: str,
    grid_resolution: int,
    label_headers: list[str],
    seed: int = 0,
) -> dict[str, Any]:
    column = frame[feature]
    numerical = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column) and column.nunique() > grid_resolution
    if numerical:
        edges = np.linspace(float(column.min()), float(column.max()), grid_resolution + 1)
        values: list[Any] = list((edges[:-1] + edges[1:]) / 2)
        counts, _ = np.histogram(column.to_numpy(dtype=float), bins=edges)
        distribution = list(counts / len(column))
    else:
        shares = column.value_counts(normalize=True, sort=False)
        order = sorted(shares.index, key=lambda v: (str(type(v)), v))
        values = [_plain(v) for v in order]
        distribution = [float(shares[v]) for v in order]
    sample = frame
    if len(frame) > MAX_RECORDS:
        sample = frame.iloc[np.random.default_rng(seed).choice(len(frame), MAX_RECORDS, replace=False)]
    rows = sample.to_numpy()
    position = list(frame.columns).index(feature)
    grid = np.concatenate([rows] * len(values))
    for i, value in enumerate(values):
        grid[i * len(rows) : (i + 1) * len(rows), position] = value
    if all(pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns):
        grid = grid.astype(float)
    scores = predict(grid).reshape(len(values), len(rows), -1).mean(axis=1)
    return {
        "feature_name": feature,
        "data_type": "numerical" if numerical else "categorical",
        "feature_values": [float(v) if numerical else v for v in values],
        "data_distribution": [float(d) for d in distribution],
        "model_predictions": [[float(s) for s in scores[:, j]] for j in range(scores.shape[1])],
        "label_headers": label_headers[: scores.shape[1]],
    }
