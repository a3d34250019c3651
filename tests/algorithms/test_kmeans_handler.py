"""The K-Means model server handler in process: every request and response format."""

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
from sagebox.serving.handlers.kmeans import KMeansHandler, load

CENTROIDS = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 5.0]], dtype=np.float32)
ROWS = np.array([[1.0, 1.0, 0.0], [9.0, 0.5, 0.25], [0.0, 0.0, 0.0], [1.0, 8.0, 6.0]])


@pytest.fixture
def handler(tmp_path: Path) -> KMeansHandler:
    save_model(tmp_path, "model_algo-1", {"centroids": CENTROIDS}, {"k": 3, "feature_dim": 3})
    loaded = load_handler("sagebox.serving.handlers.kmeans", tmp_path)
    assert isinstance(loaded, KMeansHandler)
    return loaded


def expected() -> tuple[list[float], list[float]]:
    squared = ((ROWS[:, None, :] - CENTROIDS[None].astype(np.float64)) ** 2).sum(axis=2)
    labels = squared.argmin(axis=1)
    distances = np.sqrt(squared.min(axis=1)).astype(np.float32)
    return labels.astype(np.float32).tolist(), distances.tolist()


def csv_body(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()


def test_json_answers_are_sagemakers_shape(handler: KMeansHandler) -> None:
    body, content_type = handler.predict(csv_body(ROWS), "text/csv", "application/json")
    labels, distances = expected()
    assert content_type == "application/json"
    assert json.loads(body) == {
        "predictions": [
            {"closest_cluster": label, "distance_to_cluster": distance}
            for label, distance in zip(labels, distances, strict=True)
        ]
    }
    assert list(json.loads(body)["predictions"][0]) == ["closest_cluster", "distance_to_cluster"]


def test_every_request_format_gives_the_same_answer(handler: KMeansHandler) -> None:
    reference, _ = handler.predict(csv_body(ROWS), "text/csv", "application/jsonlines")
    dense_json = json.dumps({"instances": [{"features": row.tolist()} for row in ROWS]}).encode()
    sparse = sp.csr_matrix(ROWS)
    sparse_json = json.dumps(
        {
            "instances": [
                {
                    "data": {
                        "features": {
                            "keys": sparse[i].indices.tolist(),
                            "values": sparse[i].data.tolist(),
                            "shape": [3],
                        }
                    }
                }
                for i in range(len(ROWS))
            ]
        }
    ).encode()
    jsonlines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in ROWS).encode()
    for body, content_type in [
        (dense_json, "application/json"),
        (sparse_json, "application/json"),
        (jsonlines, "application/jsonlines"),
        (recordio.write_dense(ROWS.astype(np.float32)), "application/x-recordio-protobuf"),
        (recordio.write_sparse(sparse.astype(np.float32)), "application/x-recordio-protobuf"),
        (csv_body(ROWS), ""),
    ]:
        answer, _ = handler.predict(body, content_type, "application/jsonlines")
        assert answer == reference, content_type


def test_csv_and_recordio_answers(handler: KMeansHandler) -> None:
    labels, distances = expected()
    body, content_type = handler.predict(csv_body(ROWS), "text/csv", "text/csv")
    assert content_type.startswith("text/csv")
    assert body.decode().splitlines() == [
        f"{label!r},{distance!r}" for label, distance in zip(labels, distances, strict=True)
    ]
    body, content_type = handler.predict(
        csv_body(ROWS), "text/csv", "application/x-recordio-protobuf"
    )
    assert content_type == "application/x-recordio-protobuf"
    records = list(recordio.read_records(body))
    assert [r.label["closest_cluster"].values.tolist() for r in records] == [[v] for v in labels]
    assert [r.label["distance_to_cluster"].values.tolist() for r in records] == [
        [v] for v in distances
    ]


def test_rows_the_model_cannot_take_are_bad_requests(handler: KMeansHandler) -> None:
    with pytest.raises(BadRequest, match="row 2 has a missing or non-finite feature"):
        handler.predict(b"1,2,3\n1,,3\n", "text/csv", "application/json")
    with pytest.raises(BadRequest):
        handler.predict(b"1,2\n", "text/csv", "application/json")


def test_a_folder_without_a_kmeans_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no 'model_algo-1.npz'"):
        load(tmp_path)
    save_model(tmp_path, "model_algo-1", {"v": np.ones((3, 2))}, {})
    with pytest.raises(ModelLoadError, match="no 'centroids' matrix"):
        load(tmp_path)
