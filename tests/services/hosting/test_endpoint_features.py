"""Data capture, shadow variants, async and serverless inference, inference pipelines."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import xgboost

from tests.services.hosting.conftest import (
    TrainedModel,
    csv_rows,
    deploy,
    predictions,
    train_model,
    variant,
)
from tests.services.training.jobs import unique


def _objects(s3: Any, bucket: str, prefix: str, timeout: float = 20) -> list[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
        if keys:
            return keys
        time.sleep(0.2)
    return []


def _server_pids(home: Path, endpoint: str) -> list[int]:
    """Model server processes whose folder lies under the endpoint's."""
    folder = str(home / "endpoints" / endpoint)
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if "sagebox.serving" in (proc / "cmdline").read_bytes().decode() and str((proc / "cwd").resolve()).startswith(folder):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_data_capture_and_shadow_variant(sagemaker: Any, runtime: Any, s3: Any, hosting_bucket: str, model_a: TrainedModel, model_b: TrainedModel) -> None:
    destination = f"s3://{hosting_bucket}/capture"
    endpoint = deploy(
        sagemaker,
        [variant("Live", model_a)],
        ShadowProductionVariants=[variant("Shadow", model_b)],
        DataCaptureConfig={
            "EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": destination,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    body = csv_rows(model_a.features[:2])
    for _ in range(3):
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        assert answer["InvokedProductionVariant"] == "Live"
    live_keys = _objects(s3, hosting_bucket, f"capture/{endpoint}/Live/")
    shadow_keys = _objects(s3, hosting_bucket, f"capture/{endpoint}/Shadow/")
    assert live_keys and shadow_keys
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime())
    assert live_keys[0].startswith(f"capture/{endpoint}/Live/{hour}/") and live_keys[0].endswith(".jsonl")
    record = json.loads(s3.get_object(Bucket=hosting_bucket, Key=live_keys[0])["Body"].read().splitlines()[0])
    capture = record["captureData"]
    assert capture["endpointInput"] == {"observedContentType": "text/csv", "mode": "INPUT", "data": body.decode(), "encoding": "CSV"}
    assert capture["endpointOutput"]["mode"] == "OUTPUT" and capture["endpointOutput"]["encoding"] == "CSV"
    np.testing.assert_allclose(predictions(capture["endpointOutput"]["data"].encode()), model_a.booster.predict(xgboost.DMatrix(model_a.features[:2])), rtol=1e-6)
    assert set(record["eventMetadata"]) >= {"eventId", "inferenceTime"} and record["eventVersion"] == "0"
    shadow = json.loads(s3.get_object(Bucket=hosting_bucket, Key=shadow_keys[0])["Body"].read().splitlines()[0])
    np.testing.assert_allclose(predictions(shadow["captureData"]["endpointOutput"]["data"].encode()), model_b.booster.predict(xgboost.DMatrix(model_a.features[:2])), rtol=1e-6)
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_async_inference(sagemaker: Any, runtime: Any, s3: Any, hosting_bucket: str, model_a: TrainedModel) -> None:
    endpoint = deploy(
        sagemaker, [variant("AllTraffic", model_a)],
        AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"s3://{hosting_bucket}/async-out"}},
    )
    rows = model_a.features[:10]
    s3.put_object(Bucket=hosting_bucket, Key="async-in/input.csv", Body=csv_rows(rows))
    answer = runtime.invoke_endpoint_async(EndpointName=endpoint, ContentType="text/csv", InputLocation=f"s3://{hosting_bucket}/async-in/input.csv")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["OutputLocation"] == f"s3://{hosting_bucket}/async-out/{answer['InferenceId']}.out"
    key = answer["OutputLocation"].split("/", 3)[3]
    assert _objects(s3, hosting_bucket, key) == [key]
    np.testing.assert_allclose(predictions(s3.get_object(Bucket=hosting_bucket, Key=key)["Body"].read()), model_a.booster.predict(xgboost.DMatrix(rows)), rtol=1e-6)
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_serverless_scales_from_and_to_zero(sagemaker: Any, runtime: Any, sagebox_server: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [{"VariantName": "AllTraffic", "ModelName": model_a.model_name, "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2}}])
    assert _server_pids(sagebox_server.home, endpoint) == []
    body = csv_rows(model_a.features[:1])
    runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    assert len(_server_pids(sagebox_server.home, endpoint)) == 1
    deadline = time.time() + 20
    while _server_pids(sagebox_server.home, endpoint) and time.time() < deadline:
        time.sleep(0.5)
    assert _server_pids(sagebox_server.home, endpoint) == []
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    np.testing.assert_allclose(predictions(answer["Body"].read()), model_a.booster.predict(xgboost.DMatrix(model_a.features[:1])), rtol=1e-6)
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_inference_pipeline_chains_containers(sagemaker: Any, runtime: Any, s3: Any, hosting_bucket: str, model_a: TrainedModel) -> None:
    first = model_a.booster.predict(xgboost.DMatrix(model_a.features)).astype(np.float64)
    rng = np.random.default_rng(0)
    second = train_model(sagemaker, s3, hosting_bucket, first.reshape(-1, 1), first * 2 + rng.normal(size=first.size), num_round=5)
    model = unique("pipeline")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    sagemaker.create_model(
        ModelName=model,
        Containers=[{"Image": image, "ModelDataUrl": model_a.model_data}, {"Image": image, "ModelDataUrl": second.model_data}],
        InferenceExecutionConfig={"Mode": "Serial"},
    )
    endpoint = deploy(sagemaker, [{"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    # One row: the first container answers one CSV value, which is the second's one feature.
    rows = model_a.features[:1]
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(rows))
    stage_one = model_a.booster.predict(xgboost.DMatrix(rows))
    expected = second.booster.predict(xgboost.DMatrix(stage_one.reshape(-1, 1)))
    np.testing.assert_allclose(predictions(answer["Body"].read()), expected, rtol=1e-5)
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_serverless_max_concurrency_throttles(sagemaker: Any, model_a: TrainedModel, sagebox_server: Any) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    endpoint = deploy(sagemaker, [{"VariantName": "AllTraffic", "ModelName": model_a.model_name, "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}])
    client = boto3.client("sagemaker-runtime", config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=16))
    body = csv_rows(np.repeat(model_a.features, 50, axis=0))  # large enough to keep the instance busy
    client.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(model_a.features[:1]))
    outcomes: list[str] = []

    def call() -> None:
        try:
            client.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(16):
            pool.submit(call)
    assert "ok" in outcomes and "ThrottlingException" in outcomes
    assert set(outcomes) <= {"ok", "ThrottlingException"}
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_list_endpoints_filters_sorts_and_pages(sagemaker: Any, model_a: TrainedModel) -> None:
    marker = unique("listed")
    config = unique("config")
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant("AllTraffic", model_a)])
    names = [f"{marker}-{i}" for i in range(3)]
    for name in names:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    for name in names:
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    pages = sagemaker.get_paginator("list_endpoints").paginate(NameContains=marker, SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2})
    assert [e["EndpointName"] for p in pages for e in p["Endpoints"]] == names
    newest_first = sagemaker.list_endpoints(NameContains=marker)["Endpoints"]
    assert [e["EndpointName"] for e in newest_first] == names[::-1]
    assert sagemaker.list_endpoints(NameContains=marker, StatusEquals="Failed")["Endpoints"] == []
    assert {e["EndpointStatus"] for e in newest_first} == {"InService"}
    for name in names:
        sagemaker.delete_endpoint(EndpointName=name)
