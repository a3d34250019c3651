"""The XGBoost handler in process: response shapes, batch mode and other boosters."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_diabetes

from sagebox.serving.errors import BadRequest, NoContent, UnsupportedAccept
from sagebox.serving.handlers.xgboost import XGBoostHandler, xgboost_message
from tests.serving.conftest import TrainedModel
from tests.serving.payloads import csv_body, parse_csv


def test_json_shapes_match_the_container(models: dict[str, TrainedModel]) -> None:
    binary = XGBoostHandler(models["binary"].booster)
    body, content_type = binary.predict(csv_body(models["binary"].rows[:2]), "", "application/json")
    scores = models["binary"].predict(models["binary"].rows[:2]).tolist()
    assert content_type == "application/json"
    assert body.decode() == json.dumps({"predictions": [{"score": s} for s in scores]})
    multi = XGBoostHandler(models["multiclass"].booster)
    body, _ = multi.predict(csv_body(models["multiclass"].rows[:1]), "", "application/jsonlines")
    expected = models["multiclass"].predict(models["multiclass"].rows[:1])[0].tolist()
    assert body.decode() == json.dumps({"score": expected}) + "\n"


def test_batch_mode_writes_one_row_per_line(models: dict[str, TrainedModel]) -> None:
    model = models["multiclass"]
    handler = XGBoostHandler(model.booster, batch=True)
    body, _ = handler.predict(csv_body(model.rows[:2]), "text/csv", "text/csv")
    scores = model.predict(model.rows[:2])
    assert body.decode() == f"{scores[0].tolist()}\n{scores[1].tolist()}\n"
    json_body, _ = handler.predict(csv_body(model.rows[:2]), "text/csv", "application/json")
    assert json.loads(json_body)["predictions"][1]["score"] == scores[1].tolist()


def test_default_accept_comes_from_the_handler(models: dict[str, TrainedModel]) -> None:
    handler = XGBoostHandler(models["binary"].booster, default_accept="application/jsonlines")
    _, content_type = handler.predict(csv_body(models["binary"].rows), "text/csv", "*/*")
    assert content_type == "application/jsonlines"
    with pytest.raises(UnsupportedAccept):
        handler.predict(b"1", "text/csv", "image/png")
    with pytest.raises(NoContent):
        handler.predict(b"", "text/csv", "")


@pytest.mark.parametrize("booster", ["gblinear", "dart"])
def test_other_boosters_predict_like_booster_predict(booster: str) -> None:
    features, labels = load_diabetes(return_X_y=True)
    params = {"booster": booster, "objective": "reg:squarederror"}
    model = xgb.train(params, xgb.DMatrix(features, label=labels), num_boost_round=5)
    rows = features[:20]
    body, _ = XGBoostHandler(model).predict(csv_body(rows), "text/csv", "text/csv")
    np.testing.assert_array_equal(parse_csv(body.decode()), model.predict(xgb.DMatrix(rows)))


def test_xgboost_errors_lose_their_stack_trace() -> None:
    error = xgb.core.XGBoostError(
        "[11:37:30] /workspace/src/c_api.cc:12: Feature shape mismatch\nStack trace:\n  [bt] (0)"
    )
    assert xgboost_message(error) == "Feature shape mismatch"


def test_prediction_errors_are_bad_requests(models: dict[str, TrainedModel]) -> None:
    handler = XGBoostHandler(models["binary"].booster)
    with pytest.raises(BadRequest, match="XGBoost cannot predict these rows: "):
        handler.scores(np.ones((2, 3)))
