"""Autopilot's AnalyzingData step: check the table, settle the problem type, split the data.

Reads the training channel (and the validation channel when the job has one), refuses
what SageMaker refuses (no header, no target column, fewer than 500 rows, a problem type
or objective that contradicts the target, a sample weight column that is missing,
non-numeric or negative; rows of weight 0 or none are left out) and writes the train and validation splits
(CSV with the header) and ``analysis.json``: the problem type, objective, column types and
classes the rest of the job works from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from sagebox.analysis.automl.columns import infer_column_types
from sagebox.analysis.automl.model_files import data_files, read_table
from sagebox.analysis.automl.notebooks import write_exploration
from sagebox.analysis.automl.problems import (
    BINARY,
    MIN_ROWS,
    MULTICLASS,
    REGRESSION,
    DataError,
    check_problem_type,
    infer_problem_type,
    objective_for,
)

SEED = 0


def _looks_headerless(columns: list[str]) -> bool:
    def number(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    return bool(columns) and sum(number(str(c)) for c in columns) >= max(1, len(columns) // 2)


def check_table(frame: pd.DataFrame, target: str, weight: str | None, channel: str) -> None:
    columns = [str(c) for c in frame.columns]
    if frame.empty and not columns:
        raise DataError(f"The {channel} data has no rows: the S3 location holds no data files.")
    if target not in columns:
        if _looks_headerless(columns):
            raise DataError(
                f"The {channel} data has no header row: its first row ({', '.join(columns[:5])}"
                f"{', ...' if len(columns) > 5 else ''}) holds values, not column names. Autopilot needs a CSV "
                f"file whose first row names the columns, including the target column '{target}'."
            )
        raise DataError(
            f"Target column '{target}' is not in the {channel} data's header; the columns are: "
            f"{', '.join(columns[:50])}{', ...' if len(columns) > 50 else ''}."
        )
    if weight and weight not in columns:
        raise DataError(
            f"SampleWeightAttributeName '{weight}' is not a column of the {channel} data."
        )


def weighted_rows(frame: pd.DataFrame, weight: str, channel: str) -> pd.DataFrame:
    """The rows that carry weight: the column must be numeric and non-negative (a clear
    DataError otherwise); rows without a weight or with weight 0 are left out, as Autopilot
    excludes rows with no weight value. The column holds floats afterwards."""
    column = frame[weight]
    text = column.astype(str).str.strip()
    given = column.notna() & (text != "")
    values = pd.to_numeric(column.where(given), errors="coerce")
    wrong = given & values.isna()
    if wrong.any():
        examples = ", ".join(repr(v) for v in column[wrong].astype(str).unique()[:3])
        raise DataError(
            f"SampleWeightAttributeName '{weight}' must name a numeric column; the {channel} data has "
            f"{int(wrong.sum())} non-numeric values in it (for example {examples})."
        )
    negative = values < 0
    if negative.any():
        raise DataError(
            f"SampleWeightAttributeName '{weight}': sample weights must be non-negative; the {channel} "
            f"data has {int(negative.sum())} negative weights (the smallest is {float(values.min()):g})."
        )
    kept = frame.assign(**{weight: values})[values > 0].reset_index(drop=True)
    if kept.empty:
        raise DataError(
            f"SampleWeightAttributeName '{weight}': no row of the {channel} data has a positive weight."
        )
    return kept


def _classes(target: pd.Series) -> list[str]:
    distinct = target.dropna().unique().tolist()
    numbers = pd.to_numeric(pd.Series(distinct), errors="coerce")
    if numbers.notna().all():
        return [value for _, value in sorted(zip(numbers.tolist(), distinct, strict=True))]
    return sorted(str(value) for value in distinct)


def analyze(config: dict[str, Any], input_dir: Path, output_dir: Path) -> dict[str, Any]:
    target = config["target"]
    weight = config.get("sample_weight")
    frame = read_table(data_files(input_dir / "data"), config.get("compression"))
    check_table(frame, target, weight, "training")
    frame = frame[
        frame[target].notna() & (frame[target].astype(str).str.strip() != "")
    ].reset_index(drop=True)
    dropped = 0
    if weight:
        before = len(frame)
        frame = weighted_rows(frame, weight, "training")
        dropped = before - len(frame)
    validation_files = data_files(input_dir / "validation")
    validation = (
        read_table(validation_files, config.get("compression")) if validation_files else None
    )
    if validation is not None:
        check_table(validation, target, weight, "validation")
        validation = validation[validation[target].notna()].reset_index(drop=True)
        if weight:
            validation = weighted_rows(validation, weight, "validation")
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"The training data has {len(frame)} rows with a target value; Autopilot needs at least {MIN_ROWS} rows."
        )
    given = config.get("problem_type")
    if given:
        check_problem_type(given, frame[target], target)
    problem_type = given or infer_problem_type(frame[target])
    objective = objective_for(problem_type, config.get("objective"))
    if validation is None:
        fraction = float(config.get("validation_fraction") or 0.2)
        stratify = (
            frame[target]
            if problem_type in (BINARY, MULTICLASS) and frame[target].value_counts().min() >= 2
            else None
        )
        train, validation = train_test_split(
            frame, test_size=fraction, random_state=SEED, stratify=stratify
        )
    else:
        train = frame
    features = [c for c in frame.columns if c not in (target, weight)]
    analysis = {
        "target": target,
        "sample_weight": weight,
        "problem_type": problem_type,
        "problem_type_inferred": not given,
        "objective": objective.name,
        "columns": features,
        "column_types": infer_column_types(train[features]),
        "classes": _classes(frame[target]) if problem_type != REGRESSION else [],
        "rows": {"train": len(train), "validation": len(validation)},
        "missing_values": {c: int(frame[c].isna().sum()) for c in features},
    }
    if weight:
        analysis["rows_without_weight"] = dropped
    if problem_type != REGRESSION:
        counts = frame[target].value_counts()
        analysis["target_distribution"] = {str(k): int(v) for k, v in counts.items()}
    else:
        values = pd.to_numeric(frame[target]).to_numpy(dtype=float)
        analysis["target_distribution"] = {
            "mean": float(np.mean(values)),
            "std": float(np.std(values)),
            "min": float(np.min(values)),
            "max": float(np.max(values)),
        }
    for name, part in (("train", train), ("validation", validation)):
        folder = output_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        part.to_csv(folder / f"{name}.csv", index=False)
    write_exploration(frame, analysis, output_dir / "notebooks")
    (output_dir / "analysis").mkdir(parents=True, exist_ok=True)
    (output_dir / "analysis" / "analysis.json").write_text(
        json.dumps(analysis, indent=2), encoding="utf-8"
    )
    return analysis
