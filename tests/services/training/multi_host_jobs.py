"""Helpers to create multi-instance script-mode training jobs through boto3 in tests."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from tests.archives import tar_gz
from tests.services.training.jobs import ROLE, unique

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _channel(name: str, uri: str, distribution: str) -> dict[str, Any]:
    source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}}


def multi_host_job(
    s3: Any,
    bucket: str,
    script: str,
    *,
    count: int = 2,
    image: str = SKLEARN_IMAGE,
    **overrides: Any,
) -> dict[str, Any]:
    """A CreateTrainingJob request for a script-mode job on `count` instances."""
    name = unique("multi")
    key = f"{name}/source/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=tar_gz({"train.py": script}))
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {
            "sagemaker_program": json.dumps("train.py"),
            "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/{key}"),
        },
        "InputDataConfig": [
            _channel("train", f"s3://{bucket}/multi/sharded/", "ShardedByS3Key"),
            _channel("full", f"s3://{bucket}/multi/full/", "FullyReplicated"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": count,
            "VolumeSizeInGB": 5,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    request.update(overrides)
    return request


def tar_members(s3: Any, bucket: str, key: str) -> dict[str, bytes]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
