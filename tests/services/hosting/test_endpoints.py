"""Models, endpoint configs and endpoints through boto3: deploy, invoke, split, update, delete."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest
import xgboost
from botocore.exceptions import ClientError, WaiterError

from tests.services.hosting.conftest import TrainedModel, csv_rows, deploy, predictions, variant
from tests.services.training.jobs import unique


def test_deploy_invoke_and_delete(sagemaker: Any, runtime: Any, model_a: TrainedModel) -> None:
    started = time.time()
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a)])
    assert time.time() - started < 30
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    (summary,) = described["ProductionVariants"]
    assert summary["VariantName"] == "AllTraffic"
    assert (summary["CurrentWeight"], summary["DesiredWeight"]) == (1.0, 1.0)
    assert (summary["CurrentInstanceCount"], summary["DesiredInstanceCount"]) == (1, 1)
    assert "sagemaker-xgboost" in summary["DeployedImages"][0]["SpecifiedImage"]

    rows = model_a.features[:5]
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(rows), CustomAttributes="trace=1"
    )
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert answer["CustomAttributes"] == "trace=1"
    expected = model_a.booster.predict(xgboost.DMatrix(rows))
    np.testing.assert_allclose(predictions(answer["Body"].read()), expected, rtol=1e-6)

    names = [e["EndpointName"] for e in sagemaker.list_endpoints(NameContains=endpoint)["Endpoints"]]
    assert names == [endpoint]
    config = described["EndpointConfigName"]
    sagemaker.delete_endpoint(EndpointName=endpoint)
    with pytest.raises(ClientError) as info:
        sagemaker.describe_endpoint(EndpointName=endpoint)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(rows))
    assert info.value.response["Error"]["Code"] == "ValidationError"
    sagemaker.delete_endpoint_config(EndpointConfigName=config)


def test_model_and_config_errors(sagemaker: Any, model_a: TrainedModel) -> None:
    with pytest.raises(ClientError) as info:
        sagemaker.create_model(
            ModelName=unique("missing-data"),
            PrimaryContainer={"Image": "x/sagemaker-xgboost:1.7-1", "ModelDataUrl": "s3://nowhere-bucket/model.tar.gz"},
        )
    assert "s3://nowhere-bucket/model.tar.gz" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        sagemaker.create_endpoint_config(
            EndpointConfigName=unique("config"),
            ProductionVariants=[{"VariantName": "v", "ModelName": "no-such-model", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
        )
    assert info.value.response["Error"]["Message"] == (
        'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/no-such-model".'
    )
    with pytest.raises(ClientError) as info:
        sagemaker.create_endpoint(EndpointName=unique("endpoint"), EndpointConfigName="no-such-config")
    assert "Could not find endpoint configuration" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        sagemaker.describe_model(ModelName="no-such-model")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    listed = sagemaker.list_models(NameContains=model_a.model_name)["Models"]
    assert [m["ModelName"] for m in listed] == [model_a.model_name]


def test_a_model_that_cannot_load_fails_the_endpoint(sagemaker: Any, s3: Any, hosting_bucket: str) -> None:
    s3.put_object(Bucket=hosting_bucket, Key="broken/model.tar.gz", Body=b"this is not a tarball")
    model = unique("broken")
    sagemaker.create_model(
        ModelName=model,
        PrimaryContainer={"Image": "x/sagemaker-xgboost:1.7-1", "ModelDataUrl": f"s3://{hosting_bucket}/broken/model.tar.gz"},
    )
    config = unique("config")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[{"VariantName": "v", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )
    endpoint = unique("endpoint")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    with pytest.raises(WaiterError):
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "Failed"
    assert "model" in described["FailureReason"]
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_traffic_splits_by_weight_and_target_variant(sagemaker: Any, runtime: Any, model_a: TrainedModel, model_b: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("A", model_a, 1.0), variant("B", model_b, 1.0)])
    body = csv_rows(model_a.features[:1])
    seen = Counter(
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)["InvokedProductionVariant"]
        for _ in range(200)
    )
    assert set(seen) == {"A", "B"} and min(seen.values()) > 50
    targeted = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body, TargetVariant="B")
    assert targeted["InvokedProductionVariant"] == "B"
    np.testing.assert_allclose(
        predictions(targeted["Body"].read()), model_b.booster.predict(xgboost.DMatrix(model_a.features[:1])), rtol=1e-6
    )
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body, TargetVariant="C")
    assert info.value.response["Error"]["Code"] == "ValidationError"

    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 0.0}, {"VariantName": "B", "DesiredWeight": 1.0, "DesiredInstanceCount": 2}],
    )
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    described = {v["VariantName"]: v for v in sagemaker.describe_endpoint(EndpointName=endpoint)["ProductionVariants"]}
    assert described["A"]["CurrentWeight"] == 0.0 and described["B"]["CurrentInstanceCount"] == 2
    after = {runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)["InvokedProductionVariant"] for _ in range(30)}
    assert after == {"B"}
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_update_endpoint_under_traffic_drops_nothing(sagemaker: Any, runtime: Any, model_a: TrainedModel, model_b: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a)])
    body = csv_rows(model_a.features[:1])
    expected_a = model_a.booster.predict(xgboost.DMatrix(model_a.features[:1]))[0]
    expected_b = model_b.booster.predict(xgboost.DMatrix(model_a.features[:1]))[0]
    failures: list[str] = []
    answers: list[float] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            try:
                answers.append(float(predictions(runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)["Body"].read())[0]))
            except ClientError as exc:
                failures.append(str(exc))

    workers = [threading.Thread(target=traffic) for _ in range(4)]
    for worker in workers:
        worker.start()
    new_config = unique("config-b")
    sagemaker.create_endpoint_config(EndpointConfigName=new_config, ProductionVariants=[variant("AllTraffic", model_b)])
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=new_config)
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    time.sleep(0.5)
    stop.set()
    for worker in workers:
        worker.join()
    assert failures == []
    assert len(answers) > 20
    assert answers[0] == pytest.approx(expected_a, rel=1e-6) and answers[-1] == pytest.approx(expected_b, rel=1e-6)
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] == new_config and "FailureReason" not in described
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_a_failed_update_rolls_back_and_keeps_serving(sagemaker: Any, runtime: Any, s3: Any, hosting_bucket: str, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a)])
    s3.put_object(Bucket=hosting_bucket, Key="broken-update/model.tar.gz", Body=b"not a tarball")
    broken = unique("broken")
    sagemaker.create_model(ModelName=broken, PrimaryContainer={"Image": "x/sagemaker-xgboost:1.7-1", "ModelDataUrl": f"s3://{hosting_bucket}/broken-update/model.tar.gz"})
    config = unique("config")
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": broken, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] != config
    assert config in described["FailureReason"]
    runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=csv_rows(model_a.features[:1]))
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_bad_payloads_get_specific_errors(sagemaker: Any, runtime: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a)])
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2,3,4,5,6,7,8,9,abc\n")
    error = info.value.response
    assert error["Error"]["Code"] == "ModelError" and error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400 and "abc" in error["OriginalMessage"]
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=b"\x89PNG")
    assert info.value.response["OriginalStatusCode"] == 415
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1," * (3 * 1024 * 1024 + 10))
    assert info.value.response["Error"]["Code"] == "ValidationError" and "6 MB" in info.value.response["Error"]["Message"]
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    sagemaker.delete_endpoint(EndpointName=endpoint)
