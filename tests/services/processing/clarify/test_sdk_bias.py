"""Bias analysis with the SageMaker Python SDK v2 against a live server: the job's analysis.json
checked metric by metric against the reference computed from the developer guide."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sagemaker import image_uris
from sagemaker.clarify import BiasConfig, DataConfig, ModelConfig, ModelPredictedLabelConfig

from tests.analysis.clarify import reference
from tests.services.processing.clarify.conftest import (
    FEATURES,
    ClarifyData,
    metrics,
    processor,
    read_bytes,
    read_json,
)
from tests.services.training.jobs import unique

HEADERS = ["Target", *FEATURES]


def assert_matches(found: dict[str, Any], expected: dict[str, float]) -> None:
    assert set(expected) <= set(found), (sorted(found), sorted(expected))
    for name, value in expected.items():
        assert reference.close(found[name], value), (name, found[name], value)


def data_config(data: ClarifyData, **overrides: Any) -> DataConfig:
    arguments: dict[str, Any] = {
        "s3_data_input_path": data.data_uri,
        "s3_output_path": f"s3://{data.bucket}/{unique('out')}",
        "label": "Target",
        "headers": HEADERS,
        "dataset_type": "text/csv",
    }
    arguments.update(overrides)
    return DataConfig(**arguments)


def test_the_clarify_image_is_recognised_in_every_region() -> None:
    from sagebox.services.processing.images import default_entrypoint

    path = image_uris.config_for_framework("clarify")["processing"]["versions"]["1.0"]["registries"]
    for region in path:
        uri = image_uris.retrieve("clarify", region)
        assert default_entrypoint(uri) == ("python3", "-m", "sagebox.analysis.clarify"), uri


def test_pre_training_bias_with_categorical_and_continuous_facets_and_a_group(sdk_session: Any, s3: Any, clarify_data: ClarifyData) -> None:
    frame = clarify_data.frame
    config = data_config(clarify_data)
    bias = BiasConfig(label_values_or_threshold=[1], facet_name=["Gender", "Age"], facet_values_or_threshold=[[0], [40]], group_name="Dept")
    processor(sdk_session).run_pre_training_bias(config, bias, methods="all", wait=True, logs=False)
    analysis = read_json(s3, f"{config.s3_output_path}/analysis.json")
    section = analysis["pre_training_bias_metrics"]
    assert section["label"] == "Target" and section["label_value_or_threshold"] == "1"
    label = (frame["Target"] == 1).tolist()
    group = frame["Dept"].tolist()
    assert section["facets"]["Gender"][0]["value_or_threshold"] == "0"
    assert_matches(metrics(section, "Gender"), reference.pre_training((frame["Gender"] == 0).tolist(), label, group))
    assert section["facets"]["Age"][0]["value_or_threshold"] == f"(40, {frame['Age'].max()}]"
    assert_matches(metrics(section, "Age"), reference.pre_training((frame["Age"] > 40).tolist(), label, group))
    assert "post_training_bias_metrics" not in analysis
    html = read_bytes(s3, f"{config.s3_output_path}/report.html").decode()
    assert "Class Imbalance (CI)" in html and "data:image/png;base64," in html
    notebook = json.loads(read_bytes(s3, f"{config.s3_output_path}/report.ipynb"))
    assert notebook["nbformat"] == 4 and any(c["cell_type"] == "code" and c["outputs"] for c in notebook["cells"])
    assert read_bytes(s3, f"{config.s3_output_path}/report.pdf").startswith(b"%PDF")


def test_post_training_bias_through_a_shadow_endpoint_that_is_deleted_afterwards(
    sdk_session: Any, s3: Any, sagemaker: Any, clarify_data: ClarifyData
) -> None:
    frame = clarify_data.frame
    config = data_config(clarify_data)
    bias = BiasConfig(label_values_or_threshold=[1], facet_name="Gender", facet_values_or_threshold=[0], group_name="Dept")
    model = ModelConfig(model_name=clarify_data.model_name, instance_type="ml.m5.large", instance_count=1, accept_type="text/csv", endpoint_name_prefix="bias-check")
    clarify = processor(sdk_session)
    clarify.run_post_training_bias(config, bias, model, ModelPredictedLabelConfig(probability_threshold=0.6), methods="all", wait=True, logs=False)
    section = read_json(s3, f"{config.s3_output_path}/analysis.json")["post_training_bias_metrics"]
    predicted = (clarify_data.probabilities() > 0.6).tolist()
    facet = (frame["Gender"] == 0).tolist()
    features = frame[["Age", "Income", "Dept"]].to_numpy(dtype=float).tolist()
    expected = reference.post_training(facet, (frame["Target"] == 1).tolist(), predicted, frame["Dept"].tolist(), features)
    assert_matches(metrics(section, "Gender"), expected)
    left = sagemaker.list_endpoints(NameContains="bias-check")["Endpoints"]
    assert left == [] or all(e["EndpointStatus"] == "Deleting" for e in left)
    assert sagemaker.list_endpoint_configs(NameContains="bias-check")["EndpointConfigs"] == []


def test_run_bias_on_an_existing_endpoint_with_json_lines_answers(sdk_session: Any, s3: Any, sagemaker: Any, clarify_data: ClarifyData) -> None:
    config_name, endpoint = unique("clarify-config"), unique("clarify-endpoint")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[{"VariantName": "v", "ModelName": clarify_data.model_name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config_name)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    frame = clarify_data.frame
    config = data_config(clarify_data)
    bias = BiasConfig(label_values_or_threshold=[1], facet_name="Gender", facet_values_or_threshold=[1])
    model = ModelConfig(endpoint_name=endpoint, accept_type="application/jsonlines")
    processor(sdk_session).run_bias(config, bias, model, ModelPredictedLabelConfig(label="score", probability_threshold=0.5), wait=True, logs=False)
    analysis = read_json(s3, f"{config.s3_output_path}/analysis.json")
    facet = (frame["Gender"] == 1).tolist()
    label = (frame["Target"] == 1).tolist()
    assert_matches(metrics(analysis["pre_training_bias_metrics"], "Gender"), reference.pre_training(facet, label))
    predicted = (clarify_data.probabilities() > 0.5).tolist()
    features = frame[["Age", "Income", "Dept"]].to_numpy(dtype=float).tolist()
    assert_matches(metrics(analysis["post_training_bias_metrics"], "Gender"), reference.post_training(facet, label, predicted, None, features))
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"  # not Clarify's to delete
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_json_lines_and_parquet_data_sets_with_excluded_and_join_columns(sdk_session: Any, s3: Any, clarify_data: ClarifyData) -> None:
    frame = clarify_data.frame.copy()
    frame["Id"] = np.arange(len(frame)) + 1000
    lines = "\n".join(json.dumps({"features": [int(r.Age), int(r.Gender), float(r.Income), int(r.Dept)], "label": int(r.Target)}) for r in frame.itertuples())
    key = f"{unique('jsonl')}/data.jsonl"
    s3.put_object(Bucket=clarify_data.bucket, Key=key, Body=lines.encode())
    bias = BiasConfig(label_values_or_threshold=[1], facet_name="Dept", group_name="Gender")
    jsonl = data_config(clarify_data, s3_data_input_path=f"s3://{clarify_data.bucket}/{key}", dataset_type="application/jsonlines", features="features", label="label", headers=[*FEATURES, "Target"])
    clarify = processor(sdk_session)
    clarify.run_pre_training_bias(jsonl, bias, methods=["CI", "DPL", "KL", "CDDL"], wait=True, logs=False)
    section = read_json(s3, f"{jsonl.s3_output_path}/analysis.json")["pre_training_bias_metrics"]
    label = (frame["Target"] == 1).tolist()
    groups = section["facets"]["Dept"]
    assert sorted(g["value_or_threshold"] for g in groups) == ["0", "1", "2"]
    for index, entry in enumerate(groups):
        assert [m["name"] for m in entry["metrics"]] == ["CDDL", "CI", "DPL", "KL"]
        facet = (frame["Dept"] == int(entry["value_or_threshold"])).tolist()
        expected = reference.pre_training(facet, label, frame["Gender"].tolist())
        assert_matches(metrics(section, "Dept", index), {k: expected[k] for k in ("CDDL", "CI", "DPL", "KL")})
    buffer = pd.io.common.BytesIO()
    frame[["Id", *HEADERS]].to_parquet(buffer)
    key = f"{unique('parquet')}/data.parquet"
    s3.put_object(Bucket=clarify_data.bucket, Key=key, Body=buffer.getvalue())
    parquet = data_config(clarify_data, s3_data_input_path=f"s3://{clarify_data.bucket}/{key}", dataset_type="application/x-parquet", headers=None, joinsource="Id", excluded_columns=["Income"])
    clarify.run_pre_training_bias(parquet, BiasConfig([1], "Income", [55.0]), wait=True, logs=False)
    section = read_json(s3, f"{parquet.s3_output_path}/analysis.json")["pre_training_bias_metrics"]
    assert_matches(metrics(section, "Income"), reference.pre_training((frame["Income"] > 55).tolist(), label))
