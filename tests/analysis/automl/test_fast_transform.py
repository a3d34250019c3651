"""The fast path of Autopilot's fitted preprocessing gives scikit-learn's output bit for bit:
random raw rows with gaps, unseen and padded categories, words in number columns and dates
written many ways, through the feature-transform handler with and without it."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sagebox.analysis.automl.columns import build_preprocessor, infer_column_types
from sagebox.analysis.automl.fast_transform import (
    MAX_ROWS,
    FastTransform,
    format_rows,
    identical,
    split_csv,
)
from sagebox.analysis.automl.model_files import FittedPreprocessing
from sagebox.serving.errors import BadRequest
from sagebox.serving.handlers.automl import FeatureTransform

WORDS = ["kind", "angry", "short", "long", "big", "small", "item", "résumé", "naïve"]
# 40 colours: more than the encoder's 30 categories, so the rarest are pooled as infrequent.
COLOURS = [f"colour{i}" for i in range(40)]
ODD_CELLS = [
    "",
    "NA",
    "null",
    "n/a",
    "None",
    "nan",
    " ",
    "abc",
    "1e400",
    "-inf",
    "0x10",
    "1_000",
    "٣",
]
DATES = [
    "2020-01-31",
    "2021-06-30 13:45:00",
    "2021-06-30T13:45",
    "2019-12-01 08:00:00.25",
    "2020-02-30",
    "01/02/2020",
    "Jan 5 2021",
    "2300-01-01",
    "2020-13-01",
    "yesterday",
]


def _training_frame(rng: np.random.Generator, rows: int = 400) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "amount": np.round(rng.normal(50, 10, rows), 3).astype(str),
            "count": rng.integers(0, 100, rows).astype(str),
            "colour": rng.choice(
                COLOURS,
                rows,
                p=np.linspace(1, 0.05, len(COLOURS)) / np.linspace(1, 0.05, len(COLOURS)).sum(),
            ),
            "size": rng.choice(["S", "M", "L"], rows),
            "comment": [" ".join(rng.choice(WORDS, 4)) for _ in range(rows)],
            "when": pd.date_range("2021-01-01", periods=rows, freq="7h").astype(str),
        }
    ).astype(object)
    frame.loc[rng.choice(rows, 30, replace=False), "amount"] = np.nan
    frame.loc[rng.choice(rows, 20, replace=False), "colour"] = np.nan
    frame.loc[rng.choice(rows, 10, replace=False), "when"] = np.nan
    return frame


@pytest.fixture(scope="module")
def model() -> FittedPreprocessing:
    frame = _training_frame(np.random.default_rng(7))
    types = infer_column_types(frame)
    assert types == {
        "amount": "numeric",
        "count": "numeric",
        "colour": "categorical",
        "size": "categorical",
        "comment": "text",
        "when": "datetime",
    }
    pipeline = build_preprocessor(types).fit(frame)
    return FittedPreprocessing(
        pipeline, list(frame.columns), types, "y", "BinaryClassification", ["no", "yes"]
    )


def _cell(rng: np.random.Generator, column: str) -> str:
    if rng.random() < 0.2:
        return str(rng.choice(ODD_CELLS))
    pad = " " * int(rng.integers(0, 2))
    if column == "amount":
        return pad + f"{rng.normal(50, 30):.{int(rng.integers(0, 12))}f}"
    if column == "count":
        digits = "".join(rng.choice(list("0123456789"), int(rng.integers(1, 25))))
        return pad + str(rng.choice(["", "-", "+"])) + digits  # past int64 and float64's digits
    if column == "colour":
        value = str(rng.choice([*COLOURS, "mauve", "Colour1", "colour1 ", "__missing__"]))
        return pad + value
    if column == "size":
        return pad + str(rng.choice(["S", "M", "L", "XL", "s", "ß", "M\u00a0"]))
    if column == "comment":
        return " ".join(rng.choice([*WORDS, "unseen", "Kind"], int(rng.integers(0, 6))))
    return str(rng.choice(DATES))


def _body(rng: np.random.Generator, columns: list[str], rows: int) -> bytes:
    lines = [",".join(_cell(rng, column) for column in columns) for _ in range(rows)]
    if rng.random() < 0.2:
        lines.insert(int(rng.integers(0, len(lines) + 1)), "")
    return ("\n".join(lines) + ("\n" if rng.random() < 0.5 else "")).encode()


def _pandas_rows(body: bytes) -> list[list[object]]:
    frame = pd.read_csv(io.BytesIO(body), header=None, dtype=str, skipinitialspace=True)
    return [
        [None if pd.isna(cell) else cell for cell in row] for row in frame.itertuples(index=False)
    ]


def test_random_rows_give_scikit_learns_features_bit_for_bit(model: FittedPreprocessing) -> None:
    fast = FastTransform.compile(model)
    assert fast is not None
    rng = np.random.default_rng(11)
    compiled = 0
    for _ in range(150):
        body = _body(rng, model.columns, int(rng.integers(1, 9)))
        rows = split_csv(body, len(model.columns))
        assert rows is not None, body
        assert rows == _pandas_rows(body), body
        frame = pd.read_csv(io.BytesIO(body), header=None, dtype=str, skipinitialspace=True)
        frame.columns = model.columns
        try:
            expected = model.transform(frame)
        except ValueError:  # infinite numbers: refused by scikit-learn, so left to it
            assert fast.transform(rows) is None
            continue
        actual = fast.transform(rows)
        assert actual is not None, body
        assert identical(actual, expected), body
        compiled += 1
        buffer = io.StringIO()
        np.savetxt(buffer, expected, delimiter=",", fmt="%.9g")
        assert format_rows(actual) == buffer.getvalue().encode()
    assert compiled > 100


def test_the_handler_answers_the_same_with_and_without_the_fast_path(
    model: FittedPreprocessing,
) -> None:
    fast, slow = FeatureTransform(model), FeatureTransform(model, fast=False)
    assert fast.fast is not None and slow.fast is None
    rng = np.random.default_rng(5)
    bodies = [_body(rng, model.columns, 3) for _ in range(20)]
    bodies += [
        b'"quoted, cell",1,red,S,some words here,2020-01-01',  # quotes: pandas reads it
        b"1,2,colour3,S,a b c,2020-01-01\r\n4,5,colour2,M,d e f,2020-01-02\r\n",
        b"1,2,colour3,S,a b c,2020-01-01\n4,5",  # a short row is padded with gaps by pandas
        b"\xef\xbb\xbf1,2,colour3,S,a b c,2020-01-01",
        _body(rng, model.columns, MAX_ROWS + 1),
    ]
    for body in bodies:
        assert _answer(fast, body) == _answer(slow, body), body


def _answer(handler: FeatureTransform, body: bytes) -> object:
    try:
        return handler.predict(body, "text/csv", "")
    except BadRequest as exc:  # the same refusal, word for word
        return str(exc)


def test_plain_csv_only(model: FittedPreprocessing) -> None:
    width = len(model.columns)
    assert split_csv(b"a,b\n", width) is None  # too few cells: pandas' error message
    assert split_csv(b'"a",b,c,d,e,f', width) is None
    assert split_csv(b"a,b,c,d,e,f\n   \n", width) is None
    assert split_csv(b"\n".join([b"a,b,c,d,e,f"] * (MAX_ROWS + 1)), width) is None
    assert split_csv(b" a,NA,,d ,  e,f\n\n", width) == [["a", None, None, "d ", "e", "f"]]


def test_a_step_it_does_not_know_leaves_the_pipeline_to_serve(model: FittedPreprocessing) -> None:
    from sklearn.base import clone
    from sklearn.preprocessing import MinMaxScaler

    pipeline = clone(model.pipeline)
    numeric = pipeline.named_steps["columns"].transformers[0][1]
    numeric.steps[-1] = ("standardscaler", MinMaxScaler())
    frame = _training_frame(np.random.default_rng(3))
    other = FittedPreprocessing(
        pipeline.fit(frame),
        model.columns,
        model.column_types,
        "y",
        "BinaryClassification",
        ["no", "yes"],
    )
    handler = FeatureTransform(other)
    assert handler.fast is None
    body = b"1.5,2,colour3,S,a b c,2020-01-01\n"
    row = pd.read_csv(io.BytesIO(body), header=None, dtype=str, skipinitialspace=True)
    row.columns = other.columns
    assert handler.predict(body, "text/csv", "")[0] == format_rows(other.transform(row))
