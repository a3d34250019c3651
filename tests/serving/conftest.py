"""XGBoost models trained on scikit-learn data, saved as a training job saves them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from tests.serving.model_server import ModelServerProcess


@dataclass(frozen=True)
class TrainedModel:
    name: str
    booster: xgb.Booster
    rows: np.ndarray
    """A few feature rows to send: float64, some values NaN (missing)."""
    base_dir: Path

    @property
    def sparse_rows(self) -> sp.csr_matrix:
        """The rows with every NaN and every third value left out (missing)."""
        keep = ~np.isnan(self.rows)
        keep[:, ::3] = False
        keep[1] = False  # a row with no features at all
        rows, columns = np.nonzero(keep)
        return sp.csr_matrix((self.rows[rows, columns], (rows, columns)), shape=self.rows.shape)

    def predict(self, rows: np.ndarray | sp.csr_matrix) -> np.ndarray:
        return self.booster.predict(xgb.DMatrix(rows, missing=np.nan))


def save_like_training(booster: xgb.Booster, model_dir: Path) -> None:
    """``xgboost-model``: UBJSON without an extension, as the training entry point writes."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "xgboost-model").write_bytes(bytes(booster.save_raw("ubj")))


def _train(
    root: Path, name: str, data: tuple[np.ndarray, np.ndarray], params: dict[str, object]
) -> TrainedModel:
    features, labels = data
    booster = xgb.train(params, xgb.DMatrix(features, label=labels), num_boost_round=15)
    base_dir = root / name
    save_like_training(booster, base_dir / "model")
    rows = features[:9].copy()
    rows[0, 1] = np.nan
    rows[4, 0] = np.nan
    return TrainedModel(name, booster, rows, base_dir)


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrainedModel]:
    root = tmp_path_factory.mktemp("serving-models")
    return {
        model.name: model
        for model in (
            _train(
                root,
                "regression",
                load_diabetes(return_X_y=True),
                {"objective": "reg:squarederror", "max_depth": 4},
            ),
            _train(
                root,
                "binary",
                load_breast_cancer(return_X_y=True),
                {"objective": "binary:logistic", "max_depth": 4},
            ),
            _train(
                root,
                "multiclass",
                load_iris(return_X_y=True),
                {"objective": "multi:softprob", "num_class": 3, "max_depth": 3},
            ),
        )
    }


@pytest.fixture(scope="session")
def servers(models: dict[str, TrainedModel]) -> Iterator[dict[str, ModelServerProcess]]:
    """One running model server per model."""
    running: dict[str, ModelServerProcess] = {}
    try:
        for name, model in models.items():
            running[name] = ModelServerProcess(model.base_dir).start()
        yield running
    finally:
        for server in running.values():
            server.stop()
