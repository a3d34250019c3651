"""The model server process, driven over HTTP: every content type, every Accept, errors."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sagebox.formats import recordio
from tests.serving.conftest import TrainedModel
from tests.serving.model_server import ModelServerProcess
from tests.serving.payloads import ACCEPTS, PAYLOADS, Payload, csv_body, parse_csv

MODELS = ["regression", "binary", "multiclass"]


def expected_scores(model: TrainedModel, sees: str) -> np.ndarray:
    if sees == "sparse":
        return model.predict(model.sparse_rows)
    if sees == "dense32":
        return model.predict(model.rows.astype(np.float32))
    return model.predict(model.rows)


@pytest.mark.parametrize("accept", list(ACCEPTS))
@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.name)
@pytest.mark.parametrize("name", MODELS)
def test_predictions_equal_booster_predict(
    models: dict[str, TrainedModel],
    servers: dict[str, ModelServerProcess],
    name: str,
    payload: Payload,
    accept: str,
) -> None:
    model = models[name]
    body = payload.body(model.rows, model.sparse_rows)
    with servers[name].client() as client:
        response = client.post(
            "/invocations",
            content=body,
            headers={"Content-Type": payload.content_type, "Accept": accept},
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    scores = ACCEPTS[accept](response.content)
    expected = expected_scores(model, payload.sees)
    assert scores.shape == expected.shape
    # bit-exact: the float32 prediction, written at full precision, reads back unchanged
    np.testing.assert_array_equal(scores, expected.astype(np.float64))


@pytest.mark.parametrize("name", MODELS)
def test_one_row_csv_answer_text(
    models: dict[str, TrainedModel], servers: dict[str, ModelServerProcess], name: str
) -> None:
    model = models[name]
    row = model.rows[2:3]
    with servers[name].client() as client:
        response = client.post("/invocations", content=csv_body(row))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    scores = model.predict(row)
    if scores.ndim == 1:
        assert response.text == repr(float(scores[0]))
    else:
        assert response.text == str([float(v) for v in scores[0]])


def test_csv_answers_join_rows_with_commas(
    models: dict[str, TrainedModel], servers: dict[str, ModelServerProcess]
) -> None:
    for name, separator in (("binary", ","), ("multiclass", "],[")):
        with servers[name].client() as client:
            text = client.post("/invocations", content=csv_body(models[name].rows[:3])).text
        assert text.count(separator) == 2 and "\n" not in text
        assert parse_csv(text).shape[0] == 3


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/csv"),
        ("*/*", "text/csv"),
        ("application/json; verbose=True", "application/json"),
        ("text/plain, application/jsonlines", "application/jsonlines"),
        (
            "application/json;q=0.5, application/x-recordio-protobuf",
            "application/x-recordio-protobuf",
        ),
        ("text/*", "text/csv"),
    ],
)
def test_accept_negotiation(
    models: dict[str, TrainedModel],
    servers: dict[str, ModelServerProcess],
    accept: str | None,
    expected: str,
) -> None:
    headers = {"Content-Type": "text/csv"}
    if accept is not None:
        headers["Accept"] = accept
    with servers["binary"].client() as client:
        response = client.post(
            "/invocations", content=csv_body(models["binary"].rows), headers=headers
        )
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_no_content_type_means_csv(
    models: dict[str, TrainedModel], servers: dict[str, ModelServerProcess]
) -> None:
    model = models["regression"]
    with servers["regression"].client() as client:
        response = client.post("/invocations", content=csv_body(model.rows))
    assert "content-type" not in response.request.headers
    assert response.status_code == 200
    np.testing.assert_array_equal(parse_csv(response.text), model.predict(model.rows))


def test_ping_and_execution_parameters(servers: dict[str, ModelServerProcess]) -> None:
    with servers["binary"].client() as client:
        ping = client.get("/ping")
        parameters = client.get("/execution-parameters")
    assert ping.status_code == 200 and ping.content == b""
    assert parameters.status_code == 200
    assert parameters.json() == {
        "MaxConcurrentTransforms": os.cpu_count(),
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }


def test_custom_attributes_are_echoed(
    models: dict[str, TrainedModel], servers: dict[str, ModelServerProcess]
) -> None:
    attributes = "trace_id=abc-123,c000b4f9-df62-4c85-a0bf-7c525f9104a4"
    headers = {"X-Amzn-SageMaker-Custom-Attributes": attributes, "Content-Type": "text/csv"}
    with servers["binary"].client() as client:
        ok = client.post("/invocations", content=csv_body(models["binary"].rows), headers=headers)
        bad = client.post("/invocations", content=b"1,2", headers=headers)
        plain = client.post("/invocations", content=csv_body(models["binary"].rows))
    assert ok.headers["x-amzn-sagemaker-custom-attributes"] == attributes
    assert bad.status_code == 400
    assert bad.headers["x-amzn-sagemaker-custom-attributes"] == attributes
    assert "x-amzn-sagemaker-custom-attributes" not in plain.headers


def _rows_text(rows: np.ndarray) -> str:
    return csv_body(rows).decode()


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("text/csv", lambda rows: ",".join(["1"] * 29), "text/csv row 1: expected 30 features"),
        (
            "text/csv",
            lambda rows: _rows_text(rows[:2]) + "\n" + ",".join(["1"] * 29),
            "text/csv row 3: expected 30 features (the model's feature count), found 29",
        ),
        (
            "text/csv",
            lambda rows: _rows_text(rows[:1]) + "\n1,2,3,abc" + ",0" * 26,
            "text/csv row 2, column 4: 'abc' is not a number",
        ),
        ("text/csv; label_size=2", _rows_text, "label_size=2 is not supported"),
        ("text/libsvm", lambda rows: "0 1:0.5 30:1", "feature index 30 is out of range"),
        ("text/libsvm", lambda rows: "0 1:0.5 2:x", "text/libsvm row 1: value 'x' in '2:x'"),
        ("application/json", lambda rows: "{not json", "application/json: not valid JSON"),
        (
            "application/json",
            lambda rows: json.dumps({"instances": [[1.0] * 29 + ["a"]]}),
            'application/json instance 1, value 30: "a" is not a number',
        ),
        (
            "application/json",
            lambda rows: json.dumps({"instances": [{"feature": [1.0]}]}),
            "application/json instance 1: expected a list of numbers",
        ),
        (
            "application/jsonlines",
            lambda rows: json.dumps([1.0] * 30) + "\n" + json.dumps([1.0] * 31),
            "application/jsonlines line 2: expected 30 features (the model's feature count), found 31",
        ),
        (
            "application/x-recordio-protobuf",
            lambda rows: recordio.write_dense(rows[:3].astype(np.float32))[:-10],
            "application/x-recordio-protobuf: record 3 (byte offset",
        ),
        (
            "application/x-recordio-protobuf",
            lambda rows: recordio.write_dense(np.ones((2, 29), dtype=np.float32)),
            "application/x-recordio-protobuf: record 1: expected 30 features, found 29",
        ),
        (
            "application/x-parquet",
            lambda rows: "PAR1 nope",
            "application/x-parquet: not a readable",
        ),
    ],
)
def test_bad_payloads_are_400_naming_the_problem(
    models: dict[str, TrainedModel],
    servers: dict[str, ModelServerProcess],
    content_type: str,
    body,  # noqa: ANN001
    message: str,
) -> None:
    content = body(models["binary"].rows)
    content = content.encode() if isinstance(content, str) else content
    with servers["binary"].client() as client:
        response = client.post(
            "/invocations", content=content, headers={"Content-Type": content_type}
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert message in response.text
    assert "Traceback" not in response.text


def test_unsupported_content_type_is_415(servers: dict[str, ModelServerProcess]) -> None:
    with servers["binary"].client() as client:
        response = client.post("/invocations", content=b"1", headers={"Content-Type": "image/png"})
    assert response.status_code == 415
    assert response.text.startswith("Content-Type 'image/png' is not supported")
    for supported in (
        "text/csv",
        "text/libsvm",
        "application/json",
        "application/x-recordio-protobuf",
    ):
        assert supported in response.text


def test_unsupported_accept_is_406(servers: dict[str, ModelServerProcess]) -> None:
    with servers["binary"].client() as client:
        response = client.post(
            "/invocations",
            content=b"1",
            headers={"Content-Type": "text/csv", "Accept": "text/libsvm"},
        )
    assert response.status_code == 406
    assert response.text == (
        "Accept 'text/libsvm' is not supported; supported accept types: text/csv, "
        "application/json, application/jsonlines, application/x-recordio-protobuf"
    )


def test_empty_body_is_204(servers: dict[str, ModelServerProcess]) -> None:
    with servers["binary"].client() as client:
        response = client.post("/invocations", content=b"", headers={"Content-Type": "text/csv"})
    assert response.status_code == 204 and response.content == b""


def test_unknown_routes_and_methods(servers: dict[str, ModelServerProcess]) -> None:
    with servers["binary"].client() as client:
        assert client.get("/nope").status_code == 404
        wrong = client.get("/invocations")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


def test_concurrent_invocations_while_pinging(
    models: dict[str, TrainedModel], servers: dict[str, ModelServerProcess]
) -> None:
    model = models["multiclass"]
    rows = np.tile(model.rows, (500, 1))
    expected = model.predict(rows)

    def invoke(_: int) -> np.ndarray:
        with servers["multiclass"].client() as client:
            return parse_csv(client.post("/invocations", content=csv_body(rows)).text)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(invoke, i) for i in range(8)]
        with servers["multiclass"].client() as client:
            assert all(client.get("/ping").status_code == 200 for _ in range(20))
        for future in futures:
            np.testing.assert_array_equal(future.result(), expected)
