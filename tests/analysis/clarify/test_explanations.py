"""SHAP paths and the model's requests and answers, as a library (no server)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import xgboost

from sagebox.analysis.clarify import AnalysisConfig, build_dataset, run_analysis
from sagebox.analysis.clarify.config import PredictorSpec
from sagebox.analysis.clarify.model_io import parse_answer, predicted_labels, records_of, serialize


class BoosterModel:
    """A model answering with a booster's predictions, as an endpoint would (text/csv)."""

    def __init__(self, booster: xgboost.Booster) -> None:
        self.booster = booster
        self.calls = 0

    def answers(self, rows: Any) -> tuple[None, list[Any]]:
        self.calls += 1
        return None, [float(v) for v in self.booster.predict(xgboost.DMatrix(np.asarray(rows, dtype=float)))]


def regression(seed: int) -> tuple[pd.DataFrame, xgboost.Booster]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(120, 5)), columns=[f"x{i}" for i in range(5)])
    target = frame["x0"] * 2 + frame["x1"] * frame["x2"] + rng.normal(0, 0.1, 120)
    booster = xgboost.train({"objective": "reg:squarederror", "max_depth": 3}, xgboost.DMatrix(frame.to_numpy(), label=target), 20)  # no names, as SageMaker trains
    frame.insert(0, "y", target)
    return frame, booster


def config(**shap: Any) -> AnalysisConfig:
    return AnalysisConfig.from_dict({
        "dataset_type": "text/csv", "label": "y",
        "methods": {"shap": {"baseline": [[0.0] * 5, [1.0] * 5], **shap}},
        "predictor": {"endpoint_name": "e"},
    })


def test_an_xgboost_regressor_is_explained_exactly_by_treeshap_and_kernel_shap_agrees() -> None:
    frame, booster = regression(0)
    parsed = config(num_samples=64)
    dataset = build_dataset(frame, parsed)
    baseline = pd.DataFrame([[0.0] * 5, [1.0] * 5], columns=list(dataset.feature_columns))
    outputs = booster.predict(xgboost.DMatrix(frame.iloc[:, 1:].to_numpy()))
    tree = run_analysis(parsed, dataset, BoosterModel(booster), baseline=baseline, booster=booster)
    assert tree.shap is not None and tree.shap.method == "tree"
    assert np.max(np.abs(tree.shap.local[:, :, 0].sum(axis=1) + tree.shap.expected_value[0] - outputs)) < 1e-5
    kernel = run_analysis(parsed, dataset, BoosterModel(booster), baseline=baseline)
    assert kernel.shap is not None and kernel.shap.method == "kernel"
    assert np.allclose(kernel.shap.local, tree.shap.local, atol=1e-4)  # 5 features: all 30 coalitions enumerated
    section = tree.analysis["explanations"]["kernel_shap"]["label0"]
    assert np.allclose(list(section["global_shap_values"].values()), np.abs(tree.shap.local[:, :, 0]).mean(axis=0))


def test_a_booster_that_does_not_answer_as_the_endpoint_falls_back_to_kernel_shap() -> None:
    frame, booster = regression(1)
    _, other = regression(2)
    parsed = config()
    dataset = build_dataset(frame, parsed)
    baseline = pd.DataFrame([[0.0] * 5], columns=list(dataset.feature_columns))
    result = run_analysis(parsed, dataset, BoosterModel(booster), baseline=baseline, booster=other)
    assert result.shap is not None and result.shap.method == "kernel"


def test_requests_are_built_from_the_templates() -> None:
    rows, names = [[1, 2.5], [3, 0.1]], ["a", "b"]
    csv = PredictorSpec(content_type="text/csv")
    assert serialize(rows, names, csv) == [b"1,2.5\n3,0.1"]
    lines = PredictorSpec(content_type="application/jsonlines", content_template='{"features":$features}')
    assert serialize(rows, names, lines) == [b'{"features":[1, 2.5]}\n{"features":[3, 0.1]}']
    records = PredictorSpec(content_type="application/json", content_template='{"instances":$records}', record_template="$features_kvp")
    assert json.loads(serialize(rows, names, records)[0]) == {"instances": [{"a": 1, "b": 2.5}, {"a": 3, "b": 0.1}]}
    one = PredictorSpec(content_type="application/json", content_template="$record", record_template='{"x": ${b}}')
    assert serialize(rows, names, one) == [b'{"x": 2.5}', b'{"x": 0.1}']


def test_answers_give_labels_and_scores_as_the_predictor_says() -> None:
    csv = PredictorSpec(accept_type="text/csv", label=0, probability=1)
    labels, scores = records_of(parse_answer(b"1,0.9\n0,0.2\n", "text/csv", 2), csv, 2)
    assert labels == [1.0, 0.0] and scores == [0.9, 0.2]
    whole = PredictorSpec(accept_type="text/csv")
    assert records_of(parse_answer(b"0.7,0.1,0.4", "text/csv", 3), whole, 3) == (None, [0.7, 0.1, 0.4])
    document = b'{"predictions": [{"label": "cat", "p": [0.2, 0.8]}, {"label": "dog", "p": [0.9, 0.1]}]}'
    spec = PredictorSpec(accept_type="application/json", probability="predictions[*].p", label_headers=("dog", "cat"))
    _, scores = records_of(parse_answer(document, "application/json", 2), spec, 2)
    assert predicted_labels(None, scores, spec, 0.5, categorical=True) == ["cat", "dog"]
    assert predicted_labels(None, [0.3, 0.65], PredictorSpec(probability=0), 0.6, categorical=True) == [0, 1]
    assert predicted_labels(None, [12.5, 3.0], PredictorSpec(), 0.5, categorical=False) == [12.5, 3.0]
