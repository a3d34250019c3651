"""Loading the train and validation channels into ``xgboost.DMatrix``.

A channel is read according to its ``ContentType``: ``text/csv`` (``csv``;
``label_size`` may only be 1) or ``text/libsvm`` / ``text/x-libsvm`` (``libsvm``),
LIBSVM when none is given, as SageMaker does. Files whose name starts with ``.``
or ``_`` (e.g. ``_SUCCESS`` markers) are not data.

Only what reading CSV needs is imported with this module; scipy, the LIBSVM reader
and xgboost are imported where they are used, so that a job can read its CSV
channels (``prefetch``) while the process is still importing xgboost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.formats.csv import read_csv
from sagebox.formats.errors import FormatError

if TYPE_CHECKING:
    import scipy.sparse as sp
    import xgboost as xgb

    from sagebox.algorithms.xgboost.prefetch import CsvPrefetch

CSV = "csv"
LIBSVM = "libsvm"
_CONTENT_TYPES = {
    "csv": CSV,
    "text/csv": CSV,
    "libsvm": LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
}


class TrainingError(Exception):
    """The job cannot train as configured; the message says why (a client error)."""


def data_format(content_type: str | None) -> str:
    """``csv`` or ``libsvm`` for a channel's ContentType; raises ``TrainingError``."""
    if content_type is None or not content_type.strip():
        return LIBSVM
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    kind = _CONTENT_TYPES.get(media_type.lower())
    if kind is None:
        accepted = ", ".join(f"'{name}'" for name in _CONTENT_TYPES)
        raise TrainingError(
            f"ContentType '{content_type}' is not supported; expected one of {accepted}"
        )
    options = {}
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        options[key.strip().lower()] = value.strip().strip('"')
    label_size = options.get("label_size")
    if kind == CSV and label_size is not None and label_size != "1":
        raise TrainingError(f"ContentType '{content_type}' is not supported: label_size must be 1")
    return kind


@dataclass(frozen=True)
class ChannelData:
    """A channel's rows before they become a DMatrix."""

    channel: str
    features: np.ndarray | sp.csr_matrix
    labels: np.ndarray
    weights: np.ndarray | None = None
    qid: np.ndarray | None = None

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def num_rows(self) -> int:
        return int(self.features.shape[0])


def data_files(env: TrainingEnvironment, channel: str) -> list[Path]:
    return [path for path in env.channel_files(channel) if not path.name.startswith("_")]


def read_channel(
    env: TrainingEnvironment, channel: str, csv_weights: bool, prefetch: CsvPrefetch | None = None
) -> ChannelData | None:
    """The channel's rows, or None when it holds no data files.

    ``prefetch``: CSV channels already read in the background, taken from there when
    they were read from the same files with the same ``csv_weights``.
    """
    files = data_files(env, channel)
    if not files:
        return None
    config = env.channels.get(channel)
    kind = data_format(config.content_type if config else None)
    root = env.channel_dir(channel)
    try:
        if kind == CSV:
            data = prefetch.take(channel, files, csv_weights) if prefetch else None
            if data is None:
                data = read_csv(files, has_weights=csv_weights, display_root=root)
            features, labels, weights = data
            if labels is None:
                raise TrainingError(f"channel '{channel}': CSV data has no label column")
            return ChannelData(channel, features, labels, weights)
        from sagebox.formats.libsvm import read_libsvm

        rows = read_libsvm(files, display_root=root)
        return ChannelData(channel, rows.features, rows.labels, rows.weights, rows.qid)
    except FormatError as exc:
        raise TrainingError(f"channel '{channel}': {exc}") from None


def align(train: ChannelData, validation: ChannelData) -> tuple[ChannelData, ChannelData]:
    """Give both channels the same number of feature columns.

    Sparse (LIBSVM) data is widened to the larger width, as a feature simply never
    present is zero-valued; dense (CSV) data must already agree.
    """
    if train.num_features == validation.num_features:
        return train, validation
    if isinstance(train.features, np.ndarray) or isinstance(validation.features, np.ndarray):
        raise TrainingError(
            f"channel 'validation' has {validation.num_features} feature columns but channel "
            f"'train' has {train.num_features}; both must have the same columns"
        )
    width = max(train.num_features, validation.num_features)
    return _widen(train, width), _widen(validation, width)


def _widen(data: ChannelData, width: int) -> ChannelData:
    import scipy.sparse as sp

    matrix = data.features
    if not isinstance(matrix, sp.csr_matrix) or matrix.shape[1] == width:
        return data
    wider = sp.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width)
    )
    return ChannelData(data.channel, wider, data.labels, data.weights, data.qid)


def to_dmatrix(data: ChannelData, nthread: int) -> xgb.DMatrix:
    import xgboost as xgb

    return xgb.DMatrix(
        data.features,
        label=data.labels,
        weight=data.weights,
        qid=data.qid,
        missing=np.nan,
        nthread=nthread,
    )
