"""No request lost to an instance that dies through no fault of the request.

With a single instance killed under load, requests wait for its replacement (or are
retried once when their connection dropped mid-request) and every one succeeds; a
request that itself takes its model server down gets a ModelError, not a retry.
Clients here never retry, so every error the server answers is counted.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from typing import Any

import boto3
import joblib
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sklearn.linear_model import Ridge

from tests.archives import tar_gz
from tests.services.hosting.conftest import TrainedModel, csv_rows, deploy, variant
from tests.services.hosting.test_endpoint_features import _server_pids
from tests.services.training.jobs import ROLE, unique

REQUESTS = 2000
CONCURRENCY = 4
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
CRASHING_SCRIPT = '''
import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    rows = json.loads(body)
    if rows == "crash":
        os._exit(3)  # this request takes the server down
    return np.asarray(rows, dtype=np.float64)
'''


@pytest.fixture(scope="module")
def no_retries(sagebox_server: Any) -> Any:
    return boto3.client("sagemaker-runtime", config=Config(retries={"max_attempts": 1}, max_pool_connections=16))


def test_killing_the_only_instance_under_load_loses_no_request(
    sagemaker: Any, no_retries: Any, sagebox_server: Any, model_a: TrainedModel
) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a, count=1)])
    body = csv_rows(model_a.features[:1])
    failures: list[str] = []
    sent = 0
    lock = threading.Lock()

    def traffic() -> None:
        nonlocal sent
        while True:
            with lock:
                if sent >= REQUESTS:
                    return
                sent += 1
            try:
                no_retries.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
            except ClientError as exc:
                failures.append(exc.response["Error"]["Code"])

    workers = [threading.Thread(target=traffic) for _ in range(CONCURRENCY)]
    for worker in workers:
        worker.start()
    while sent < REQUESTS // 5:
        time.sleep(0.01)
    (before,) = _server_pids(sagebox_server.home, endpoint)
    os.kill(before, signal.SIGKILL)  # mid-run, with requests in flight
    for worker in workers:
        worker.join()
    assert failures == [], f"{len(failures)} of {REQUESTS} requests failed: {sorted(set(failures))}"
    (after,) = _server_pids(sagebox_server.home, endpoint)
    assert after != before
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_a_request_that_takes_its_instance_down_gets_a_model_error(
    sagemaker: Any, s3: Any, no_retries: Any, sagebox_server: Any
) -> None:
    bucket = unique("crash")
    s3.create_bucket(Bucket=bucket)
    model_bytes = io.BytesIO()
    joblib.dump(Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), model_bytes)
    s3.put_object(Bucket=bucket, Key="model.tar.gz", Body=tar_gz({
        "model.joblib": model_bytes.getvalue(), "code/inference.py": CRASHING_SCRIPT.encode(),
    }))
    name = unique("crash-model")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={
        "Image": SKLEARN_IMAGE, "ModelDataUrl": f"s3://{bucket}/model.tar.gz",
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
    })
    endpoint = deploy(sagemaker, [{"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
                                   "InstanceType": "ml.m5.large"}])
    fine = no_retries.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=b"[[0.5]]")
    assert fine["Body"].read()
    (before,) = _server_pids(sagebox_server.home, endpoint)
    with pytest.raises(ClientError) as raised:
        no_retries.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=b'"crash"')
    error = raised.value.response["Error"]
    assert error["Code"] == "ModelError"
    assert "exited while handling the request" in error["Message"]
    deadline = time.time() + 60  # the instance is replaced, and serves again
    while time.time() < deadline:
        pids = _server_pids(sagebox_server.home, endpoint)
        if pids and before not in pids:
            break
        time.sleep(0.2)
    again = no_retries.invoke_endpoint(EndpointName=endpoint, ContentType="application/json", Body=b"[[0.5]]")
    assert again["Body"].read()
    sagemaker.delete_endpoint(EndpointName=endpoint)
