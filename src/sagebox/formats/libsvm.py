"""LIBSVM training data (``text/libsvm``, ``text/x-libsvm``) with xgboost's semantics.

One record per line: ``label[:weight] [qid:N] index:value index:value ...``, where a
``#`` starts a comment. Feature indices are used as column numbers exactly as
given, the way xgboost's own LIBSVM parser does it: 1-based data simply leaves
column 0 empty. The result is a float32 CSR matrix whose width is the largest
index plus one.

Lines are split in Python; the ``index:value`` tokens of the whole file are
parsed in one go by ``pyarrow.csv`` (one token per row, ``:`` as delimiter), which
also enforces their shape. A file that fails is scanned again token by token to
report the exact line and token at fault.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import scipy.sparse as sp

from sagebox.formats.errors import FormatError
from sagebox.formats.textfiles import PathArgument, as_path_list, display_name, read_text

_ONE_TOKEN_PER_LINE = str.maketrans({" ": "\n", "\t": "\n"})


class LibsvmData(NamedTuple):
    """Rows read from LIBSVM files: features (CSR), labels, optional weights and qids."""

    features: sp.csr_matrix
    labels: np.ndarray
    weights: np.ndarray | None
    qid: np.ndarray | None


@dataclass
class _Lines:
    """The raw pieces of one file, split per record, before numeric conversion."""

    numbers: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: list[str | None] = field(default_factory=list)
    qids: list[str | None] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)


def read_libsvm(
    paths: PathArgument,
    *,
    min_features: int = 0,
    display_root: Path | None = None,
) -> LibsvmData:
    """Read LIBSVM files (plain or gzip) in order into one CSR matrix.

    ``min_features``: the matrix has at least this many columns (to line up a
    validation set with its training set). Raises ``FormatError`` on a bad token.
    """
    files = as_path_list(paths)
    if not files:
        raise ValueError("no LIBSVM files to read")
    parts = [_parse_file(path, display_name(path, display_root)) for path in files]
    with_qid = {part.qid is not None for part in parts}
    with_weights = {part.weights is not None for part in parts}
    if len(with_qid) > 1 or len(with_weights) > 1:
        raise FormatError(
            display_name(files[0], display_root),
            "files disagree on whether rows carry qid or label weights",
        )
    matrices = [part.features for part in parts]
    width = max(min_features, *(matrix.shape[1] for matrix in matrices))
    matrices = [_widen(matrix, width) for matrix in matrices]
    features = matrices[0] if len(matrices) == 1 else sp.vstack(matrices, format="csr")
    labels = np.concatenate([part.labels for part in parts])
    weights = _concatenate([part.weights for part in parts])
    qid = _concatenate([part.qid for part in parts])
    return LibsvmData(features, labels, weights, qid)


def _concatenate(arrays: list[np.ndarray | None]) -> np.ndarray | None:
    present = [array for array in arrays if array is not None]
    return np.concatenate(present) if present else None


def _widen(matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    if matrix.shape[1] == width:
        return matrix
    return sp.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width)
    )


def _parse_file(path: Path, name: str) -> LibsvmData:
    try:
        text = read_text(path)
    except UnicodeDecodeError:
        raise FormatError(name, "the file is not UTF-8 text") from None
    except (OSError, EOFError) as exc:
        raise FormatError(name, f"the file cannot be read ({exc})") from None
    records = _records(text)
    if not records:
        raise FormatError(name, "the file is empty; expected at least one LIBSVM row")
    lines = _split_lines(records, name)
    try:
        return _convert(lines, *_pairs_fast(lines))
    except (ValueError, pa.ArrowInvalid):
        for number, record in records:
            _check_line(name, number, record)
        # every token is valid to Python, if not to pyarrow: convert them one by one
        return _convert(lines, *_pairs_python(lines))


def _pairs_fast(lines: _Lines) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of every feature token, in order, parsed by pyarrow."""
    tokens = "\n".join(lines.features).translate(_ONE_TOKEN_PER_LINE)
    if not tokens.strip():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    table = pacsv.read_csv(
        io.BytesIO(tokens.encode()),
        read_options=pacsv.ReadOptions(column_names=["index", "value"]),
        parse_options=pacsv.ParseOptions(delimiter=":", quote_char=False, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(
            column_types={"index": pa.int64(), "value": pa.float64()},
            null_values=[],
            strings_can_be_null=False,
        ),
    )
    indices = np.asarray(table.column("index").to_numpy(), dtype=np.int64)
    values = np.asarray(table.column("value").to_numpy(), dtype=np.float64)
    return indices, values


def _pairs_python(lines: _Lines) -> tuple[np.ndarray, np.ndarray]:
    pairs = [token.split(":") for rest in lines.features for token in rest.split()]
    indices = np.array([int(index) for index, _ in pairs], dtype=np.int64)
    values = np.array([float(value) for _, value in pairs], dtype=np.float64)
    return indices, values


def _records(text: str) -> list[tuple[int, str]]:
    """(1-based line number, record) for every non-empty line, comments removed."""
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        record = line.split("#", 1)[0].strip()
        if record:
            records.append((number, record))
    return records


def _split_lines(records: list[tuple[int, str]], name: str) -> _Lines:
    lines = _Lines()
    for number, record in records:
        head, rest = _split_first(record)
        label, colon, weight = head.partition(":")
        qid = None
        if rest.startswith("qid:"):
            token, rest = _split_first(rest)
            qid = token[4:]
        lines.numbers.append(number)
        lines.labels.append(label)
        lines.weights.append(weight if colon else None)
        lines.qids.append(qid)
        lines.features.append(rest)
        lines.counts.append(rest.count(":"))
    for kind, column in (("qid", lines.qids), ("label weight", lines.weights)):
        present = [value is not None for value in column]
        if any(present) and not all(present):
            missing = lines.numbers[present.index(False)]
            raise FormatError(name, f"this row has no {kind} while other rows do", line=missing)
    return lines


def _split_first(text: str) -> tuple[str, str]:
    """The first whitespace-separated token and the (stripped) remainder."""
    pieces = text.split(None, 1)
    return pieces[0], (pieces[1].strip() if len(pieces) > 1 else "")


def _convert(lines: _Lines, indices: np.ndarray, values: np.ndarray) -> LibsvmData:
    """Build the CSR matrix from the records' labels and their index, value pairs."""
    labels = np.array(lines.labels, dtype=np.float64)
    weights = np.array(lines.weights, dtype=np.float64) if lines.weights[0] is not None else None
    qid = np.array(lines.qids, dtype=np.int64) if lines.qids[0] is not None else None
    if len(indices) != sum(lines.counts) or (len(indices) and indices.min() < 0):
        raise ValueError("feature indices must be non-negative integers, one per token")
    indptr = np.zeros(len(lines.counts) + 1, dtype=np.int64)
    np.cumsum(lines.counts, out=indptr[1:])
    width = int(indices.max()) + 1 if len(indices) else 0
    index_type = np.int32 if width < 2**31 else np.int64
    features = sp.csr_matrix(
        (values.astype(np.float32), indices.astype(index_type), indptr.astype(index_type)),
        shape=(len(lines.labels), width),
    )
    return LibsvmData(
        features,
        labels.astype(np.float32),
        None if weights is None else weights.astype(np.float32),
        qid,
    )


def _check_line(name: str, number: int, record: str) -> None:
    """Raise the precise FormatError for a record, if it has a fault."""
    tokens = record.split()
    label, colon, weight = tokens[0].partition(":")
    _number(name, number, label, "label")
    if colon:
        _number(name, number, weight, "label weight")
    rest = tokens[1:]
    if rest and rest[0].startswith("qid:"):
        if not rest[0][4:].isdigit():
            raise FormatError(name, f"'{rest[0]}' is not a valid qid:<integer>", line=number)
        rest = rest[1:]
    for token in rest:
        index, colon, value = token.partition(":")
        if not colon or ":" in value:
            raise FormatError(name, f"'{token}' is not an index:value pair", line=number)
        if not index.isdigit():
            raise FormatError(
                name,
                f"feature index '{index}' in '{token}' is not a non-negative integer",
                line=number,
            )
        _number(name, number, value, "feature value", token)


def _number(name: str, line: int, text: str, role: str, token: str | None = None) -> float:
    try:
        if "_" in text:
            raise ValueError(text)
        return float(text)
    except ValueError:
        where = f" in '{token}'" if token is not None else ""
        raise FormatError(name, f"{role} '{text}'{where} is not a number", line=line) from None
