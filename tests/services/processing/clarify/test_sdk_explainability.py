"""SHAP and partial dependence with the SageMaker Python SDK v2 against a live server, checked
against exact Shapley values enumerated over every feature subset with the model's booster."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from sagemaker.clarify import (
    DataConfig,
    ModelConfig,
    ModelPredictedLabelConfig,
    PDPConfig,
    SHAPConfig,
)

from tests.services.processing.clarify.conftest import (
    FEATURES,
    ClarifyData,
    exact_shapley,
    processor,
    read_bytes,
    read_json,
)
from tests.services.training.jobs import unique


def explain(session: Any, data: ClarifyData, shap: Any, **data_overrides: Any) -> tuple[DataConfig, Any]:
    arguments: dict[str, Any] = {
        "s3_data_input_path": data.data_uri,
        "s3_output_path": f"s3://{data.bucket}/{unique('explain')}",
        "label": "Target",
        "headers": ["Target", *FEATURES],
        "dataset_type": "text/csv",
    }
    config = DataConfig(**{**arguments, **data_overrides})
    model = ModelConfig(model_name=data.model_name, instance_type="ml.m5.large", instance_count=1, accept_type="text/csv", content_type="text/csv")
    processor(session).run_explainability(config, model, shap, model_scores=ModelPredictedLabelConfig(probability=0), wait=True, logs=False)
    return config, model


def local_values(s3: Any, config: DataConfig) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(read_bytes(s3, f"{config.s3_output_path}/explanations_shap/out.csv")))


def test_kernel_shap_with_a_given_baseline_is_exact_shapley_and_adds_up_to_the_model_output(sdk_session: Any, s3: Any, clarify_data: ClarifyData) -> None:
    baseline = clarify_data.features[:3]
    shap = SHAPConfig(baseline=baseline.tolist(), num_samples=100, agg_method="mean_sq", save_local_shap_values=True, seed=7)
    config, _ = explain(sdk_session, clarify_data, shap)
    analysis = read_json(s3, f"{config.s3_output_path}/analysis.json")
    explained = analysis["explanations"]["kernel_shap"]["label0"]
    local = local_values(s3, config)
    assert list(local.columns) == FEATURES and len(local) == len(clarify_data.frame)
    expected_value = float(np.mean(clarify_data.probabilities(baseline)))
    assert abs(explained["expected_value"] - expected_value) < 1e-6
    outputs = clarify_data.probabilities()
    assert np.max(np.abs(local.sum(axis=1).to_numpy() + explained["expected_value"] - outputs)) < 1e-2
    for row in (0, 17, 123):  # 4 features: 14 coalitions <= num_samples, so Kernel SHAP enumerates them all
        exact = exact_shapley(clarify_data.probabilities, clarify_data.features[row], baseline)
        assert np.allclose(local.iloc[row].to_numpy(), exact, atol=1e-5), (row, local.iloc[row].tolist(), exact)
    mean_sq = (local.to_numpy() ** 2).mean(axis=0)
    assert np.allclose([explained["global_shap_values"][f] for f in FEATURES], mean_sq, rtol=1e-9)
    assert "baseline.csv" not in str(s3.list_objects_v2(Bucket=clarify_data.bucket, Prefix=config.s3_output_path.split("/", 3)[3]))


def test_use_logit_with_a_k_means_baseline_a_join_source_and_partial_dependence(sdk_session: Any, s3: Any, clarify_data: ClarifyData) -> None:
    frame = clarify_data.frame.copy()
    frame.insert(0, "Id", np.arange(len(frame)) + 5000)
    key = f"{unique('with-ids')}/loans.csv"
    s3.put_object(Bucket=clarify_data.bucket, Key=key, Body=frame.to_csv(index=False, header=False).encode())
    # one baseline row: log-odds of the baseline's probability is its raw score, so TreeSHAP applies
    shap = SHAPConfig(use_logit=True, num_clusters=1, save_local_shap_values=True, agg_method="median")
    pdp = PDPConfig(features=["Income", "Dept"], grid_resolution=5)
    config, _ = explain(
        sdk_session, clarify_data, [shap, pdp],
        s3_data_input_path=f"s3://{clarify_data.bucket}/{key}", headers=["Id", "Target", *FEATURES], joinsource="Id",
    )
    analysis = read_json(s3, f"{config.s3_output_path}/analysis.json")
    explained = analysis["explanations"]["kernel_shap"]["label0"]
    baseline = pd.read_csv(io.BytesIO(read_bytes(s3, f"{config.s3_output_path}/explanations_shap/baseline.csv")), header=None).to_numpy(float)
    assert baseline.shape == (1, 4)  # num_clusters cluster centres of the model's features
    local = local_values(s3, config)
    assert list(local.columns) == ["Id", *FEATURES] and local["Id"].tolist() == frame["Id"].tolist()
    values = local[FEATURES].to_numpy()
    margins = clarify_data.margins(clarify_data.features)  # use_logit: log-odds, the booster's raw output
    assert abs(explained["expected_value"] - float(np.mean(clarify_data.margins(baseline)))) < 1e-5
    assert np.max(np.abs(values.sum(axis=1) + explained["expected_value"] - margins)) < 1e-5
    for row in (3, 99):
        exact = exact_shapley(clarify_data.margins, clarify_data.features[row], baseline)
        assert np.allclose(values[row], exact, atol=1e-5), (row, values[row].tolist(), exact)
    assert np.allclose([explained["global_shap_values"][f] for f in FEATURES], np.median(values, axis=0), atol=1e-9)
    entries = {e["feature_name"]: e for e in analysis["explanations"]["pdp"]}
    income = entries["Income"]
    edges = np.linspace(frame["Income"].min(), frame["Income"].max(), 6)
    assert income["data_type"] == "numerical" and np.allclose(income["feature_values"], (edges[:-1] + edges[1:]) / 2)
    assert abs(sum(income["data_distribution"]) - 1) < 1e-9 and income["label_headers"] == ["label0"]
    for index, value in enumerate(income["feature_values"]):
        rows = clarify_data.features.copy()
        rows[:, FEATURES.index("Income")] = value
        assert abs(income["model_predictions"][0][index] - float(np.mean(clarify_data.probabilities(rows)))) < 1e-5
    dept = entries["Dept"]
    assert dept["data_type"] == "categorical" and dept["feature_values"] == [0, 1, 2]
    assert np.allclose(dept["data_distribution"], [np.mean(frame["Dept"] == v) for v in (0, 1, 2)])
