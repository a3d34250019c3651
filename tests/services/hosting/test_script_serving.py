"""Serving script-mode models through boto3: the user's inference.py on endpoints and in batch transform."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
from typing import Any

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError, WaiterError
from sklearn.linear_model import Ridge

from tests.archives import tar_gz
from tests.services.training.jobs import ROLE, unique
from tests.services.transform.jobs import features_csv, read, wait_for_transform

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TENSORFLOW_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.16.1-cpu"

FULL_SCRIPT = '''
import json
import os

import joblib
import numpy as np

from helpers.scaling import SCALE


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"this model reads application/json only, not {content_type}")
    return np.asarray(json.loads(body)["rows"], dtype=np.float64)


def predict_fn(rows, model):
    return model.predict(rows) * SCALE


def output_fn(prediction, accept):
    return json.dumps({"scores": prediction.tolist()}), "application/json"
'''

MODEL_FN_ONLY_SCRIPT = '''
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "regressor.joblib"))
'''


def _joblib_bytes(model: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 4))
    return x, x @ np.array([1.5, -2.0, 0.5, 3.0]) + rng.normal(scale=0.1, size=60)


@pytest.fixture(scope="module")
def regressor(data: tuple[np.ndarray, np.ndarray]) -> Ridge:
    return Ridge(alpha=0.5).fit(*data)


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("script-serving")
    s3.create_bucket(Bucket=name)
    return name


def _create_model(sagemaker: Any, model_data: str, environment: dict[str, str], image: str = SKLEARN_IMAGE) -> str:
    name = unique("script-model")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": image, "ModelDataUrl": model_data, "Environment": environment},
    )
    return name


def _start_endpoint(sagemaker: Any, model: str) -> str:
    config = unique("script-config")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    )
    endpoint = unique("script-endpoint")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint


def _deploy(sagemaker: Any, model: str) -> str:
    endpoint = _start_endpoint(sagemaker, model)
    try:
        sagemaker.get_waiter("endpoint_in_service").wait(
            EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    except WaiterError:
        reason = sagemaker.describe_endpoint(EndpointName=endpoint).get("FailureReason")
        raise AssertionError(f"endpoint {endpoint} did not come InService: {reason}") from None
    return endpoint


@pytest.fixture(scope="module")
def full_script_model(sagemaker: Any, s3: Any, bucket: str, regressor: Ridge) -> str:
    """Code in an s3 sourcedir.tar.gz defining all four functions; the model alone in model.tar.gz."""
    s3.put_object(Bucket=bucket, Key="full/model.tar.gz", Body=tar_gz({"model.joblib": _joblib_bytes(regressor)}))
    source = tar_gz({
        "inference.py": FULL_SCRIPT.encode(),
        "helpers/__init__.py": b"",
        "helpers/scaling.py": b"SCALE = 2.0\n",
    })
    s3.put_object(Bucket=bucket, Key="full/source/sourcedir.tar.gz", Body=source)
    return _create_model(
        sagemaker,
        f"s3://{bucket}/full/model.tar.gz",
        {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": f"s3://{bucket}/full/source/sourcedir.tar.gz"},
    )


@pytest.fixture(scope="module")
def defaults_model(sagemaker: Any, s3: Any, bucket: str, regressor: Ridge) -> str:
    """Only model_fn, repacked into model.tar.gz under code/ as the SDK does."""
    archive = tar_gz({"regressor.joblib": _joblib_bytes(regressor), "code/inference.py": MODEL_FN_ONLY_SCRIPT.encode()})
    s3.put_object(Bucket=bucket, Key="defaults/model.tar.gz", Body=archive)
    return _create_model(
        sagemaker,
        f"s3://{bucket}/defaults/model.tar.gz",
        {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
    )


def test_all_four_functions_from_an_s3_source_directory(
    sagemaker: Any, runtime: Any, full_script_model: str, regressor: Ridge, data: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = data[0][:5]
    endpoint = _deploy(sagemaker, full_script_model)
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Body=json.dumps({"rows": rows.tolist()})
    )
    assert answer["ContentType"] == "application/json"
    scores = json.loads(answer["Body"].read())["scores"]
    np.testing.assert_array_equal(scores, regressor.predict(rows) * 2.0)

    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=features_csv(rows))
    error = info.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 500
    assert "ValueError: this model reads application/json only, not text/csv" in error["Error"]["Message"]
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_model_fn_only_answers_with_the_framework_defaults(
    sagemaker: Any, runtime: Any, defaults_model: str, regressor: Ridge, data: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = data[0][:4]
    expected = regressor.predict(rows)
    endpoint = _deploy(sagemaker, defaults_model)

    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=features_csv(rows))
    assert answer["ContentType"].startswith("text/csv")
    lines = answer["Body"].read().decode().splitlines()
    np.testing.assert_array_equal([float(line) for line in lines], regressor.predict(np.loadtxt(io.BytesIO(features_csv(rows)), delimiter=",")))

    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Body=json.dumps({"instances": rows.tolist()})
    )
    assert answer["ContentType"] == "application/json"
    np.testing.assert_array_equal(json.loads(answer["Body"].read()), expected)

    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=json.dumps(rows.tolist()))
    np.testing.assert_array_equal(json.loads(answer["Body"].read()), expected)

    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2\n3")
    assert info.value.response["OriginalStatusCode"] == 400
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_batch_transform_with_a_script_model(
    sagemaker: Any, s3: Any, bucket: str, defaults_model: str, regressor: Ridge, data: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = data[0]
    s3.put_object(Bucket=bucket, Key="batch/in/rows.csv", Body=features_csv(rows))
    name = unique("script-transform")
    sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName=defaults_model,
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=1,
        Environment={"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/batch/in/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{bucket}/batch/out", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    job = wait_for_transform(sagemaker, name)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    lines = read(s3, f"s3://{bucket}/batch/out/rows.csv.out").decode().splitlines()
    sent = np.loadtxt(io.BytesIO(features_csv(rows)), delimiter=",")
    np.testing.assert_array_equal([float(line) for line in lines], regressor.predict(sent))


def test_a_framework_image_needs_an_inference_script(sagemaker: Any, s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as info:
        _create_model(sagemaker, f"s3://{bucket}/defaults/model.tar.gz", {})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "SAGEMAKER_PROGRAM" in info.value.response["Error"]["Message"]


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None, reason="TensorFlow is installed here")
def test_a_missing_framework_fails_the_endpoint_naming_the_package(sagemaker: Any, defaults_model: str) -> None:
    model_data = sagemaker.describe_model(ModelName=defaults_model)["PrimaryContainer"]["ModelDataUrl"]
    model = _create_model(
        sagemaker, model_data, {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
        image=TENSORFLOW_IMAGE,
    )
    endpoint = _start_endpoint(sagemaker, model)
    with pytest.raises(WaiterError):
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "Failed"
    assert "pip install tensorflow" in described["FailureReason"]
    sagemaker.delete_endpoint(EndpointName=endpoint)


PREFIX_SCRIPT = '''
import json
import os
import sys

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "regressor.joblib"))


def output_fn(prediction, accept):
    return json.dumps({"predictions": prediction.tolist(), "prefix": sys.prefix}), "application/json"
'''


def _requirements_model(sagemaker: Any, s3: Any, bucket: str, regressor: Ridge, requirements: str) -> str:
    key = f"{unique('requirements')}/model.tar.gz"
    archive = tar_gz({
        "regressor.joblib": _joblib_bytes(regressor),
        "code/inference.py": PREFIX_SCRIPT.encode(),
        "code/requirements.txt": requirements.encode(),
    })
    s3.put_object(Bucket=bucket, Key=key, Body=archive)
    environment = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    return _create_model(sagemaker, f"s3://{bucket}/{key}", environment)


def test_the_inference_codes_requirements_run_the_server_in_a_cached_environment(
    sagemaker: Any, runtime: Any, s3: Any, bucket: str, regressor: Ridge, sagebox_server: Any
) -> None:
    requirements = "numpy\n"  # the same file as the training test's: one cached environment serves both
    endpoint = _deploy(sagemaker, _requirements_model(sagemaker, s3, bucket, regressor, requirements))
    rows = np.ones((2, 4))
    answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=features_csv(rows))
    body = json.loads(answer["Body"].read())
    np.testing.assert_array_equal(body["predictions"], regressor.predict(rows))
    digest = hashlib.sha256(requirements.encode()).hexdigest()
    assert body["prefix"] == str(sagebox_server.home / "venvs" / digest)
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_requirements_that_do_not_install_fail_the_endpoint_with_pips_error(
    sagemaker: Any, s3: Any, bucket: str, regressor: Ridge
) -> None:
    model = _requirements_model(sagemaker, s3, bucket, regressor, "--no-index\nsagebox-no-such-package==1.0\n")
    endpoint = _start_endpoint(sagemaker, model)
    with pytest.raises(WaiterError):
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "Failed"
    assert "pip could not install the inference code's requirements.txt" in described["FailureReason"]
    assert "sagebox-no-such-package" in described["FailureReason"]
    sagemaker.delete_endpoint(EndpointName=endpoint)
