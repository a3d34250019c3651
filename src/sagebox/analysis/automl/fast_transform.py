"""A per-row fast path for Autopilot's fitted preprocessing, with the same output as scikit-learn.

Serving one raw row through the fitted ``ColumnTransformer`` costs milliseconds of pandas
and scikit-learn bookkeeping (validation, DataFrame indexing, joblib dispatch) for
microseconds of arithmetic. `FastTransform.compile` reads the fitted steps once, at model
load, into plain numpy arrays and dicts: the imputers' fill values and indicator columns,
the scalers' means and scales, each one-hot encoder's output for each category it knows
and for any other value (read by transforming its categories once), and keeps the fitted
TF-IDF vectorizer, whose ``transform`` of a few documents is cheap. Its ``transform``
turns a few rows of cells into the matrix ``pipeline.transform`` gives, bit for bit:

- numbers go through ``pd.to_numeric`` per column, as ``columns.to_numbers`` does (its
  parsing rules are pandas' own, so they are not rewritten here);
- categories are stripped as ``columns.to_categories`` strips them, missing or empty
  cells being ``columns.MISSING``;
- dates written as ISO 8601 (``2020-01-31``, ``2020-01-31 12:30:05``) are read with
  ``datetime``; a column holding any other spelling in the batch goes through
  ``columns.to_datetime_parts`` itself.

Anything the compiled steps do not cover (an infinite number, which scikit-learn
refuses with its own message; a step type not listed here) makes ``transform`` answer
None, and the caller uses the fitted pipeline. `split_csv` reads the rows of a request
as ``pd.read_csv(header=None, dtype=str, skipinitialspace=True)`` does, for the plain
CSV a client writes; for anything else (quotes, control characters, ragged rows) it
answers None and pandas reads the body.

Written here rather than taken from a library: the converters that compile scikit-learn
pipelines (sklearn-onnx and the like) compute in float32 or reorder the arithmetic, so
their outputs differ from scikit-learn's in the last bits, and they need a runtime.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from sagebox.analysis.automl import columns as column_steps
from sagebox.analysis.automl.model_files import FittedPreprocessing

log = logging.getLogger(__name__)

MAX_ROWS = 64
"""Requests with more rows than this go through scikit-learn, whose cost per row is lower."""

Cells = list[list[Any]]
"""Rows of raw cells: ``str``, or ``None`` for a missing value."""
Stage = Callable[[np.ndarray], np.ndarray]

_NOT_PLAIN_CSV = re.compile(rb'["\x00-\x09\x0b-\x1f]')
"""Quotes and control characters other than the newline: pandas' tokenizer has rules for them."""
_BOM = b"\xef\xbb\xbf"
_NA = frozenset(STR_NA_VALUES)
_ISO_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?)?"
)
# Years whose dates pandas holds at any resolution it may infer (nanoseconds included).
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
# A stripped cell keeps its first and last characters when both are printable ASCII, spaces
# aside: Python's and pyarrow's idea of whitespace differ only outside this range.
_KEPT_EDGE = frozenset(chr(c) for c in range(0x21, 0x7F))


_PROBES = (
    "1.5",
    None,
    "2020-01-31",
    "red",
    "a few more words",
    "-7",
    "2021-06-30 13:45:00",
    "Blue ",
)


class Unsupported(Exception):
    """The batch holds something only the fitted pipeline handles (as it does, errors and all)."""


def split_csv(body: bytes, width: int, max_rows: int = MAX_ROWS) -> Cells | None:
    """The rows of a CSV request body as ``pd.read_csv(header=None, dtype=str,
    skipinitialspace=True)`` reads them (``None`` for a missing cell), when the body is plain
    CSV of at most `max_rows` rows of `width` cells; else None."""
    if body.startswith(_BOM) or _NOT_PLAIN_CSV.search(body):
        return None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    rows: Cells = []
    for line in text.split("\n"):
        if not line:
            continue  # blank lines are skipped
        cells = line.split(",")
        if len(cells) != width or len(rows) == max_rows or not line.strip(" "):
            return None  # (pandas skips a line of spaces)
        row = []
        for cell in cells:
            if cell[:1] == " ":
                cell = cell.lstrip(" ")
            row.append(None if cell in _NA else cell)
        rows.append(row)
    return rows or None


def _numbers(cells: np.ndarray) -> np.ndarray:
    """`columns.to_numbers` on a (rows, columns) object array (None or str)."""
    values = np.where(pd.isna(cells), np.nan, cells).astype(object)
    out = np.empty(cells.shape, dtype=np.float64)
    for j in range(cells.shape[1]):
        out[:, j] = np.asarray(pd.to_numeric(values[:, j], errors="coerce")).astype(float)
    if np.isinf(out).any():
        raise Unsupported("infinite numbers")  # scikit-learn refuses them, with its message
    return out


def _strip(cell: str) -> str:
    if cell[:1] in _KEPT_EDGE and cell[-1:] in _KEPT_EDGE:
        return cell
    return str(pd.Series([cell], dtype="string").str.strip().iloc[0])


def _categories(cells: np.ndarray) -> np.ndarray:
    """`columns.to_categories`: stripped strings, `MISSING` for missing or empty cells."""
    out = np.empty(cells.shape, dtype=object)
    for index, cell in np.ndenumerate(cells):
        text = _strip(cell) if isinstance(cell, str) else ""
        out[index] = text or column_steps.MISSING
    return out


def _texts(cells: np.ndarray) -> np.ndarray:
    """`columns.to_text` of one column: missing cells are empty documents."""
    return np.array([cell if isinstance(cell, str) else "" for cell in cells[:, 0]], dtype=object)


def _iso_parts(cell: Any) -> tuple[float, ...] | None:
    """(year, month, day, day of week, hour) of an ISO 8601 date; NaNs when missing; None when
    the cell is written otherwise."""
    if not isinstance(cell, str):
        return (np.nan,) * len(column_steps.DATETIME_PARTS)
    match = _ISO_DATE.fullmatch(cell)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    if not _FIRST_YEAR <= int(year) <= _LAST_YEAR:
        return None
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return None  # pandas decides what an impossible date is
    return (
        float(moment.year),
        float(moment.month),
        float(moment.day),
        float(moment.weekday()),
        float(moment.hour),
    )


def _datetime_parts(names: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    width = len(column_steps.DATETIME_PARTS)

    def parts(cells: np.ndarray) -> np.ndarray:
        out = np.empty((cells.shape[0], width * cells.shape[1]), dtype=np.float64)
        for j, name in enumerate(names):
            block = [_iso_parts(cell) for cell in cells[:, j]]
            if any(row is None for row in block):
                frame = pd.DataFrame({name: pd.Series(cells[:, j], dtype="str")})
                out[:, j * width : (j + 1) * width] = column_steps.to_datetime_parts(frame)
            else:
                out[:, j * width : (j + 1) * width] = block
        return out

    return parts


def _imputer(step: SimpleImputer) -> Stage | None:
    statistics = np.asarray(step.statistics_, dtype=np.float64)
    if not (isinstance(step.missing_values, float) and np.isnan(step.missing_values)):
        return None
    if np.isnan(statistics).any():
        return None  # scikit-learn would drop those columns
    indicator = getattr(step, "indicator_", None)
    flagged = None if indicator is None else np.asarray(indicator.features_)

    def impute(values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        filled = np.where(missing, statistics, values)
        if flagged is None:
            return filled
        return np.hstack((filled, missing[:, flagged]))

    return impute


def _scaler(step: StandardScaler) -> Stage:
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def standardise(values: np.ndarray) -> np.ndarray:
        values = np.array(values, dtype=np.float64)  # the same in-place order as scikit-learn
        if mean is not None:
            values -= mean
        if scale is not None:
            values /= scale
        return values

    return standardise


def _one_hot(step: OneHotEncoder) -> Stage | None:
    """Each feature's output for each category the encoder knows, and for any other value, read
    off the encoder itself (infrequent categories and unknown values included)."""
    widths = getattr(step, "_n_features_outs", None)
    if widths is None or step.drop is not None:
        return None
    known = [list(categories) for categories in step.categories_]
    if not all(isinstance(c, str) for categories in known for c in categories):
        return None
    unseen = "\x00sagebox-unseen-category"
    rows = max(len(categories) for categories in known) + 1
    probe = np.empty((rows, len(known)), dtype=object)
    for j, categories in enumerate(known):
        column = [*categories, unseen]
        probe[:, j] = column + [categories[0]] * (rows - len(column))
    names = getattr(step, "feature_names_in_", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown categories are encoded as zeros, with a warning
        encoded = step.transform(pd.DataFrame(probe, columns=names) if names is not None else probe)
    encoded = np.asarray(encoded, dtype=np.float64)
    starts = np.concatenate([[0], np.cumsum(widths)])
    tables: list[tuple[dict[str, np.ndarray], np.ndarray]] = []
    for j, categories in enumerate(known):
        block = encoded[:, starts[j] : starts[j + 1]]
        tables.append(({c: block[i] for i, c in enumerate(categories)}, block[len(categories)]))

    def encode(values: np.ndarray) -> np.ndarray:
        out = np.empty((values.shape[0], int(starts[-1])), dtype=np.float64)
        for j, (table, other) in enumerate(tables):
            block = out[:, starts[j] : starts[j + 1]]
            for i, value in enumerate(values[:, j]):
                block[i] = table.get(value, other)
        return out

    return encode


def _tfidf(step: TfidfVectorizer) -> Stage:
    def vectorise(documents: np.ndarray) -> np.ndarray:
        return step.transform(documents).toarray()

    return vectorise


_FUNCTIONS: dict[Callable[..., Any], Callable[[list[str]], Stage]] = {
    column_steps.to_numbers: lambda names: _numbers,
    column_steps.to_categories: lambda names: _categories,
    column_steps.to_text: lambda names: _texts,
    column_steps.to_datetime_parts: _datetime_parts,
}


def _stage(step: Any, names: list[str]) -> Stage | None:
    if isinstance(step, FunctionTransformer):
        if step.inverse_func is not None or step.kw_args or step.validate:
            return None
        make = _FUNCTIONS.get(step.func)
        return None if make is None else make(names)
    if type(step) is SimpleImputer:
        return _imputer(step)
    if type(step) is StandardScaler:
        return _scaler(step)
    if type(step) is OneHotEncoder:
        return _one_hot(step)
    if type(step) is TfidfVectorizer:
        return _tfidf(step)
    return None


class FastTransform:
    """The fitted preprocessing compiled for a few rows at a time (see the module's notes)."""

    def __init__(self, width: int, blocks: list[tuple[list[int], list[Stage], slice]]) -> None:
        self.width = width
        self._blocks = blocks

    @classmethod
    def compile(cls, model: FittedPreprocessing) -> FastTransform | None:
        """The fast path for `model`, or None when its pipeline has a step not covered here."""
        try:
            return cls._compile(model)
        except Exception:  # noqa: BLE001 - the fitted pipeline serves whatever this cannot read
            log.warning(
                "the fitted preprocessing cannot be compiled; it serves every request",
                exc_info=True,
            )
            return None

    @classmethod
    def _compile(cls, model: FittedPreprocessing) -> FastTransform | None:
        pipeline = model.pipeline
        if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 1:
            return None
        transformer = pipeline.steps[0][1]
        if not isinstance(transformer, ColumnTransformer) or transformer.sparse_output_:
            return None
        position = {name: i for i, name in enumerate(model.columns)}
        blocks = []
        for name, fitted, selected in transformer.transformers_:
            if fitted == "drop":
                continue
            output = transformer.output_indices_[name]
            if output.stop == output.start:
                continue
            if not isinstance(fitted, Pipeline) or not all(s in position for s in selected):
                return None
            stages = [_stage(step, list(selected)) for _, step in fitted.steps]
            if any(stage is None for stage in stages):
                return None
            blocks.append(([position[s] for s in selected], stages, output))
        width = max((output.stop for _, _, output in blocks), default=0)
        fast = cls(width, blocks)  # type: ignore[arg-type]
        if not fast.agrees_with(model):
            log.warning("the fast path of the fitted preprocessing disagrees with it; not used")
            return None
        return fast

    def agrees_with(self, model: FittedPreprocessing) -> bool:
        """Whether this gives `model`'s own output on a few probe rows (numbers, gaps,
        words, dates and unseen values in every column): a check at load time that a fitted
        step behaves as compiled."""
        rows = [
            [_PROBES[(i + j) % len(_PROBES)] for j in range(len(model.columns))]
            for i in range(len(_PROBES))
        ]
        body = "\n".join(",".join(cell or "" for cell in row) for row in rows).encode()
        cells = split_csv(body, len(model.columns))
        frame = pd.read_csv(io.BytesIO(body), header=None, dtype=str, skipinitialspace=True)
        frame.columns = model.columns
        try:
            expected = model.transform(frame)
        except ValueError:
            return False
        actual = None if cells is None else self.transform(cells)
        return actual is not None and identical(actual, expected)

    def transform(self, rows: Sequence[Sequence[Any]]) -> np.ndarray | None:
        """The features of `rows` (cells in the model's column order), or None when the
        fitted pipeline must answer for them."""
        cells = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
        cells[:] = rows
        out = np.empty((len(rows), self.width), dtype=np.float64)
        try:
            for selected, stages, output in self._blocks:
                values = cells[:, selected]
                for stage in stages:
                    values = stage(values)
                out[:, output] = values
        except Unsupported:
            return None
        return out


def format_rows(features: np.ndarray) -> bytes:
    """``np.savetxt(buffer, features, delimiter=",", fmt="%.9g")``'s text, without its per-call cost."""
    line = ",".join(["%.9g"] * features.shape[1]) + "\n"
    return "".join(line % tuple(row) for row in features.tolist()).encode()


def identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape and the same float64 bits in every cell (NaN matching NaN)."""
    if a.shape != b.shape:
        return False
    missing = np.isnan(a)
    return bool(
        np.array_equal(missing, np.isnan(b))
        and np.array_equal(a[~missing].view(np.uint64), b[~missing].view(np.uint64))
    )
