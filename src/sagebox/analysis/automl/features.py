"""Autopilot's FeatureEngineering step: fit the preprocessing, write it and the transformed data.

The fitted pipeline goes to ``model/model.tar.gz`` (the first and last containers of
every candidate's inference pipeline load it); the train and validation splits, transformed,
go to ``train/`` and ``validation/`` as the candidates' algorithms read CSV: the label
first (the class index for classification), no header; with sample weights, each row's
weight follows the label (the layout XGBoost's ``csv_weights`` reads).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagebox.analysis.automl.columns import build_preprocessor
from sagebox.analysis.automl.model_files import FittedPreprocessing, data_files, read_table, save
from sagebox.analysis.automl.problems import REGRESSION


def encode_labels(target: pd.Series, model: FittedPreprocessing) -> np.ndarray:
    if model.problem_type == REGRESSION:
        return pd.to_numeric(target).to_numpy(dtype=np.float64)
    index = {label: i for i, label in enumerate(model.classes)}
    return target.astype(str).map(index).to_numpy(dtype=np.float64)


def _write(
    features: np.ndarray, labels: np.ndarray, weights: np.ndarray | None, path: Path
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [labels] if weights is None else [labels, weights]
    np.savetxt(path, np.column_stack([*columns, features]), delimiter=",", fmt="%.9g")


def fit(input_dir: Path, output_dir: Path) -> dict[str, Any]:
    analysis = json.loads((input_dir / "analysis" / "analysis.json").read_text(encoding="utf-8"))
    train = read_table(data_files(input_dir / "train"))
    validation = read_table(data_files(input_dir / "validation"))
    columns = analysis["columns"]
    pipeline = build_preprocessor({c: analysis["column_types"][c] for c in columns})
    pipeline.fit(train[columns])
    model = FittedPreprocessing(
        pipeline,
        columns,
        analysis["column_types"],
        analysis["target"],
        analysis["problem_type"],
        [str(c) for c in analysis["classes"]],
    )
    (output_dir / "model").mkdir(parents=True, exist_ok=True)
    save(model, output_dir / "model" / "model.tar.gz")
    target, weight = analysis["target"], analysis.get("sample_weight")
    for name, part in (("train", train), ("validation", validation)):
        _write(
            model.transform(part),
            encode_labels(part[target], model),
            pd.to_numeric(part[weight]).to_numpy(dtype=np.float64) if weight else None,
            output_dir / name / f"{name}.csv",
        )
    return {"features": int(model.transform(train.head(1)).shape[1])}
