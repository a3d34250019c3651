"""CSV training data as SageMaker defines it (``text/csv``).

No header row; every value is a number; the label is the first column
(``label_size=1``, or ``0`` for unsupervised algorithms); with instance weights
(SageMaker XGBoost's ``csv_weights=1``) the weight is the column after the label.
An empty field is a missing value (NaN) in a feature column and an error in the
label or weight column.

Files are parsed by ``pyarrow.csv`` (multithreaded, every column float32). Only when
that fast path rejects a file is it scanned again line by line in Python, to report
exactly which line and column is wrong.
"""

from __future__ import annotations

import csv as stdlib_csv
import math
from collections import deque
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sagebox.formats.arrow import copy_column
from sagebox.formats.errors import FormatError
from sagebox.formats.textfiles import PathArgument, as_path_list, display_name, is_gzip, open_binary


class CsvData(NamedTuple):
    """Dense arrays read from one or more CSV files: unpacks as ``X, y, w``."""

    features: np.ndarray
    labels: np.ndarray | None
    weights: np.ndarray | None


def read_csv(
    paths: PathArgument,
    *,
    label_size: int = 1,
    has_weights: bool = False,
    display_root: Path | None = None,
    use_threads: bool = True,
) -> CsvData:
    """Read CSV files (plain or gzip) into float32 arrays, rows in file order.

    ``display_root``: file names in error messages are shown relative to it.
    Raises ``FormatError`` naming the file, line and problem.
    """
    if label_size not in (0, 1):
        raise ValueError(f"label_size must be 0 or 1, not {label_size}")
    if has_weights and label_size == 0:
        raise ValueError("instance weights need a label column (label_size=1)")
    files = as_path_list(paths)
    if not files:
        raise ValueError("no CSV files to read")
    lead = label_size + int(has_weights)
    tables: deque[tuple[Path, str, pa.Table]] = deque()
    expected: int | None = None
    for path in files:
        name = display_name(path, display_root)
        table = _read_table(path, name, expected, lead, use_threads)
        expected = table.num_columns
        tables.append((path, name, table))
    return _assemble(tables, label_size, has_weights)


def _read_table(
    path: Path, name: str, expected: int | None, lead: int, use_threads: bool
) -> pa.Table:
    first = _first_record(path, name)
    if first is None:
        raise FormatError(name, "the file is empty; expected at least one CSV row")
    line, ncols = first
    if expected is not None and ncols != expected:
        raise FormatError(name, f"expected {expected} columns, found {ncols}", line=line)
    if ncols <= lead:
        wanted = "the label, the weight" if lead == 2 else "the label"
        raise FormatError(
            name,
            f"found {ncols} column(s); expected {wanted} and at least one feature column",
            line=line,
        )
    try:
        return _read_with_pyarrow(path, ncols, use_threads)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
        matrix = _parse_python(path, name, ncols, lead)
        return pa.table({f"f{i}": matrix[:, i] for i in range(ncols)})


def _read_with_pyarrow(path: Path, ncols: int, use_threads: bool) -> pa.Table:
    if is_gzip(path):
        source: pa.NativeFile = pa.input_stream(str(path), compression="gzip")
    else:
        source = pa.memory_map(str(path))
    with source:
        return pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=use_threads),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.float32() for i in range(ncols)},
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=True,
            ),
        )


def _assemble(
    tables: deque[tuple[Path, str, pa.Table]], label_size: int, has_weights: bool
) -> CsvData:
    """Copy the parsed tables into one set of arrays, releasing each table once copied."""
    rows = sum(table.num_rows for _, _, table in tables)
    ncols = tables[0][2].num_columns
    lead = label_size + int(has_weights)
    features = np.empty((rows, ncols - lead), dtype=np.float32)
    labels = np.empty(rows, dtype=np.float32) if label_size else None
    weights = np.empty(rows, dtype=np.float32) if has_weights else None
    start = 0
    while tables:
        path, name, table = tables.popleft()
        stop = start + table.num_rows
        for column in range(ncols):
            if labels is not None and column == 0:
                target = labels[start:stop]
            elif weights is not None and column == 1:
                target = weights[start:stop]
            else:
                target = features[start:stop, column - lead]
            copy_column(table.column(column), target)
        bad_labels = labels is not None and not np.isfinite(labels[start:stop]).all()
        bad_weights = weights is not None and not _valid_weights(weights[start:stop])
        if bad_labels or bad_weights:
            _parse_python(path, name, ncols, lead)
            raise FormatError(name, "the label or weight column holds a missing or invalid value")
        start = stop
    return CsvData(features, labels, weights)


def _valid_weights(weights: np.ndarray) -> bool:
    return bool(np.isfinite(weights).all() and (weights >= 0).all())


def _records(path: Path, name: str) -> Generator[tuple[int, list[str]], None, None]:
    """(1-based line number, fields) for every non-empty CSV record."""
    with open_binary(path) as raw:
        reader = stdlib_csv.reader((chunk.decode("utf-8") for chunk in raw), strict=True)
        line = 0
        try:
            for fields in reader:
                if fields:
                    yield line + 1, fields
                line = reader.line_num
        except UnicodeDecodeError:
            raise FormatError(name, "the file is not UTF-8 text", line=line + 1) from None
        except stdlib_csv.Error as exc:
            raise FormatError(name, f"malformed CSV ({exc})", line=line + 1) from None
        except (OSError, EOFError) as exc:
            raise FormatError(name, f"the file cannot be read ({exc})", line=line + 1) from None


def _first_record(path: Path, name: str) -> tuple[int, int] | None:
    with closing(_records(path, name)) as records:
        for line, fields in records:
            return line, len(fields)
    return None


def _parse_python(path: Path, name: str, ncols: int, lead: int) -> np.ndarray:
    """Slow, exact parse: returns the rows or raises a FormatError for the first bad line."""
    rows: list[list[float]] = []
    for line, fields in _records(path, name):
        if len(fields) != ncols:
            raise FormatError(name, f"expected {ncols} columns, found {len(fields)}", line=line)
        rows.append([_parse_field(name, line, col, text, lead) for col, text in enumerate(fields)])
    if not rows:
        raise FormatError(name, "the file is empty; expected at least one CSV row")
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), ncols)


def _parse_field(name: str, line: int, column: int, text: str, lead: int) -> float:
    stripped = text.strip()
    role = _role(column, lead)
    if not stripped:
        if role == "feature":
            return math.nan
        raise FormatError(name, f"the {role} is missing", line=line, column=column + 1)
    try:
        if "_" in stripped:
            raise ValueError(stripped)
        value = float(stripped)
    except ValueError:
        hint = " (CSV training data has no header row)" if line == 1 else ""
        raise FormatError(
            name, f"'{text}' is not a number{hint}", line=line, column=column + 1
        ) from None
    if role == "label" and not math.isfinite(value):
        raise FormatError(
            name, f"the label '{text}' is not a finite number", line=line, column=column + 1
        )
    if role == "weight" and not (math.isfinite(value) and value >= 0):
        raise FormatError(
            name, f"the weight '{text}' is not a finite number >= 0", line=line, column=column + 1
        )
    return value


def _role(column: int, lead: int) -> str:
    if column >= lead:
        return "feature"
    return "label" if column == 0 else "weight"
