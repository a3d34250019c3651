"""The pre_training_bias_metrics and post_training_bias_metrics sections of analysis.json.

    {"label": "<label column>",
     "label_value_or_threshold": "1",
     "facets": {"<facet column>": [{"value_or_threshold": "0",
                                     "metrics": [{"name": "CI", "description": "...", "value": 0.2}, ...]}]}}

One entry per facet column and, within it, per sensitive group (`groups.facet_groups`);
metrics in name order. Callable as a library (the Model Monitor's bias drift uses it) with
a table and the column names, without any job around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sagebox.analysis.clarify.bias_metrics import (
    POST_TRAINING,
    PRE_TRAINING,
    BiasInputs,
    metric_entry,
)
from sagebox.analysis.clarify.groups import facet_groups, positive_outcomes, predicted_positive


@dataclass(frozen=True)
class BiasColumns:
    """Which columns of a table the bias analysis reads."""

    label: str
    label_values_or_threshold: tuple[Any, ...]
    facets: tuple[tuple[str, tuple[Any, ...] | None], ...]
    """(column, value_or_threshold or None) per facet."""
    group_variable: str | None = None
    features: tuple[str, ...] = ()
    """The model's features; the flip test uses them, less the facet."""


def _numeric_features(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray | None:
    if not columns:
        return None
    block = frame.loc[:, list(columns)]
    if all(pd.api.types.is_numeric_dtype(block[c]) and not pd.api.types.is_bool_dtype(block[c]) for c in columns):
        return block.to_numpy(dtype=float)
    return block.to_numpy(dtype=object)


def bias_section(
    frame: pd.DataFrame,
    columns: BiasColumns,
    methods: Sequence[str],
    predicted: pd.Series | None = None,
) -> dict[str, Any]:
    """One section: pre-training metrics when `predicted` is None, post-training otherwise."""
    registry = PRE_TRAINING if predicted is None else POST_TRAINING
    label_series = frame[columns.label]
    label_positive, label_shown = positive_outcomes(label_series, columns.label_values_or_threshold)
    predicted_mask = None
    if predicted is not None:
        predicted_mask = predicted_positive(predicted.reset_index(drop=True), label_series.reset_index(drop=True), columns.label_values_or_threshold)
    group = frame[columns.group_variable].to_numpy() if columns.group_variable else None
    facets: dict[str, list[dict[str, Any]]] = {}
    for facet_column, values in columns.facets:
        features = _numeric_features(frame, [c for c in columns.features if c != facet_column])
        entries = []
        for group_of_facet in facet_groups(frame[facet_column], values, facet_column):
            inputs = BiasInputs(
                facet=group_of_facet.mask,
                label=label_positive,
                predicted=predicted_mask,
                group=group,
                features=features,
            )
            metrics = [metric_entry(name, *registry[name], inputs) for name in sorted(methods)]
            entries.append({"value_or_threshold": group_of_facet.value_or_threshold, "metrics": metrics})
        facets[facet_column] = entries
    return {"label": columns.label, "facets": facets, "label_value_or_threshold": label_shown}
