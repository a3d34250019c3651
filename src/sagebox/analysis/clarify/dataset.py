"""The data set of a Clarify analysis, read as the SDK writes it, into one table.

Every file below the dataset folder is read in name order and the rows concatenated:

- ``text/csv``: comma-separated, with or without a header row. With ``headers`` in the
  configuration a first row equal to them is a header row; without, a first row of
  nothing but non-numeric cells over numeric data is one, and columns without names are
  called ``column_0``, ``column_1``, ...
- ``application/x-parquet``: the files' own column names.
- ``application/jsonlines``: one JSON object a line; the ``features`` JMESPath gives the
  list of feature values, ``label`` and ``predicted_label`` JMESPaths give single values.
  ``headers`` name the features, then the label, then the predicted label.
- ``application/json``: one JSON document a file; ``features`` gives the 2-D list of
  feature values, ``label`` / ``predicted_label`` lists of values.

The model's input (`Dataset.feature_columns`) is every column except the label, the
predicted label, the join-source identifier and ``excluded_columns``, in data set order.
Facet and group columns stay in the table whether the model sees them or not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath
import numpy as np
import pandas as pd

from sagebox.analysis.clarify.config import AnalysisConfig, Column
from sagebox.analysis.clarify.errors import ClarifyError


@dataclass(frozen=True)
class Dataset:
    """The whole table plus which of its columns play which part."""

    frame: pd.DataFrame
    feature_columns: tuple[str, ...]
    label: str | None = None
    predicted_label: str | None = None
    joinsource: str | None = None

    def column(self, name_or_index: Column, member: str) -> str:
        """The name of a column given by name or zero-based index, or a ClarifyError naming `member`."""
        columns = [str(c) for c in self.frame.columns]
        if isinstance(name_or_index, int):
            if 0 <= name_or_index < len(columns):
                return columns[name_or_index]
            raise ClarifyError(
                f"Unable to locate the {member}: index {name_or_index} is outside the dataset's "
                f"{len(columns)} columns {columns}."
            )
        if name_or_index in columns:
            return name_or_index
        raise ClarifyError(
            f"Unable to locate the {member} '{name_or_index}': it is not a column of the dataset. "
            f"The columns are {columns}."
        )

    @property
    def features(self) -> pd.DataFrame:
        return self.frame.loc[:, list(self.feature_columns)]


def dataset_files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ClarifyError(f"The dataset input is empty: no file was found under {folder.name}/ to analyse.")
    return files


def _is_number(text: Any) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _read_csv(files: Sequence[Path], headers: tuple[str, ...] | None) -> pd.DataFrame:
    frames = []
    for path in files:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, skipinitialspace=True)
        if raw.empty:
            continue
        first = [str(v).strip() for v in raw.iloc[0]]
        if headers is not None:
            has_header = first == list(headers)
        else:
            rest_numeric = len(raw) > 1 and any(_is_number(v) for v in raw.iloc[1])
            has_header = rest_numeric and not any(_is_number(v) for v in first)
        skip = 1 if has_header else 0
        frame = pd.read_csv(path, header=None, skiprows=skip, skipinitialspace=True)
        if has_header and headers is None:
            frame.columns = first
        frames.append(frame)
    if not frames:
        raise ClarifyError("The dataset has no rows.")
    widths = {f.shape[1] for f in frames}
    if len(widths) > 1:
        raise ClarifyError(f"The dataset's files have different numbers of columns: {sorted(widths)}.")
    if headers is None and any(isinstance(c, str) for c in frames[0].columns):
        names = [str(c) for c in frames[0].columns]
        frames = [f.set_axis(names, axis=1) for f in frames]
    return pd.concat(frames, ignore_index=True)


def _search(expression: str, document: Any, member: str) -> Any:
    try:
        return jmespath.search(expression, document)
    except jmespath.exceptions.JMESPathError as exc:
        raise ClarifyError(f"'{member}' {expression!r} is not a valid JMESPath expression: {exc}") from exc


def _json_records(files: Sequence[Path], config: AnalysisConfig) -> tuple[list[list[Any]], list[Any], list[Any]]:
    features, labels, predicted = [], [], []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            documents = (
                [json.loads(line) for line in text.splitlines() if line.strip()]
                if config.dataset_type == "application/jsonlines"
                else [json.loads(text)]
            )
        except json.JSONDecodeError as exc:
            raise ClarifyError(f"The dataset file {path.name} is not valid {config.dataset_type}: {exc}") from exc
        for document in documents:
            found = _search(str(config.features), document, "features")
            if found is None:
                raise ClarifyError(f"Data must contain features: 'features' {config.features!r} found nothing in {path.name}.")
            rows = found if config.dataset_type == "application/json" else [found]
            features.extend(rows)
            for member, expression, into in (("label", config.label, labels), ("predicted_label", config.predicted_label, predicted)):
                if expression is None:
                    continue
                value = _search(str(expression), document, member)
                if value is None:
                    raise ClarifyError(f"'{member}' {expression!r} found nothing in {path.name}.")
                into.extend(value if config.dataset_type == "application/json" else [value])
    return features, labels, predicted


def _json_frame(files: Sequence[Path], config: AnalysisConfig) -> tuple[pd.DataFrame, str | None, str | None]:
    features, labels, predicted = _json_records(files, config)
    widths = {len(row) if isinstance(row, list) else -1 for row in features}
    if -1 in widths or len(widths) != 1:
        raise ClarifyError("Data must contain features: every record's features must be a list of the same length.")
    width = widths.pop()
    extra = [name for name, values in (("label", labels), ("predicted_label", predicted)) if values]
    headers = list(config.headers) if config.headers else [f"column_{i}" for i in range(width)] + extra
    if len(headers) != width + len(extra):
        raise ClarifyError(
            f"Headers in config do not match with the number of columns in the dataset: {len(headers)} headers "
            f"for {width} features{' plus ' + ' and '.join(extra) if extra else ''}."
        )
    frame = pd.DataFrame(features, columns=headers[:width])
    label_name = predicted_name = None
    for offset, (name, values) in enumerate((n, v) for n, v in (("label", labels), ("predicted_label", predicted)) if v):
        if len(values) != len(frame):
            raise ClarifyError(f"The dataset has {len(frame)} feature rows but {len(values)} values of '{name}'.")
        column = headers[width + offset]
        frame[column] = values
        if name == "label":
            label_name = column
        else:
            predicted_name = column
    return frame, label_name, predicted_name


def read_table(files: Sequence[Path], config: AnalysisConfig) -> tuple[pd.DataFrame, str | None, str | None]:
    """The table and, for JSON data, the names given to the label and predicted label."""
    if config.dataset_type == "text/csv":
        frame = _read_csv(files, config.headers)
    elif config.dataset_type == "application/x-parquet":
        frame = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)
    else:
        return _json_frame(files, config)
    if config.headers is not None:
        if len(config.headers) != frame.shape[1]:
            raise ClarifyError(
                f"Headers in config do not match with the number of columns in the dataset: {len(config.headers)} "
                f"headers {list(config.headers)} for {frame.shape[1]} columns."
            )
        frame.columns = list(config.headers)
    elif all(isinstance(c, int | np.integer) for c in frame.columns):
        frame.columns = [f"column_{i}" for i in range(frame.shape[1])]
    frame.columns = [str(c) for c in frame.columns]
    return frame, None, None


def _names(dataset: Dataset, columns: Iterable[Column], member: str) -> list[str]:
    return [dataset.column(c, member) for c in columns]


def build_dataset(frame: pd.DataFrame, config: AnalysisConfig, label: str | None = None, predicted: str | None = None) -> Dataset:
    """Which columns of `frame` are the label, predicted label, join source and model input."""
    if frame.empty:
        raise ClarifyError("The dataset has no rows.")
    probe = Dataset(frame, tuple(str(c) for c in frame.columns))
    if label is None and config.label is not None:
        label = probe.column(config.label, "label")
    if predicted is None and config.predicted_label is not None:
        predicted = probe.column(config.predicted_label, "predicted label")
    joinsource = probe.column(config.joinsource, "joinsource_name_or_index") if config.joinsource is not None else None
    excluded = set(_names(probe, config.excluded_columns, "excluded column"))
    left_out = {c for c in (label, predicted, joinsource) if c is not None} | excluded
    features = tuple(c for c in probe.feature_columns if c not in left_out)
    if not features:
        raise ClarifyError("Data must contain features: every column is the label, predicted label, join source or excluded.")
    return Dataset(frame, features, label, predicted, joinsource)


def load_dataset(folder: Path, config: AnalysisConfig) -> Dataset:
    """The data set in `folder` (the 'dataset' processing input) as the configuration describes it."""
    frame, label, predicted = read_table(dataset_files(folder), config)
    return build_dataset(frame, config, label, predicted)
