"""The data exploration report and the two notebooks of an AutoML job (AutoMLJobArtifacts).

The data exploration (``data_exploration.json`` and its notebook) gives per-column
statistics, the target's distribution, missing values and warnings: class imbalance,
columns that alone give the target away (leakage), constant columns, columns mostly
missing, duplicate rows. The candidate definition notebook states what every candidate
is: the preprocessing per column type and the XGBoost search space.

The notebooks are written as nbformat 4 JSON directly: a handful of markdown and code
cells do not need the nbformat package (not a dependency) to be valid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sagebox.analysis.automl import search_space
from sagebox.analysis.automl.problems import REGRESSION

EXPLORATION_NOTEBOOK = "SageMakerAutopilotDataExplorationNotebook.ipynb"
CANDIDATE_NOTEBOOK = "SageMakerAutopilotCandidateDefinitionNotebook.ipynb"
IMBALANCE_SHARE = 0.1
LEAKAGE_SCORE = 0.99
MOSTLY_MISSING = 0.5


def column_statistics(
    frame: pd.DataFrame, column_types: dict[str, str]
) -> dict[str, dict[str, Any]]:
    statistics = {}
    for column, kind in column_types.items():
        values = frame[column]
        entry: dict[str, Any] = {
            "type": kind,
            "missing": int(values.isna().sum()),
            "missing_share": float(values.isna().mean()),
            "distinct": int(values.nunique(dropna=True)),
        }
        if kind == "numeric":
            numbers = pd.to_numeric(values, errors="coerce").dropna()
            if len(numbers):
                entry.update(
                    {
                        "mean": float(numbers.mean()),
                        "std": float(numbers.std(ddof=0)),
                        "min": float(numbers.min()),
                        "max": float(numbers.max()),
                    }
                )
        else:
            entry["top_values"] = {str(k): int(v) for k, v in values.value_counts().head(5).items()}
        statistics[column] = entry
    return statistics


def _predicts_target(values: pd.Series, target: pd.Series, problem_type: str) -> float:
    """How well one column alone gives the target: |correlation| for regression, else the share of
    rows whose value's most common class is theirs (over columns with repeated values)."""
    present = values.notna()
    if present.sum() < 2:
        return 0.0
    if problem_type == REGRESSION:
        numbers = pd.to_numeric(values[present], errors="coerce")
        goal = pd.to_numeric(target[present], errors="coerce")
        if numbers.notna().mean() < 0.95 or numbers.std() == 0 or goal.std() == 0:
            return 0.0
        return float(abs(np.corrcoef(numbers.fillna(numbers.mean()), goal)[0, 1]))
    if values[present].nunique() > present.sum() / 2:  # nearly unique values (ids) are not evidence
        return 0.0
    groups = pd.DataFrame(
        {"value": values[present].astype(str), "target": target[present].astype(str)}
    )
    agreeing = groups.groupby("value")["target"].agg(lambda t: t.value_counts().iloc[0]).sum()
    return float(agreeing / len(groups))


def warnings_of(frame: pd.DataFrame, analysis: dict[str, Any]) -> list[str]:
    target, problem_type = analysis["target"], analysis["problem_type"]
    found = []
    if problem_type != REGRESSION:
        counts = frame[target].value_counts(normalize=True)
        if counts.min() < IMBALANCE_SHARE:
            found.append(
                f"Class imbalance: class '{counts.idxmin()}' is {counts.min():.1%} of the rows."
            )
    for column in analysis["columns"]:
        score = _predicts_target(frame[column], frame[target], problem_type)
        if score >= LEAKAGE_SCORE:
            found.append(
                f"Possible target leakage: column '{column}' alone predicts '{target}' ({score:.3f})."
            )
        if frame[column].nunique(dropna=True) <= 1:
            found.append(f"Column '{column}' holds a single value: it carries no information.")
        if frame[column].isna().mean() > MOSTLY_MISSING:
            found.append(
                f"Column '{column}' is missing in {frame[column].isna().mean():.0%} of the rows."
            )
    duplicates = int(frame.duplicated().sum())
    if duplicates:
        found.append(f"{duplicates} rows are exact duplicates of other rows.")
    return found


def notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": text.splitlines(keepends=True),
                    **({"execution_count": None, "outputs": []} if kind == "code" else {}),
                }
                for kind, text in cells
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


def write_exploration(frame: pd.DataFrame, analysis: dict[str, Any], folder: Path) -> None:
    """data_exploration.json and the two notebooks, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    report = {
        "rows": len(frame),
        "target": analysis["target"],
        "problem_type": analysis["problem_type"],
        "target_distribution": analysis["target_distribution"],
        "columns": column_statistics(frame, analysis["column_types"]),
        "warnings": warnings_of(frame, analysis),
    }
    (folder / "data_exploration.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    table = "\n".join(
        f"| {name} | {c['type']} | {c['missing']} | {c['distinct']} |"
        for name, c in report["columns"].items()
    )
    warnings = "\n".join(f"- {w}" for w in report["warnings"]) or "- None."
    (folder / EXPLORATION_NOTEBOOK).write_text(
        notebook(
            [
                (
                    "markdown",
                    f"# Data exploration\n\n{report['rows']} rows; target `{analysis['target']}`, "
                    f"problem type {analysis['problem_type']}.\n",
                ),
                ("markdown", f"## Warnings\n\n{warnings}\n"),
                (
                    "markdown",
                    f"## Columns\n\n| column | type | missing | distinct |\n| --- | --- | --- | --- |\n{table}\n",
                ),
                (
                    "markdown",
                    f"## Target distribution\n\n```\n{json.dumps(analysis['target_distribution'], indent=2)}\n```\n",
                ),
                (
                    "code",
                    "import json\nreport = json.load(open('data_exploration.json'))\nreport['columns']\n",
                ),
            ]
        ),
        encoding="utf-8",
    )
    static = search_space.static_hyperparameters(
        analysis["problem_type"], analysis["objective"], len(analysis["classes"])
    )
    by_type: dict[str, list[str]] = {}
    for column, kind in analysis["column_types"].items():
        by_type.setdefault(kind, []).append(column)
    preprocessing = "\n".join(
        f"- {kind}: {', '.join(f'`{c}`' for c in columns)}" for kind, columns in by_type.items()
    )
    (folder / CANDIDATE_NOTEBOOK).write_text(
        notebook(
            [
                (
                    "markdown",
                    f"# Candidate definitions\n\nProblem type {analysis['problem_type']}, objective "
                    f"{analysis['objective']} on the validation split.\n",
                ),
                (
                    "markdown",
                    "## Preprocessing (sagemaker-sklearn-automl)\n\nNumbers: median imputation with a "
                    "missing-value indicator, standard scaling. Categories: imputation, one-hot encoding "
                    "(rare ones pooled). Text: TF-IDF. Datetimes: year, month, day, weekday, hour.\n\n"
                    f"{preprocessing}\n",
                ),
                (
                    "markdown",
                    "## Algorithm (sagemaker-xgboost), tuned by a Bayesian hyperparameter tuning job\n",
                ),
                (
                    "code",
                    f"static_hyperparameters = {json.dumps(static, indent=4)}\n"
                    f"parameter_ranges = {json.dumps(search_space.PARAMETER_RANGES, indent=4)}\n",
                ),
            ]
        ),
        encoding="utf-8",
    )
