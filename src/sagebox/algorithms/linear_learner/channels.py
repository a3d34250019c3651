"""Reading Linear Learner's channels (train, validation, test) and checking their rows.

Rows come as SageMaker's own algorithms take them: CSV with the label in the first
column, or RecordIO-protobuf (dense or sparse Float32 tensors, the label under
``label["values"]``). RecordIO data stays sparse unless it is mostly non-zero.
Every feature must be a finite number, and the labels must fit the predictor type:
0 or 1 for a binary classifier, a whole number in [0, num_classes) for a multiclass
classifier. A bad row fails the job naming its file and line (CSV) or record.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.amazon.data import (
    CSV,
    ChannelData,
    channel_format,
    has_channel,
    read_channel,
)
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS
from sagebox.algorithms.linear_learner.trainer import Dataset
from sagebox.formats import recordio
from sagebox.formats.csv import read_csv

DENSE_ENOUGH = 0.25
"""RecordIO rows with at least this share of non-zero values are trained on densely."""


def _data_files(env: TrainingEnvironment, channel: str) -> list[Path]:
    """The channel's data files in reading order (hidden, ``_*`` and manifest files skipped)."""
    return [
        path
        for path in env.channel_files(channel)
        if not path.name.startswith(("_", ".")) and not path.name.endswith(".manifest")
    ]


def _relative(env: TrainingEnvironment, path: Path) -> str:
    try:
        return str(path.relative_to(env.input_data_dir))
    except ValueError:
        return path.name


def locate_row(env: TrainingEnvironment, channel: str, row: int) -> str:
    """``<file> line N`` (CSV) or ``<file> record N`` for the channel's 0-based ``row``."""
    config = env.channels.get(channel)
    media = channel_format(config.content_type if config else None, 1).media
    remaining = row
    for path in _data_files(env, channel):
        if media == CSV:
            count = len(read_csv(path, label_size=1, display_root=env.input_data_dir).features)
        else:
            count = sum(1 for _ in recordio.read_records(path, name=path.name))
        if remaining < count:
            unit = "line" if media == CSV else "record"
            return f"{_relative(env, path)} {unit} {remaining + 1}"
        remaining -= count
    return f"channel '{channel}' row {row + 1}"


def _finite_features(features: np.ndarray | sp.csr_matrix) -> int | None:
    """The first row with a missing or infinite feature value, if any."""
    if sp.issparse(features):
        bad = ~np.isfinite(features.data)
        if not bad.any():
            return None
        position = int(np.argmax(bad))
        return int(np.searchsorted(features.indptr, position, side="right") - 1)
    finite = np.isfinite(features).all(axis=1)
    return None if finite.all() else int(np.argmin(finite))


def _bad_label(labels: np.ndarray, predictor_type: str, num_classes: int) -> tuple[int, str] | None:
    """(first row, what is allowed) for a label the predictor cannot learn, if any."""
    if predictor_type == BINARY:
        bad = (labels != 0) & (labels != 1)
        allowed = "0 or 1 for a binary_classifier"
    elif predictor_type == MULTICLASS:
        bad = (labels < 0) | (labels >= num_classes) | (labels != np.floor(labels))
        allowed = f"a whole number in [0, {num_classes - 1}] (num_classes is {num_classes})"
    else:
        return None
    if not bad.any():
        return None
    return int(np.argmax(bad)), allowed


def _dense_if_full(features: sp.csr_matrix) -> np.ndarray | sp.csr_matrix:
    cells = features.shape[0] * features.shape[1]
    if cells and features.nnz / cells >= DENSE_ENOUGH:
        return features.toarray()
    return features


def load_channel(
    env: TrainingEnvironment,
    channel: str,
    *,
    predictor_type: str,
    num_classes: int,
    feature_dim: int | None,
    sparse: bool | None = None,
) -> Dataset | None:
    """A channel's rows, checked; None when the job has no such channel.

    ``sparse``: keep the rows sparse (True), dense (False), or decide from the data
    (None: CSV is dense, RecordIO stays sparse unless mostly non-zero).
    """
    if not has_channel(env, channel):
        return None
    config = env.channels.get(channel)
    media = channel_format(config.content_type if config else None, 1).media
    data: ChannelData | None = read_channel(
        env, channel, require_labels=True, feature_dim=feature_dim, sparse=media != CSV
    )
    if data is None:
        return None
    features = data.features
    if sp.issparse(features):
        features = _dense_if_full(features) if sparse is None else features
        if sparse is False and sp.issparse(features):
            features = features.toarray()
    elif sparse:
        features = sp.csr_matrix(features)
    if data.num_rows == 0:
        raise TrainingError(f"channel '{channel}' has no rows")
    row = _finite_features(features)
    if row is not None:
        raise TrainingError(
            f"{locate_row(env, channel, row)}: a feature value is missing or not a finite "
            f"number (channel '{channel}'); every feature must be a number"
        )
    labels = np.asarray(data.labels, dtype=np.float32)
    problem = _bad_label(labels, predictor_type, num_classes)
    if problem is not None:
        row, allowed = problem
        raise TrainingError(
            f"{locate_row(env, channel, row)}: label {labels[row]:g} is not allowed "
            f"(channel '{channel}'); labels must be {allowed}"
        )
    return Dataset(features, labels)
