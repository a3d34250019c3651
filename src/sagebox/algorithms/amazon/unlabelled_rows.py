"""Unlabelled training rows that must be finite numbers (K-Means and PCA read them so).

``finite_batches`` streams a channel through the shared reader with CSV's unsupervised
default (``label_size=0``; a label column, if declared, is ignored) and refuses a row
with a missing or non-finite feature, naming the file and the row or record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sagebox.algorithms.amazon.data import CSV, channel_format, stream_channel
from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.formats import recordio
from sagebox.formats.csv import read_csv

UNSUPERVISED_LABEL_SIZE = 0


def _data_files(env: TrainingEnvironment, channel: str) -> list[Path]:
    """The channel's data files in the order the shared reader streams them."""
    return [
        path
        for path in env.channel_files(channel)
        if not path.name.startswith(("_", ".")) and not path.name.endswith(".manifest")
    ]


def locate_row(env: TrainingEnvironment, channel: str, index: int) -> str:
    """Where the channel's ``index``-th row (0-based, across its files) is: ``train/a.csv row 7``."""
    config = env.channels.get(channel)
    fmt = channel_format(config.content_type if config else None, UNSUPERVISED_LABEL_SIZE)
    for path in _data_files(env, channel):
        if fmt.media == CSV:
            rows = read_csv(path, label_size=fmt.label_size).features.shape[0]
            unit = "row"
        else:
            rows = sum(1 for _ in recordio.read_records(path))
            unit = "record"
        if index < rows:
            try:
                name = str(path.relative_to(env.input_data_dir))
            except ValueError:
                name = path.name
            return f"{name} {unit} {index + 1}"
        index -= rows
    return f"channel '{channel}' row {index + 1}"


def finite_batches(
    env: TrainingEnvironment,
    channel: str,
    *,
    batch_size: int,
    feature_dim: int,
    algorithm: str,
) -> Iterator[np.ndarray]:
    """The channel's feature rows in dense float32 batches of at most ``batch_size``.

    Raises ``TrainingError`` (or the reader's ``FormatError``) naming the file and row
    for rows of the wrong width or with a feature that is not a finite number.
    """
    offset = 0
    for part in stream_channel(
        env,
        channel,
        batch_size=batch_size,
        default_label_size=UNSUPERVISED_LABEL_SIZE,
        feature_dim=feature_dim,
    ):
        features = np.asarray(part.features)
        finite = np.isfinite(features)
        if not finite.all():
            row, column = (int(i[0]) for i in np.nonzero(~finite))
            raise TrainingError(
                f"{locate_row(env, channel, offset + row)}: feature {column + 1} is "
                f"'{features[row, column]}', not a finite number ({algorithm} needs a number "
                "in every column; an empty CSV field is a missing value)"
            )
        offset += features.shape[0]
        yield features
