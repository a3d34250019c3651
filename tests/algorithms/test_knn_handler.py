"""The k-NN model server handler: request formats, SageMaker's answer shapes, verbose mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris

from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.knn.model import MODEL_NAME, KnnConfig, KnnModel
from sagebox.formats import recordio
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers import load_handler
from sagebox.serving.handlers.knn import KnnHandler, is_verbose


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    features, labels = load_iris(return_X_y=True)
    return features.astype(np.float32), labels.astype(np.float32)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, iris) -> Path:  # noqa: ANN001
    features, labels = iris
    config = KnnConfig(feature_dim=4, k=3, predictor_type="classifier", sample_size=200)
    model = KnnModel.fit([(features[::2], labels[::2])], config)
    folder = tmp_path_factory.mktemp("knn-model")
    save_model(folder, MODEL_NAME, model.arrays(), model.settings())
    return folder


@pytest.fixture(scope="module")
def handler(model_dir: Path) -> KnnHandler:
    loaded = load_handler("sagebox.serving.handlers.knn", model_dir)
    assert isinstance(loaded, KnnHandler)
    return loaded


@pytest.fixture(scope="module")
def queries(iris) -> np.ndarray:  # noqa: ANN001
    return iris[0][1::10]


def expected(handler: KnnHandler, rows: np.ndarray):  # noqa: ANN201
    return handler.model.predict(rows.astype(np.float64))


def csv_body(rows: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def test_every_request_format_gives_the_models_predictions(
    handler: KnnHandler, queries: np.ndarray
) -> None:
    labels = expected(handler, queries).predicted_label.astype(np.float32).tolist()
    bodies = {
        "text/csv": csv_body(queries),
        "application/json": json.dumps(
            {"instances": [{"features": row} for row in queries.astype(float).tolist()]}
        ).encode(),
        "application/jsonlines": "".join(
            json.dumps({"features": row}) + "\n" for row in queries.astype(float).tolist()
        ).encode(),
        "application/x-recordio-protobuf": recordio.write_dense(queries),
    }
    for content_type, body in bodies.items():
        answer, media = handler.predict(body, content_type, "application/json")
        assert media == "application/json"
        assert json.loads(answer) == {"predictions": [{"predicted_label": v} for v in labels]}


def test_answer_formats(handler: KnnHandler, queries: np.ndarray) -> None:
    labels = expected(handler, queries).predicted_label.astype(np.float32)
    body = csv_body(queries)
    lines, media = handler.predict(body, "text/csv", "application/jsonlines")
    assert media == "application/jsonlines"
    assert [json.loads(line) for line in lines.decode().splitlines()] == [
        {"predicted_label": float(v)} for v in labels
    ]
    text, media = handler.predict(body, "text/csv", "text/csv")
    assert media.startswith("text/csv")
    assert text.decode().splitlines() == [repr(float(v)) for v in labels]
    records, media = handler.predict(body, "text/csv", "application/x-recordio-protobuf")
    answers = list(recordio.read_records(records))
    assert [r.label["predicted_label"].values.tolist() for r in answers] == [[v] for v in labels]


def test_verbose_answers_hold_distances_and_labels_nearest_first(
    handler: KnnHandler, queries: np.ndarray
) -> None:
    prediction = expected(handler, queries)
    body = csv_body(queries)
    answer, _ = handler.predict(body, "text/csv", "application/json; verbose=true")
    rows = json.loads(answer)["predictions"]
    assert list(rows[0]) == ["predicted_label", "distances", "labels"]
    for row, label, distances, neighbors in zip(
        rows, prediction.predicted_label, prediction.distances, prediction.labels, strict=True
    ):
        assert row["predicted_label"] == float(np.float32(label))
        assert row["distances"] == distances.astype(np.float32).tolist()
        assert row["labels"] == neighbors.astype(np.float32).tolist()
        assert row["distances"] == sorted(row["distances"]) and len(row["labels"]) == 3
    records, _ = handler.predict(body, "text/csv", "application/x-recordio-protobuf;verbose=true")
    first = next(recordio.read_records(records)).label
    assert first["distances"].values.tolist() == rows[0]["distances"]
    assert first["labels"].values.tolist() == rows[0]["labels"]
    text, _ = handler.predict(body, "text/csv", "text/csv; verbose=true")
    assert len(text.decode().splitlines()[0].split(",")) == 1 + 3 + 3
    assert is_verbose({"verbose": "True"}) and not is_verbose({"verbose": "false"})


def test_sparse_rows_are_answered_like_dense_ones(handler: KnnHandler, queries: np.ndarray) -> None:
    dense, _ = handler.predict(recordio.write_dense(queries), "application/x-recordio-protobuf", "")
    sparse, _ = handler.predict(
        recordio.write_sparse(sp.csr_matrix(queries)), "application/x-recordio-protobuf", ""
    )
    assert json.loads(dense) == json.loads(sparse)


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"1,2,3\n", "4"), (b"1,2,,4\n", "row 1 has a missing"), (b"1,2,3,4\n1,nan,3,4\n", "row 2")],
)
def test_bad_rows_are_client_errors(handler: KnnHandler, body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        handler.predict(body, "text/csv", "application/json")


def test_a_folder_without_a_knn_model_is_refused(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ModelLoadError, match="model_algo-1.npz"):
        load_handler("sagebox.serving.handlers.knn", tmp_path)
    save_model(tmp_path, MODEL_NAME, {"labels": np.zeros(3, np.float32)}, {"k": 1})
    with pytest.raises(ModelLoadError, match="not a k-NN model"):
        load_handler("sagebox.serving.handlers.knn", tmp_path)
