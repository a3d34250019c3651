"""The Linear Learner model server handler in process: SageMaker's answer shapes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, softmax

from sagebox.algorithms.amazon.model_io import save_model
from sagebox.algorithms.linear_learner.model import MODEL_NAME, LinearModel
from sagebox.formats import recordio
from sagebox.serving.errors import BadRequest, ModelLoadError
from sagebox.serving.handlers import load_handler
from sagebox.serving.handlers.linear_learner import LinearLearnerHandler, load

ROWS = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.0, 0.0, 0.0], [2.0, -2.0, 1.0]])
BINARY = LinearModel(
    "binary_classifier", "logistic", np.array([0.5, -1.0, 0.25]), np.array(0.1), 0.4
)
MULTICLASS = LinearModel(
    "multiclass_classifier",
    "softmax_loss",
    np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0], [0.0, -0.5, 1.0]]),
    np.array([0.0, 0.1, -0.1]),
)
REGRESSOR = LinearModel("regressor", "squared_loss", np.array([2.0, 0.0, -1.0]), np.array(3.0))


def serve(tmp_path: Path, model: LinearModel) -> LinearLearnerHandler:
    save_model(tmp_path, MODEL_NAME, model.arrays(), model.settings())
    handler = load_handler("sagebox.serving.handlers.linear_learner", tmp_path)
    assert isinstance(handler, LinearLearnerHandler)
    return handler


def csv_body(rows: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows).encode()


def test_binary_answers(tmp_path: Path) -> None:
    handler = serve(tmp_path, BINARY)
    body, content_type = handler.predict(csv_body(ROWS), "text/csv", "application/json")
    scores = expit(ROWS @ BINARY.weights + 0.1)
    assert content_type == "application/json"
    assert json.loads(body) == {
        "predictions": [
            {"score": float(score), "predicted_label": int(score > 0.4)} for score in scores
        ]
    }


def test_multiclass_answers(tmp_path: Path) -> None:
    handler = serve(tmp_path, MULTICLASS)
    body, _ = handler.predict(csv_body(ROWS), "text/csv", "application/jsonlines")
    probabilities = softmax(ROWS @ MULTICLASS.weights + MULTICLASS.bias, axis=1)
    answers = [json.loads(line) for line in body.decode().splitlines()]
    assert [list(answer) for answer in answers] == [["score", "predicted_label"]] * len(ROWS)
    np.testing.assert_allclose([answer["score"] for answer in answers], probabilities)
    assert [answer["predicted_label"] for answer in answers] == probabilities.argmax(1).tolist()


def test_regressor_answers_in_every_format(tmp_path: Path) -> None:
    handler = serve(tmp_path, REGRESSOR)
    expected = (ROWS @ REGRESSOR.weights + 3.0).tolist()
    body, _ = handler.predict(csv_body(ROWS), "text/csv", "application/json")
    assert json.loads(body) == {"predictions": [{"score": value} for value in expected]}
    dense = json.dumps({"instances": [{"features": row.tolist()} for row in ROWS]}).encode()
    sparse = sp.csr_matrix(ROWS)
    sparse_json = json.dumps(
        {
            "instances": [
                {
                    "data": {
                        "features": {
                            "keys": sparse[i].indices.tolist(),
                            "shape": [3],
                            "values": sparse[i].data.tolist(),
                        }
                    }
                }
                for i in range(len(ROWS))
            ]
        }
    ).encode()
    lines = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in ROWS).encode()
    for payload, content_type in (
        (dense, "application/json"),
        (sparse_json, "application/json"),
        (lines, "application/jsonlines"),
        (recordio.write_dense(ROWS.astype(np.float32)), "application/x-recordio-protobuf"),
        (
            recordio.write_sparse(sp.csr_matrix(ROWS, dtype=np.float32)),
            "application/x-recordio-protobuf",
        ),
    ):
        body, _ = handler.predict(payload, content_type, "application/json")
        assert json.loads(body) == {"predictions": [{"score": value} for value in expected]}
    body, content_type = handler.predict(csv_body(ROWS), "text/csv", "text/csv")
    assert content_type.startswith("text/csv")
    assert body.decode().splitlines() == [repr(value) for value in expected]


def test_recordio_answers_carry_float32_labels(tmp_path: Path) -> None:
    handler = serve(tmp_path, BINARY)
    body, content_type = handler.predict(
        csv_body(ROWS), "text/csv", "application/x-recordio-protobuf"
    )
    assert content_type == "application/x-recordio-protobuf"
    records = list(recordio.read_records(body))
    scores = expit(ROWS @ BINARY.weights + 0.1)
    for record, score in zip(records, scores, strict=True):
        assert record.label["score"].values.tolist() == [np.float32(score)]
        assert record.label["predicted_label"].values.tolist() == [float(score > 0.4)]


def test_csv_answers_put_the_scores_before_the_label(tmp_path: Path) -> None:
    handler = serve(tmp_path, MULTICLASS)
    body, _ = handler.predict(csv_body(ROWS[:1]), "text/csv", "text/csv")
    probabilities = softmax(ROWS[:1] @ MULTICLASS.weights + MULTICLASS.bias, axis=1)[0]
    expected = ",".join(repr(float(p)) for p in probabilities) + f",{int(probabilities.argmax())}"
    assert body.decode().strip() == expected


def test_rows_of_the_wrong_width_or_with_missing_values_are_bad_requests(tmp_path: Path) -> None:
    handler = serve(tmp_path, REGRESSOR)
    with pytest.raises(BadRequest):
        handler.predict(b"1,2\n", "text/csv", "application/json")
    with pytest.raises(BadRequest, match="row 2 has a missing or non-finite feature"):
        handler.predict(b"1,2,3\n1,,3\n", "text/csv", "application/json")


def test_a_folder_without_a_linear_learner_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="model_algo-1.npz"):
        load(tmp_path)
    save_model(tmp_path, MODEL_NAME, {"centroids": np.zeros((2, 2))}, {"k": 2})
    with pytest.raises(ModelLoadError, match="not a Linear Learner model"):
        load(tmp_path)
