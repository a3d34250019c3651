"""CSV ingest throughput: sagebox's CSV reader all the way to an ``xgboost.DMatrix``,
against ``pyarrow.csv.read_csv`` alone producing a numpy array, on the same file.

Run ``python bench/ingest.py``; ``run()`` returns the result as a dict.
The target is a ratio (sagebox / reference) of at least 0.5.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import xgboost as xgb

from sagebox.formats.csv import read_csv

ROWS = 500_000
FEATURES = 30
REPEATS = 3


def write_numeric_csv(path: Path, rows: int = ROWS, features: int = FEATURES, seed: int = 0) -> int:
    """A headerless numeric CSV, label first; returns its size in bytes."""
    rng = np.random.default_rng(seed)
    columns = {"label": rng.integers(0, 2, rows).astype(np.float64)}
    for index in range(features):
        columns[f"x{index}"] = np.round(rng.normal(0.0, 10.0, rows), 4)
    pacsv.write_csv(pa.table(columns), path, write_options=pacsv.WriteOptions(include_header=False))
    return path.stat().st_size


def reference_read(path: Path) -> np.ndarray:
    """pyarrow's reader on its own: the file to a 2-D numpy array."""
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
    return np.column_stack([column.to_numpy() for column in table.columns])


def sagebox_read(path: Path) -> xgb.DMatrix:
    """sagebox's CSV reader and the DMatrix a training job builds from it."""
    features, labels, _weights = read_csv(path)
    return xgb.DMatrix(features, label=labels, nthread=os.cpu_count() or 1)


def best_seconds(
    actions: list[Callable[[Path], object]], path: Path, repeats: int = REPEATS
) -> list[float]:
    """Best wall time of each action; runs alternate so both see the same machine load."""
    best = [float("inf")] * len(actions)
    for _ in range(repeats):
        for index, action in enumerate(actions):
            start = time.perf_counter()
            action(path)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def run(rows: int = ROWS, features: int = FEATURES) -> dict[str, Any]:
    """Measure both readers (best of 3 each, interleaved) on one generated file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.csv"
        megabytes = write_numeric_csv(path, rows, features) / 1e6
        reference, sagebox = best_seconds([reference_read, sagebox_read], path)
    reference_mb_s = megabytes / reference
    sagebox_mb_s = megabytes / sagebox
    ratio = sagebox_mb_s / reference_mb_s
    result = {
        "name": "csv_ingest",
        "rows": [
            {
                "measure": "CSV to xgboost.DMatrix throughput (MB/s, best of 3)",
                "sagebox": f"{sagebox_mb_s:.1f}",
                "reference": f"{reference_mb_s:.1f} (pyarrow.csv.read_csv to numpy)",
                "ratio": f"{ratio:.2f}x",
                "target": ">= 0.5x",
                "met": "yes" if ratio >= 0.5 else "no",
            }
        ],
        "notes": f"{megabytes:.0f} MB file, {rows} rows x {features + 1} columns (label first), "
        "the two readers interleaved on the same file.",
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    run()
