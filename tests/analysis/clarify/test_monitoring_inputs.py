"""How a bias or explainability monitoring execution reads captured traffic: requests in CSV
or JSON (located by features_attribute), answers read as Clarify reads a model's, headers
with or without the label."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sagebox.analysis.clarify.errors import ClarifyError
from sagebox.analysis.clarify.monitoring import (
    _scores_located,
    answer_values,
    feature_names,
    request_rows,
)
from sagebox.analysis.model_monitor.environment import AnalyzerEnvironment


def environment(**given: object) -> AnalyzerEnvironment:
    return AnalyzerEnvironment(
        dataset_format={"sagemakerCaptureJson": {}},
        dataset_source=Path("."),
        output_path=Path("."),
        **given,
    )  # type: ignore[arg-type]


def test_requests_in_csv_json_and_base64() -> None:
    assert request_rows("34,1,52.5\n20,0,15", "CSV", "text/csv", None) == [
        [34, 1, 52.5],
        [20, 0, 15],
    ]
    document = json.dumps({"instances": [{"features": [1, 2.5]}, {"features": [3, 4]}]})
    assert request_rows(document, "JSON", "application/json", "instances[*].features") == [
        [1, 2.5],
        [3, 4],
    ]
    lines = '{"features": [1, 2]}\n{"features": [5, 6]}'
    assert request_rows(lines, "JSON", "application/jsonlines", "features") == [[1, 2], [5, 6]]
    encoded = base64.b64encode(b"7,8").decode()
    assert request_rows(encoded, "BASE64", "text/csv", None) == [[7, 8]]
    with pytest.raises(ClarifyError, match="features_attribute 'nothing' locates no list"):
        request_rows(lines, "JSON", "application/jsonlines", "nothing")


def test_answers_give_labels_and_scores_as_the_attributes_say() -> None:
    assert answer_values("0.73\n0.2", "CSV", "text/csv", 2, environment()) == (None, [0.73, 0.2])
    assert answer_values(
        "1,0.9",
        "CSV",
        "text/csv",
        1,
        environment(inference_attribute="0", probability_attribute="1"),
    ) == ([1.0], [0.9])
    lines = '{"label": "yes", "score": 0.8}\n{"label": "no", "score": 0.1}'
    assert answer_values(
        lines,
        "JSON",
        "application/jsonlines",
        2,
        environment(inference_attribute="label", probability_attribute="score"),
    ) == (["yes", "no"], [0.8, 0.1])


def test_feature_names_leave_the_label_out() -> None:
    assert feature_names(["Target", "Age", "Gender"], "Target", 2) == ["Age", "Gender"]
    assert feature_names(["Target", "Age", "Gender"], 0, 2) == ["Age", "Gender"]
    assert feature_names(["Age", "Gender"], "Target", 2) == ["Age", "Gender"]
    assert feature_names(None, "Target", 3) == ["column_0", "column_1", "column_2"]
    with pytest.raises(ClarifyError, match="2 headers"):
        feature_names(["Age", "Gender"], "Target", 4)


def test_the_predictor_learns_where_the_scores_are_from_the_endpoint_input() -> None:
    predictor = {"model_name": "m", "accept_type": "text/csv"}
    assert _scores_located(predictor, environment(inference_attribute="1"))["probability"] == 1
    jsonl = {"model_name": "m", "accept_type": "application/jsonlines"}
    assert (
        _scores_located(jsonl, environment(probability_attribute="score"))["probability"] == "score"
    )
    given = {"model_name": "m", "probability": 2}
    assert _scores_located(given, environment(inference_attribute="0")) == given
    assert _scores_located(predictor, environment()) == predictor
