"""Autopilot's pure steps directly: column types, problem types, the fitted preprocessing and the
model server's first and last containers on a fitted pipeline."""

from __future__ import annotations

import csv
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sagebox.analysis.automl.columns import infer_column_types, source_columns
from sagebox.analysis.automl.features import fit
from sagebox.analysis.automl.problems import (
    DataError,
    check_problem_type,
    infer_problem_type,
    objective_for,
)
from sagebox.analysis.automl.splitting import analyze
from sagebox.serving import inference_keys
from sagebox.serving.errors import BadRequest


def _frame(rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            "amount": np.round(x * 10 + 50, 2).astype(str),
            "colour": rng.choice(["red", "green", "blue"], size=rows),
            "comment": [
                f"customer {i} wrote {w} words about the {c} item"
                for i, (w, c) in enumerate(
                    zip(
                        rng.choice(["kind", "angry", "short", "long"], size=rows),
                        rng.choice(["big", "small"], size=rows),
                        strict=True,
                    )
                )
            ],
            "when": pd.date_range("2021-01-01", periods=rows, freq="h").astype(str),
            "label": np.where(x > 0, "yes", "no"),
        }
    )
    frame.loc[::17, "amount"] = np.nan
    frame.loc[::13, "colour"] = np.nan
    return frame


def test_column_types_are_read_from_the_values() -> None:
    types = infer_column_types(_frame().drop(columns="label"))
    assert types == {
        "amount": "numeric",
        "colour": "categorical",
        "comment": "text",
        "when": "datetime",
    }


@pytest.mark.parametrize(
    "values, expected",
    [
        (["a", "b"] * 300, "BinaryClassification"),
        (["a", "b", "c"] * 200, "MulticlassClassification"),
        ([str(i % 4) for i in range(600)], "MulticlassClassification"),
        ([str(i * 0.37) for i in range(600)], "Regression"),
    ],
)
def test_problem_type_inference(values: list[str], expected: str) -> None:
    assert infer_problem_type(pd.Series(values)) == expected


def test_contradictions_and_objectives_are_refused() -> None:
    with pytest.raises(DataError, match="exactly 2"):
        check_problem_type("BinaryClassification", pd.Series(["a", "b", "c"]), "y")
    with pytest.raises(DataError, match="not numbers"):
        check_problem_type("Regression", pd.Series(["1", "x"]), "y")
    assert objective_for("Regression", None).name == "MSE"
    assert objective_for("MulticlassClassification", None).name == "Accuracy"
    assert objective_for("BinaryClassification", None).xgboost_metric == "f1_binary"
    with pytest.raises(DataError, match="not valid for problem type Regression"):
        objective_for("Regression", "AUC")


@pytest.fixture()
def fitted(tmp_path: Path) -> Path:
    data = tmp_path / "in" / "data"
    data.mkdir(parents=True)
    _frame().to_csv(data / "table.csv", index=False)
    split = tmp_path / "split"
    analysis = analyze({"target": "label"}, tmp_path / "in", split)
    assert analysis["problem_type"] == "BinaryClassification" and analysis["classes"] == [
        "no",
        "yes",
    ]
    out = tmp_path / "features"
    fit(split, out)
    model_dir = tmp_path / "model"
    with tarfile.open(out / "model" / "model.tar.gz") as archive:
        archive.extractall(model_dir, filter="data")
    train = np.loadtxt(out / "train" / "train.csv", delimiter=",")
    assert set(np.unique(train[:, 0])) == {0.0, 1.0}  # labels first, as class indices
    assert not np.isnan(train).any()
    return model_dir


def test_too_few_rows_and_a_missing_target(tmp_path: Path) -> None:
    data = tmp_path / "in" / "data"
    data.mkdir(parents=True)
    _frame(100).to_csv(data / "table.csv", index=False)
    with pytest.raises(DataError, match="at least 500 rows"):
        analyze({"target": "label"}, tmp_path / "in", tmp_path / "out")
    with pytest.raises(DataError, match="columns are: amount, colour, comment, when, label"):
        analyze({"target": "outcome"}, tmp_path / "in", tmp_path / "out")


def test_feature_transform_takes_raw_rows(fitted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sagebox.serving.handlers import automl

    monkeypatch.setenv("AUTOML_TRANSFORM_MODE", "feature-transform")
    handler = automl.load(fitted)
    body, content_type = handler.predict(
        b'51.2,red,"customer wrote kind words",2021-02-01 10:00:00\n,,,\n', "text/csv", ""
    )
    rows = np.loadtxt(io.StringIO(body.decode()), delimiter=",", ndmin=2)
    assert rows.shape[0] == 2 and not np.isnan(rows).any()
    assert content_type.startswith("text/csv")
    with pytest.raises(BadRequest, match="4 values"):
        handler.predict(b"1,2\n", "text/csv", "")
    sources = source_columns(handler.model.pipeline, handler.model.columns)
    assert set(sources) == {"amount", "colour", "comment", "when"} and len(sources) == rows.shape[1]


def test_inverse_label_transform_answers_the_keys_asked(
    fitted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagebox.serving.handlers import automl

    keys = ["predicted_label", "probability", "probabilities"]
    model_answer = inference_keys.write_csv(
        inference_keys.select(np.array([0.2, 0.9]), keys, 2), keys
    )
    monkeypatch.setenv("AUTOML_TRANSFORM_MODE", "inverse-label-transform")
    monkeypatch.setenv("SAGEMAKER_INFERENCE_INPUT", ",".join(keys))
    monkeypatch.setenv("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label,probability,labels")
    handler = automl.load(fitted)
    body, _ = handler.predict(model_answer, "text/csv", "")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert [row[0] for row in rows] == ["no", "yes"]
    assert [float(row[1]) for row in rows] == pytest.approx([0.2, 0.9])
    assert json.loads(rows[0][2]) == ["no", "yes"]
    body, content_type = handler.predict(model_answer, "text/csv", "application/json")
    assert content_type == "application/json"
    assert json.loads(body)["predictions"][1] == {
        "predicted_label": "yes",
        "probability": 0.9,
        "labels": ["no", "yes"],
    }


@pytest.mark.parametrize("form", ["parquet", "gzip"])
def test_parquet_and_gzip_tables_with_a_validation_channel(tmp_path: Path, form: str) -> None:
    frame = _frame()
    for channel, part in (("data", frame.iloc[:500]), ("validation", frame.iloc[500:])):
        folder = tmp_path / "in" / channel
        folder.mkdir(parents=True)
        if form == "parquet":
            part.to_parquet(folder / "part.parquet")
        else:
            part.to_csv(folder / "part", index=False, compression="gzip")
    config = {"target": "label", "compression": "Gzip" if form == "gzip" else None}
    analysis = analyze(config, tmp_path / "in", tmp_path / "out")
    assert analysis["rows"] == {
        "train": 500,
        "validation": 100,
    }  # the validation channel, not a split
    assert analysis["column_types"]["when"] == "datetime"
