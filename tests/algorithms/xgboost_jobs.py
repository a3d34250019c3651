"""Job folders laid out as the container contract, for algorithm tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def csv_text(matrix: np.ndarray) -> str:
    """Rows of float32 values in their shortest exact decimal form."""
    rows = np.asarray(matrix, dtype=np.float32)
    return "".join(",".join(str(value) for value in row.tolist()) + "\n" for row in rows)


def csv_rows(labels: np.ndarray, features: np.ndarray, weights: np.ndarray | None = None) -> str:
    columns = [labels.reshape(-1, 1)]
    if weights is not None:
        columns.append(weights.reshape(-1, 1))
    columns.append(features)
    return csv_text(np.hstack(columns).astype(np.float32))


@dataclass
class Job:
    """A job folder under ``base``."""

    base: Path

    @property
    def model_path(self) -> Path:
        return self.base / "model" / "xgboost-model"

    @property
    def failure_path(self) -> Path:
        return self.base / "output" / "failure"

    def failure(self) -> str:
        return self.failure_path.read_text(encoding="utf-8")

    def write_channel_file(self, channel: str, name: str, content: str | bytes) -> Path:
        path = self.base / "input" / "data" / channel / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def run(self, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sagebox.algorithms.xgboost"],
            env={**os.environ, "SAGEMAKER_BASE_DIR": str(self.base)},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sagebox.algorithms.xgboost"],
            env={**os.environ, "SAGEMAKER_BASE_DIR": str(self.base)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


JobFactory = Callable[..., Job]
