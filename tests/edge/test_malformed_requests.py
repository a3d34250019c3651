"""Malformed requests never get a 5xx: a property of the edge, checked with Hypothesis.

Every implemented SageMaker and CloudWatch Logs operation gets requests drawn from
botocore's model that break one constraint (and now and then a valid one that cannot
start real work); S3 gets odd keys, bucket names, Range headers and multipart
sequences; InvokeEndpoint gets broken header members, endpoint names, content types
and payloads. All go as raw HTTP to one live server, with a small XGBoost endpoint
deployed. Examples are drawn deterministically (derandomize), so a run is reproducible.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import boto3
import httpx
import numpy as np
import pytest
import xgboost
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagebox.cli.server_process import ServerProcess
from sagebox.edge import logs, sagemaker
from sagebox.service_models import operation_model
from tests.edge.malformed_json import Malformed, malformed_request
from tests.edge.malformed_runtime import Invocation, invocation
from tests.edge.malformed_s3 import (
    BUCKET_NAMES,
    MAX_KEY_BYTES,
    RANGES,
    PartStep,
    key_bytes,
    object_key,
    part_step,
)
from tests.edge.wire import (
    SIGV4,
    check_json_answer,
    check_json_error_shape,
    check_s3_answer,
    json_target,
)

JSON_EXAMPLES = 30
HTTP_EXAMPLES = 40

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "sagebox-malformed-fixture"
MODEL = "sagebox-malformed-fixture-model"
ENDPOINT = "sagebox-malformed-fixture-endpoint"
S3_AUTH = {"Authorization": SIGV4.format(service="s3")}


def drawn(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


JSON_OPERATIONS = [("sagemaker", "SageMaker", name) for name in sorted(sagemaker.OPERATIONS)] + [
    ("logs", logs.TARGET_PREFIX.rstrip("."), name) for name in sorted(logs.OPERATIONS)
]


@dataclass(frozen=True)
class Deployed:
    """The live server with a bucket, a model and an InService endpoint."""

    server: ServerProcess
    client: httpx.Client

    @property
    def objects(self) -> Path:
        return self.server.home / "objects"


def _model_archive() -> bytes:
    rows = np.random.default_rng(7).normal(size=(40, 3))
    booster = xgboost.train({"objective": "reg:squarederror"}, xgboost.DMatrix(rows, label=rows.sum(axis=1)), 3)
    model = bytes(booster.save_raw("ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(model)
        tar.addfile(info, io.BytesIO(model))
    return buffer.getvalue()


def _deploy(endpoint_url: str) -> None:
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=endpoint_url, **credentials)
    sm = boto3.client("sagemaker", endpoint_url=endpoint_url, **credentials)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=_model_archive())
    sm.create_model(
        ModelName=MODEL, ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model/model.tar.gz"},
    )
    sm.create_endpoint_config(EndpointConfigName=ENDPOINT, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": MODEL, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"},
    ])
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=ENDPOINT)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=ENDPOINT, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    process = ServerProcess(Path(tmp_path_factory.mktemp("malformed-home"))).start()
    try:
        _deploy(process.endpoint_url)
        with httpx.Client(base_url=process.endpoint_url, timeout=60) as client:
            yield Deployed(process, client)
    finally:
        process.stop()


# -- SageMaker and CloudWatch Logs (JSON 1.1) ----------------------------------------------


@cache
def _requests_for(service: str, operation: str) -> st.SearchStrategy[Malformed]:
    model = operation_model(service, operation)
    if model is None or model.input_shape is None:
        raise LookupError(f"{service} has no operation {operation}")
    # Creating an endpoint configuration checks its models first; one that exists lets
    # the drawn configurations get to the checks after it.
    existing = {"ModelName": MODEL} if operation == "CreateEndpointConfig" else None
    return malformed_request(model.input_shape, existing)


@pytest.mark.parametrize(("service", "prefix", "operation"), JSON_OPERATIONS)
@drawn(JSON_EXAMPLES)
@given(data=st.data())
def test_malformed_json_requests_get_aws_errors(
    deployed: Deployed, service: str, prefix: str, operation: str, data: st.DataObject
) -> None:
    request = data.draw(_requests_for(service, operation), label="request")
    response = json_target(deployed.client, f"{prefix}.{operation}", request.body)
    check_json_answer(response, request)


# -- InvokeEndpoint ----------------------------------------------------------------------


def _invoke(client: httpx.Client, request: Invocation) -> httpx.Response:
    headers = {name: value.encode("utf-8") for name, value in request.headers.items()}
    path = f"/endpoints/{quote(request.endpoint, safe='')}/invocations"
    return client.post(path, content=request.body, headers={**headers, "Authorization": SIGV4.format(service="sagemaker")})


@drawn(HTTP_EXAMPLES)
@given(request=invocation(ENDPOINT))
def test_malformed_invocations_get_aws_errors(deployed: Deployed, request: Invocation) -> None:
    response = _invoke(deployed.client, request)
    assert response.status_code < 500, (response.status_code, response.text[:500], request.headers)
    if request.must_fail:
        assert response.status_code >= 400, (response.status_code, request)
    if response.status_code < 400:
        return
    document = check_json_error_shape(response)
    if request.code is not None:
        assert document["__type"] == request.code, (document, request.headers)
    if request.names is not None:
        assert request.names in str(document["message"]), (document, request.headers)


# -- S3 ----------------------------------------------------------------------------------


def _object_url(bucket: str, key: str) -> str:
    return f"/{quote(bucket, safe='')}/{quote(key, safe='')}"


def _empty_folders(root: Path) -> list[str]:
    return [folder for folder, subfolders, files in os.walk(root) if not subfolders and not files and Path(folder) != root]


@drawn(HTTP_EXAMPLES)
@given(key=object_key())
def test_odd_object_keys_are_stored_or_refused_cleanly(deployed: Deployed, key: str) -> None:
    client = deployed.client
    url = _object_url(BUCKET, key)
    put = client.put(url, content=b"payload", headers=S3_AUTH)
    check_s3_answer(put, "PUT")
    if key_bytes(key) > MAX_KEY_BYTES:
        assert put.status_code == 400 and b"KeyTooLongError" in put.content, put.text[:300]
    if put.status_code == 200:
        got = client.get(url, headers=S3_AUTH)
        assert got.status_code == 200 and got.content == b"payload", got.text[:300]
        check_s3_answer(client.delete(url, headers=S3_AUTH), "DELETE")
    else:
        check_s3_answer(client.get(url, headers=S3_AUTH), "GET")
    assert _empty_folders(deployed.objects / BUCKET) == []


@drawn(HTTP_EXAMPLES)
@given(
    bucket=st.sampled_from(BUCKET_NAMES),
    method=st.sampled_from(["PUT", "HEAD", "GET", "DELETE"]),
    key=st.sampled_from(["", "k", "../k"]),
)
def test_bad_bucket_names_get_s3_errors(deployed: Deployed, bucket: str, method: str, key: str) -> None:
    path = f"/{quote(bucket, safe='')}" + (f"/{quote(key, safe='')}" if key else "")
    response = deployed.client.request(method, path, headers=S3_AUTH)
    check_s3_answer(response, method)
    if method == "PUT" and not key and response.status_code == 200:
        deployed.client.delete(path, headers=S3_AUTH)


@drawn(HTTP_EXAMPLES)
@given(byte_range=st.sampled_from(RANGES), method=st.sampled_from(["GET", "HEAD"]))
def test_bad_range_headers_get_s3_answers(deployed: Deployed, byte_range: str, method: str) -> None:
    url = _object_url(BUCKET, "ranged")
    deployed.client.put(url, content=b"0123456789", headers=S3_AUTH).raise_for_status()
    response = deployed.client.request(method, url, headers={**S3_AUTH, "Range": byte_range})
    check_s3_answer(response, method)


def _complete_body(step: PartStep, etags: dict[str, str]) -> bytes:
    if step.xml is not None:
        return step.xml.encode()
    parts = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{etags.get(number, '') if etag == 'known' else etag}</ETag></Part>"
        for number, etag in step.parts
    )
    return f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()


@drawn(HTTP_EXAMPLES)
@given(steps=st.lists(part_step(), min_size=1, max_size=6))
def test_malformed_multipart_sequences_get_s3_answers(deployed: Deployed, steps: list[PartStep]) -> None:
    client = deployed.client
    url = _object_url(BUCKET, "multipart/object")
    created = client.post(f"{url}?uploads", headers=S3_AUTH)
    created.raise_for_status()
    upload = ElementTree.fromstring(created.content).findtext("{*}UploadId") or ""
    etags: dict[str, str] = {}
    for step in steps:
        upload_id = "sagebox-no-such-upload" if step.action.endswith("unknown") else upload
        query = f"uploadId={quote(upload_id)}"
        if step.action.startswith("upload"):
            response = client.put(
                f"{url}?partNumber={quote(step.part_number)}&{query}", content=b"p" * 16, headers=S3_AUTH
            )
            if response.status_code == 200:
                etags[step.part_number] = response.headers.get("etag", "")
        elif step.action.startswith("complete"):
            response = client.post(f"{url}?{query}", content=_complete_body(step, etags), headers=S3_AUTH)
        else:
            response = client.delete(f"{url}?{query}", headers=S3_AUTH)
        check_s3_answer(response, "POST")
    client.delete(f"{url}?uploadId={quote(upload)}", headers=S3_AUTH)

