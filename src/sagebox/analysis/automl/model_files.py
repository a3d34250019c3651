"""The fitted preprocessing as a candidate's model data, and reading the job's tables.

``model.tar.gz`` of the feature-engineering step holds ``preprocessing.joblib``: the
fitted pipeline with the feature columns it expects, in order, the target column, the
problem type and the class labels (classification) in the order of their indices.
joblib pickles: sagebox loads only what its own feature-engineering job wrote (a model
server loads it as the sklearn-automl container does).
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

MODEL_FILE = "preprocessing.joblib"
DATA_SUFFIXES = (".csv", ".parquet", ".gz")


@dataclass
class FittedPreprocessing:
    pipeline: Any
    columns: list[str]
    """The feature columns of a raw row, in order (the input's header less the target)."""
    column_types: dict[str, str]
    target: str
    problem_type: str
    classes: list[str]
    """Class labels by index (empty for regression)."""

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline.transform(frame[self.columns]), dtype=np.float64)


def save(model: FittedPreprocessing, tar_path: Path) -> None:
    """Writes model.tar.gz holding the fitted preprocessing (atomically: temp file, rename)."""
    buffer = io.BytesIO()
    joblib.dump(model.__dict__, buffer)
    temporary = tar_path.with_suffix(".tmp")
    with tarfile.open(temporary, "w:gz") as archive:
        info = tarfile.TarInfo(MODEL_FILE)
        info.size = buffer.tell()
        buffer.seek(0)
        archive.addfile(info, buffer)
    temporary.replace(tar_path)


def load(model_dir: Path) -> FittedPreprocessing:
    return FittedPreprocessing(**joblib.load(model_dir / MODEL_FILE))


def data_files(folder: Path) -> list[Path]:
    """The data files below a channel's folder, in name order (hidden files and manifests aside)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.stat().st_size > 0
    )


def read_table(files: list[Path], compression: str | None = None) -> pd.DataFrame:
    """The rows of CSV (with a header) or Parquet files as strings; missing cells are NaN."""
    frames = []
    for path in files:
        if path.suffix == ".parquet" or path.read_bytes()[:4] == b"PAR1":
            frames.append(pd.read_parquet(path).astype("string").astype(object))
        else:
            frames.append(
                pd.read_csv(
                    path,
                    dtype=str,
                    compression="gzip" if compression == "Gzip" else "infer",
                    skipinitialspace=True,
                )
            )
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
