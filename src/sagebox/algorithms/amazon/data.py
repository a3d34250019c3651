"""Reading a channel the way SageMaker's own algorithms do.

Two content types (the channel's ``ContentType``):

- ``application/x-recordio-protobuf`` (the default when none is given): Float32
  (or Float64 / Int32) tensors, dense or sparse, under ``features["values"]``, the
  label under ``label["values"]``.
- ``text/csv``: no header, numbers only; ``label_size`` (a content-type parameter,
  ``text/csv;label_size=0``) says whether the first column is the label. Its default
  is the algorithm's (1 for supervised ones, 0 for unsupervised ones).

``read_channel`` loads a whole channel; ``stream_channel`` yields it in batches of
rows, file by file and record by record, for data that does not fit in memory.
Features come out as float32: a dense matrix, or CSR when ``sparse=True``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.formats import recordio
from sagebox.formats.csv import read_csv

RECORDIO = "application/x-recordio-protobuf"
CSV = "text/csv"
CONTENT_TYPES = (RECORDIO, CSV)
_ALIASES = {"csv": CSV, "recordio-protobuf": RECORDIO, "application/x-recordio": RECORDIO}

Features = np.ndarray | sp.csr_matrix


@dataclass(frozen=True)
class ChannelData:
    """A channel's rows: float32 features (dense or CSR) and float32 labels, if any."""

    features: Features
    labels: np.ndarray | None

    @property
    def num_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.features)


@dataclass(frozen=True)
class ChannelFormat:
    """How a channel's files are read: ``media`` and, for CSV, the label column count."""

    media: str
    label_size: int


def channel_format(content_type: str | None, default_label_size: int) -> ChannelFormat:
    """Parse a channel's ContentType; raises ``TrainingError`` for unsupported ones."""
    if content_type is None or not content_type.strip():
        return ChannelFormat(RECORDIO, default_label_size)
    name, *parameters = (part.strip() for part in content_type.split(";"))
    media = _ALIASES.get(name.lower(), name.lower())
    if media not in CONTENT_TYPES:
        raise TrainingError(
            f"ContentType '{content_type}' is not supported; expected '{RECORDIO}' or "
            f"'{CSV}' (with ';label_size=0' when the rows have no label)"
        )
    label_size = default_label_size
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "label_size":
            if value.strip() not in ("0", "1"):
                raise TrainingError(
                    f"ContentType '{content_type}': label_size must be 0 or 1, not "
                    f"'{value.strip()}'"
                )
            label_size = int(value.strip())
    return ChannelFormat(media, label_size)


def check_channels(
    env: TrainingEnvironment, allowed: tuple[str, ...], required: tuple[str, ...] = ("train",)
) -> None:
    """Refuse channels the algorithm does not read; require ``required`` ones."""
    unknown = sorted(set(env.channels) - set(allowed))
    if unknown:
        raise TrainingError(
            f"channel '{unknown[0]}' is not supported; supported channels: {', '.join(allowed)}"
        )
    for name in required:
        if name not in env.channels and not env.channel_dir(name).is_dir():
            raise TrainingError(f"the required channel '{name}' is missing")


def has_channel(env: TrainingEnvironment, channel: str) -> bool:
    return channel in env.channels or env.channel_dir(channel).is_dir()


def _data_files(env: TrainingEnvironment, channel: str) -> list[Path]:
    return [
        path
        for path in env.channel_files(channel)
        if not path.name.startswith(("_", ".")) and not path.name.endswith(".manifest")
    ]


def _format_of(env: TrainingEnvironment, channel: str, default_label_size: int) -> ChannelFormat:
    config = env.channels.get(channel)
    return channel_format(config.content_type if config else None, default_label_size)


def _relative(path: Path, env: TrainingEnvironment) -> str:
    try:
        return str(path.relative_to(env.input_data_dir))
    except ValueError:
        return path.name


def _records_to_data(
    records: Iterable[recordio.Record],
    feature_dim: int | None,
    sparse: bool,
    name: str,
    first_record: int = 1,
) -> ChannelData:
    convert = recordio.to_sparse if sparse else recordio.to_dense
    features, labels = convert(records, feature_dim, name=name, first_record=first_record)
    return ChannelData(features, labels)


def _check_width(data: ChannelData, feature_dim: int | None, where: str) -> None:
    if feature_dim is not None and data.num_features != feature_dim:
        raise TrainingError(
            f"{where}: rows have {data.num_features} features, but {feature_dim} are expected "
            "(the train channel's width, or feature_dim)"
        )


def _finish(data: ChannelData, require_labels: bool, where: str) -> ChannelData:
    if require_labels and data.labels is None:
        raise TrainingError(
            f"{where}: the rows have no labels; this algorithm needs a label (the first CSV "
            "column, or label['values'] in RecordIO-protobuf records)"
        )
    if data.labels is not None and not np.all(np.isfinite(data.labels)):
        row = int(np.argmin(np.isfinite(data.labels)))
        raise TrainingError(f"{where}: row {row + 1} has a label that is not a finite number")
    return data


def stream_channel(
    env: TrainingEnvironment,
    channel: str,
    *,
    batch_size: int,
    require_labels: bool = False,
    default_label_size: int = 1,
    feature_dim: int | None = None,
    sparse: bool = False,
) -> Iterator[ChannelData]:
    """The channel's rows in batches of at most ``batch_size``, in file order.

    RecordIO-protobuf files are read record by record; CSV files one file at a time.
    Raises ``TrainingError`` or ``FormatError`` naming the file and record or line.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    fmt = _format_of(env, channel, default_label_size)
    files = _data_files(env, channel)
    if not files:
        raise TrainingError(f"channel '{channel}' has no data files")
    width = feature_dim
    for path in files:
        name = _relative(path, env)
        if fmt.media == CSV:
            X, y, _ = read_csv(path, label_size=fmt.label_size, display_root=env.input_data_dir)
            data = ChannelData(sp.csr_matrix(X) if sparse else X, y)
            _check_width(data, width, name)
            width = data.num_features
            for start in range(0, data.num_rows, batch_size):
                part = ChannelData(
                    data.features[start : start + batch_size],
                    None if data.labels is None else data.labels[start : start + batch_size],
                )
                yield _finish(part, require_labels, name)
            continue
        records = recordio.read_records(path, name=name)
        first_record = 1
        while True:
            chunk = list(islice(records, batch_size))
            if not chunk:
                break
            part = _records_to_data(chunk, width, sparse, name, first_record)
            first_record += len(chunk)
            width = part.num_features
            yield _finish(part, require_labels, name)


def read_channel(
    env: TrainingEnvironment,
    channel: str,
    *,
    require_labels: bool = False,
    default_label_size: int = 1,
    feature_dim: int | None = None,
    sparse: bool = False,
) -> ChannelData | None:
    """The whole channel in memory; None when the job has no such channel.

    ``feature_dim``: the width rows must have (pass the train channel's width when
    reading validation or test). Raises ``TrainingError`` or ``FormatError``.
    """
    if not has_channel(env, channel):
        return None
    fmt = _format_of(env, channel, default_label_size)
    files = _data_files(env, channel)
    if not files:
        raise TrainingError(f"channel '{channel}' has no data files")
    if fmt.media == CSV:
        X, y, _ = read_csv(files, label_size=fmt.label_size, display_root=env.input_data_dir)
        data = ChannelData(sp.csr_matrix(X) if sparse else X, y)
        _check_width(data, feature_dim, f"channel '{channel}'")
        return _finish(data, require_labels, f"channel '{channel}'")
    parts = [
        _records_to_data(
            recordio.read_records(path, name=_relative(path, env)),
            feature_dim,
            sparse,
            _relative(path, env),
        )
        for path in files
    ]
    width = feature_dim if feature_dim is not None else parts[0].num_features
    for path, part in zip(files, parts, strict=True):
        _check_width(part, width, _relative(path, env))
    labelled = {part.labels is not None for part in parts}
    if len(labelled) > 1:
        raise TrainingError(f"channel '{channel}': some files have labels and others do not")
    stack = sp.vstack if sparse else np.vstack
    features = stack([part.features for part in parts])
    if sparse:
        features = sp.csr_matrix(features)
    labels = np.concatenate([part.labels for part in parts]) if labelled == {True} else None
    return _finish(ChannelData(features, labels), require_labels, f"channel '{channel}'")


def mini_batches(
    num_rows: int, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Row indices of each mini-batch of an epoch, shuffled when ``rng`` is given."""
    order = rng.permutation(num_rows) if rng is not None else np.arange(num_rows)
    for start in range(0, num_rows, batch_size):
        yield order[start : start + batch_size]
