"""The whole life of a built-in algorithm through boto3: train, deploy, invoke, transform.

Used by the end-to-end tests of SageMaker's own algorithms (Linear Learner, K-Means,
PCA, k-NN, Factorization Machines, Random Cut Forest). Every step is a real request
to the live server of the ``sagebox_server`` fixture.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from sagebox.formats import recordio
from tests.services.training.jobs import ROLE, unique, wait_for

REGISTRY = "382416733822.dkr.ecr.us-east-1.amazonaws.com"
TERMINAL = ("Completed", "Failed", "Stopped")
RECORDIO = "application/x-recordio-protobuf"


def image(repository: str) -> str:
    """A built-in algorithm's image URI, as ``image_uris.retrieve`` gives it."""
    return f"{REGISTRY}/{repository}:1"


def csv_rows(features: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    """CSV rows, the label first when given."""
    table = features if labels is None else np.column_stack([labels, features])
    buffer = io.StringIO()
    np.savetxt(buffer, np.atleast_2d(table), delimiter=",", fmt="%.9g")
    return buffer.getvalue().encode()


def recordio_rows(features: np.ndarray | sp.spmatrix, labels: np.ndarray | None = None) -> bytes:
    """RecordIO-protobuf rows as the SageMaker SDK writes them (float32, dense or sparse)."""
    if sp.issparse(features):
        return recordio.write_sparse(sp.csr_matrix(features, dtype=np.float32), labels)
    labels32 = None if labels is None else np.asarray(labels, dtype=np.float32)
    return recordio.write_dense(np.asarray(features, dtype=np.float32), labels32)


def put(s3: Any, bucket: str, key: str, body: bytes) -> str:
    """Upload ``body``; returns the object's ``s3://`` URI."""
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def read(s3: Any, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def make_bucket(s3: Any, prefix: str) -> str:
    bucket = unique(prefix)
    s3.create_bucket(Bucket=bucket)
    return bucket


@dataclass(frozen=True)
class Trained:
    """A completed training job."""

    job_name: str
    described: dict[str, Any]

    @property
    def model_data(self) -> str:
        return self.described["ModelArtifacts"]["S3ModelArtifacts"]

    def metrics(self) -> dict[str, float]:
        return {m["MetricName"]: m["Value"] for m in self.described.get("FinalMetricDataList", [])}


def training_request(
    name: str,
    repository: str,
    bucket: str,
    hyperparameters: dict[str, str],
    channels: dict[str, tuple[str, str]],
    **overrides: Any,
) -> dict[str, Any]:
    """A CreateTrainingJob request; ``channels`` maps a channel name to (S3 URI, ContentType)."""
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image(repository), "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": hyperparameters,
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": content_type,
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
            }
            for channel, (uri, content_type) in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def train(
    sagemaker: Any,
    repository: str,
    bucket: str,
    hyperparameters: dict[str, str],
    channels: dict[str, tuple[str, str]],
    *,
    expect: str = "Completed",
    timeout: float = 240,
    **overrides: Any,
) -> Trained:
    """Run a training job to its end and check it ends ``expect``."""
    name = unique(repository[:20])
    sagemaker.create_training_job(
        **training_request(name, repository, bucket, hyperparameters, channels, **overrides)
    )
    described = wait_for(sagemaker, name, timeout=timeout)
    assert described["TrainingJobStatus"] == expect, described.get("FailureReason")
    return Trained(name, described)


def model_files(s3: Any, trained: Trained) -> dict[str, bytes]:
    """The files of a job's ``model.tar.gz`` by name."""
    with tarfile.open(fileobj=io.BytesIO(read(s3, trained.model_data))) as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def create_model(sagemaker: Any, repository: str, trained: Trained, **environment: str) -> str:
    name = unique("model")
    container: dict[str, Any] = {"Image": image(repository), "ModelDataUrl": trained.model_data}
    if environment:
        container["Environment"] = environment
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    return name


def deploy(sagemaker: Any, model_name: str) -> str:
    """An InService endpoint for the model; delete it with ``delete_endpoint``."""
    config = unique("config")
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    endpoint = unique("endpoint")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 90}
    )
    return endpoint


def delete_endpoint(sagemaker: Any, endpoint: str) -> None:
    config = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    sagemaker.delete_endpoint(EndpointName=endpoint)
    sagemaker.delete_endpoint_config(EndpointConfigName=config)


def invoke(
    runtime: Any, endpoint: str, body: bytes, content_type: str, accept: str = "application/json"
) -> tuple[bytes, str]:
    """(body, Content-Type) of an InvokeEndpoint answer."""
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, Body=body, ContentType=content_type, Accept=accept
    )
    return answer["Body"].read(), answer["ContentType"]


def json_predictions(body: bytes) -> list[dict[str, Any]]:
    return json.loads(body)["predictions"]


def jsonlines_predictions(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def recordio_predictions(body: bytes) -> list[dict[str, np.ndarray]]:
    """Each answer record's ``label`` map as arrays."""
    return [
        {key: tensor.values for key, tensor in record.label.items()}
        for record in recordio.read_records(body)
    ]


def transform(
    sagemaker: Any,
    s3: Any,
    model_name: str,
    bucket: str,
    body: bytes,
    *,
    content_type: str = "text/csv",
    split_type: str = "Line",
    accept: str = "application/jsonlines",
    timeout: float = 120,
    **overrides: Any,
) -> bytes:
    """Run a batch transform over one input file; returns the output file's bytes."""
    name = unique("transform")
    input_uri = put(s3, bucket, f"{name}/input/data", body)
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": model_name,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": content_type,
            "SplitType": split_type,
        },
        "TransformOutput": {
            "S3OutputPath": f"s3://{bucket}/{name}/output",
            "Accept": accept,
            "AssembleWith": "Line",
        },
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "BatchStrategy": "MultiRecord",
    }
    request.update(overrides)
    sagemaker.create_transform_job(**request)
    deadline = time.time() + timeout
    while True:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in TERMINAL:
            break
        assert time.time() < deadline, f"transform {name} still {described['TransformJobStatus']}"
        time.sleep(0.2)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    return read(s3, f"s3://{bucket}/{name}/output/data.out")
