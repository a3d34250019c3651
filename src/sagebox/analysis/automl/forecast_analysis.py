"""Autopilot's AnalyzingData step for time series: check the data, make regular series.

Reads the training channel, refuses what cannot be forecast (a column named in
TimeSeriesConfig missing, timestamps that cannot be read, a target that is not numeric,
a horizon too long for the series) and writes the prepared series (``train/data.csv``:
``item_id,timestamp,target`` at the forecast frequency, aggregated and filled) and
``analysis/analysis.json`` (items, time steps, the season the candidates use).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from sagebox.analysis.automl.forecasting import Columns, Frequency, check_horizon, prepare
from sagebox.analysis.automl.model_files import data_files, read_table
from sagebox.analysis.automl.problems import DataError

PREPARED_FILE = "data.csv"


def analyze_series(config: dict[str, Any], input_dir: Path, output_dir: Path) -> dict[str, Any]:
    files = data_files(input_dir / "data")
    if not files:
        raise DataError("The training channel holds no data file.")
    frame = read_table(files, config.get("compression"))
    grouping = tuple(c for c in (config.get("grouping") or "").split(",") if c)
    columns = Columns(config["item"], config["timestamp"], config["target"], grouping)
    try:
        filling = json.loads(config.get("filling") or "{}")
    except json.JSONDecodeError as exc:
        raise DataError(f"The filling transformations are not JSON: {exc}") from None
    frequency = Frequency.parse(config["frequency"])
    series = prepare(frame, columns, frequency, filling, config.get("aggregation") or "sum")
    horizon = int(config["horizon"])
    check_horizon(series, horizon)
    prepared = pd.concat(
        [
            pd.DataFrame({"item_id": item, "timestamp": values.index, "target": values.values})
            for item, values in series.items()
        ]
    )
    train = output_dir / "train"
    train.mkdir(parents=True, exist_ok=True)
    prepared.to_csv(train / PREPARED_FILE, index=False, date_format="%Y-%m-%d %H:%M:%S")
    lengths = [len(v) for v in series.values()]
    result = {
        "problem_type": "TimeSeriesForecasting",
        "objective": config.get("objective") or "AverageWeightedQuantileLoss",
        "target": columns.target,
        "classes": [],
        "items": len(series),
        "rows": int(len(frame)),
        "time_steps": int(sum(lengths)),
        "shortest_series": min(lengths),
        "longest_series": max(lengths),
        "season": frequency.season,
    }
    analysis = output_dir / "analysis"
    analysis.mkdir(parents=True, exist_ok=True)
    (analysis / "analysis.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result
