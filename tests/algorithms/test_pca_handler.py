"""The PCA model server handler in process: projections in every response format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from sagebox.algorithms.amazon.model_io import save_model
from sagebox.formats import recordio
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers import load_handler
from sagebox.serving.handlers.pca import PCAHandler, load

V = np.array([[0.6, 0.0], [0.8, 0.0], [0.0, 1.0]], dtype=np.float32)
MEAN = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
ROWS = np.array([[1.0, 2.0, 3.0], [2.0, 0.0, 5.0], [0.0, 0.0, 0.0]])


def handler_for(folder: Path, with_mean: bool = True) -> PCAHandler:
    arrays = {"s": np.array([1.0, 2.0], np.float32), "v": V}
    if with_mean:
        arrays["mean"] = MEAN
    save_model(folder, "model_algo-1", arrays, {})
    loaded = load_handler("sagebox.serving.handlers.pca", folder)
    assert isinstance(loaded, PCAHandler)
    return loaded


def projections(with_mean: bool = True) -> list[list[float]]:
    centred = ROWS - MEAN if with_mean else ROWS
    return (centred @ V.astype(np.float64)).astype(np.float32).tolist()


def csv_body(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()


def test_json_answers_are_sagemakers_projections(tmp_path: Path) -> None:
    handler = handler_for(tmp_path)
    body, content_type = handler.predict(csv_body(ROWS), "text/csv", "application/json")
    assert content_type == "application/json"
    assert json.loads(body) == {"projections": [{"projection": p} for p in projections()]}


def test_other_answers(tmp_path: Path) -> None:
    handler = handler_for(tmp_path)
    body, _ = handler.predict(csv_body(ROWS), "text/csv", "application/jsonlines")
    assert [json.loads(line) for line in body.decode().splitlines()] == [
        {"projection": p} for p in projections()
    ]
    body, _ = handler.predict(csv_body(ROWS), "text/csv", "text/csv")
    assert body.decode().splitlines() == [",".join(map(repr, p)) for p in projections()]
    body, _ = handler.predict(csv_body(ROWS), "text/csv", "application/x-recordio-protobuf")
    records = list(recordio.read_records(body))
    assert [r.label["projection"].values.tolist() for r in records] == projections()


def test_sparse_requests_are_projected_like_dense_ones(tmp_path: Path) -> None:
    handler = handler_for(tmp_path)
    dense, _ = handler.predict(csv_body(ROWS), "text/csv", "application/jsonlines")
    body = recordio.write_sparse(sp.csr_matrix(ROWS.astype(np.float32)))
    sparse, _ = handler.predict(body, "application/x-recordio-protobuf", "application/jsonlines")
    assert sparse == dense


def test_a_model_without_mean_projects_raw_rows(tmp_path: Path) -> None:
    handler = handler_for(tmp_path, with_mean=False)
    body, _ = handler.predict(csv_body(ROWS), "text/csv", "application/json")
    assert json.loads(body)["projections"][1]["projection"] == projections(False)[1]


def test_bad_requests_and_models(tmp_path: Path) -> None:
    handler = handler_for(tmp_path / "ok")
    with pytest.raises(BadRequest, match="row 1 has a missing or non-finite feature"):
        handler.predict(b"1,nan,3", "text/csv", "application/json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no 'model_algo-1.npz'"):
        load(tmp_path / "empty")
    save_model(tmp_path / "bad", "model_algo-1", {"v": V, "mean": np.ones((1, 2))}, {})
    with pytest.raises(ModelLoadError, match="'mean' has 2 values but 'v' has 3 rows"):
        load(tmp_path / "bad")
