"""Training jobs with AlgorithmSpecification.ContainerEntrypoint, through boto3.

The job's code comes in as an input channel and its command names /opt/ml paths, as a
container's would; sagebox runs it in the job folder standing for /opt/ml.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import boto3
import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import ROLE, csv_bytes, unique, wait_for

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
CUSTOM_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:latest"

TRAIN_SCRIPT = """
import argparse
import json
import os
import sys

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

parser = argparse.ArgumentParser()
parser.add_argument("--data", default="/opt/ml/input/data/train")
parser.add_argument("--model-dir", default="/opt/ml/model")
args = parser.parse_args()

with open("/opt/ml/input/config/hyperparameters.json") as handle:
    hyperparameters = json.load(handle)
rows = [np.loadtxt(os.path.join(args.data, name), delimiter=",", ndmin=2) for name in sorted(os.listdir(args.data))]
data = np.vstack(rows)
model = LinearRegression().fit(data[:, 1:], data[:, 0])
print(f"train-r2: {model.score(data[:, 1:], data[:, 0]):.4f}")
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
seen = {"argv": sys.argv, "cwd": os.getcwd(), "hyperparameters": hyperparameters,
        "executable": sys.executable, "job": os.environ.get("TRAINING_JOB_NAME")}
with open("/opt/ml/output/data/seen.json", "w") as handle:
    json.dump(seen, handle)
"""

RUN_SCRIPT = """#!/bin/bash
set -e
cp /opt/ml/input/config/hyperparameters.json /opt/ml/model/hyperparameters.json
ls /opt/ml/input/data/train > /opt/ml/model/train-files.txt
python3 /opt/ml/input/data/code/train.py --model-dir /opt/ml/model
"""

FAILING_SCRIPT = """
import sys

with open("/opt/ml/output/failure", "w") as handle:
    handle.write("the training data has no label column")
sys.exit(3)
"""


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("entrypoint")
    s3.create_bucket(Bucket=name)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = x @ np.array([2.0, -1.0, 0.5]) + 4.0
    s3.put_object(Bucket=name, Key="data/train/part-0.csv", Body=csv_bytes(x, y))
    return name


def _channel(name: str, uri: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
    }


def _request(
    s3: Any, bucket: str, files: dict[str, str], spec: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    """A job whose code is its 'code' channel (a prefix without a trailing slash, as SDK v3 sends)."""
    name = unique("entrypoint")
    for file_name, text in files.items():
        s3.put_object(Bucket=bucket, Key=f"{name}/input/code/{file_name}", Body=text.encode())
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            **spec,
        },
        "RoleArn": ROLE,
        "HyperParameters": {"alpha": "0.5"},
        "InputDataConfig": [
            _channel("train", f"s3://{bucket}/data/train"),
            _channel("code", f"s3://{bucket}/{name}/input/code"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    request.update(overrides)
    return request


def _run(sagemaker: Any, request: dict[str, Any]) -> dict[str, Any]:
    sagemaker.create_training_job(**request)
    return wait_for(sagemaker, request["TrainingJobName"], timeout=120)


def _members(s3: Any, uri: str) -> dict[str, bytes]:
    bucket, key = uri[len("s3://") :].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {
            m.name.lstrip("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()
        }


def _log_lines(job: str) -> list[str]:
    logs = boto3.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    stream = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job)["logStreams"][0]
    events = logs.get_log_events(
        logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
    )
    return [event["message"] for event in events["events"]]


def test_python_entrypoint_reads_and_writes_opt_ml_paths(
    s3: Any, sagemaker: Any, bucket: str
) -> None:
    spec = {"ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/train.py"]}
    described = _run(sagemaker, _request(s3, bucket, {"train.py": TRAIN_SCRIPT}, spec))
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AlgorithmSpecification"]["ContainerEntrypoint"] == spec["ContainerEntrypoint"]
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    model = joblib.load(io.BytesIO(_members(s3, artifacts)["model.joblib"]))
    np.testing.assert_allclose(model.coef_, [2.0, -1.0, 0.5], atol=1e-6)
    output = _members(s3, artifacts.replace("model.tar.gz", "output.tar.gz"))
    seen = json.loads(output["seen.json"])
    assert seen["hyperparameters"] == {"alpha": "0.5"}
    assert seen["job"] == described["TrainingJobName"]
    assert seen["argv"][0].endswith("/input/data/code/train.py") and not seen["argv"][0].startswith(
        "/opt/ml"
    )
    # python3 is the job's own environment (seeing the server's packages): its installs stay there
    assert seen["executable"].endswith(
        f"/{described['TrainingJobName']}/.sagebox-python/bin/python"
    )


def test_shell_entrypoint_runs_a_channel_script_naming_opt_ml(
    s3: Any, sagemaker: Any, bucket: str
) -> None:
    files = {"run.sh": RUN_SCRIPT, "train.py": TRAIN_SCRIPT}
    spec = {
        "ContainerEntrypoint": ["/bin/bash"],
        "ContainerArguments": [
            "-c",
            "chmod +x /opt/ml/input/data/code/run.sh && /opt/ml/input/data/code/run.sh",
        ],
    }
    described = _run(sagemaker, _request(s3, bucket, files, spec))
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    members = _members(s3, described["ModelArtifacts"]["S3ModelArtifacts"])
    assert json.loads(members["hyperparameters.json"]) == {"alpha": "0.5"}
    assert members["train-files.txt"].decode().split() == ["part-0.csv"]
    assert "model.joblib" in members
    log = _log_lines(described["TrainingJobName"])
    assert any(line.startswith("train-r2: 1.0000") for line in log)


def test_a_failing_entrypoint_reports_its_failure_file(
    s3: Any, sagemaker: Any, bucket: str
) -> None:
    spec = {"ContainerEntrypoint": ["python", "/opt/ml/input/data/code/fail.py"]}
    described = _run(sagemaker, _request(s3, bucket, {"fail.py": FAILING_SCRIPT}, spec))
    assert described["TrainingJobStatus"] == "Failed"
    assert "the training data has no label column" in described["FailureReason"]


def test_a_missing_program_fails_the_job_naming_it(s3: Any, sagemaker: Any, bucket: str) -> None:
    spec = {"ContainerEntrypoint": ["/opt/ml/input/data/code/absent.sh"]}
    described = _run(sagemaker, _request(s3, bucket, {"train.py": TRAIN_SCRIPT}, spec))
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        "ClientError: the ContainerEntrypoint program '/opt/ml/input/data/code/absent.sh' does not exist"
    )


@pytest.mark.parametrize(
    ("spec", "resources", "message"),
    [
        (
            {"TrainingImage": LINEAR_LEARNER_IMAGE, "ContainerEntrypoint": ["python3", "train.py"]},
            {},
            "AlgorithmSpecification.ContainerEntrypoint: TrainingImage "
            f"'{LINEAR_LEARNER_IMAGE}' is the built-in linear-learner algorithm",
        ),
        (
            {"TrainingImage": CUSTOM_IMAGE, "ContainerEntrypoint": ["python3", "train.py"]},
            {},
            f"AlgorithmSpecification.ContainerEntrypoint: TrainingImage '{CUSTOM_IMAGE}' is not a framework image",
        ),
        (
            {"ContainerArguments": ["--epochs", "3"]},
            {},
            "AlgorithmSpecification.ContainerArguments: sagebox runs ContainerArguments only with a "
            "ContainerEntrypoint",
        ),
        (
            {"ContainerEntrypoint": [""]},
            {},
            "AlgorithmSpecification.ContainerEntrypoint: the first element (the program) is empty.",
        ),
    ],
)
def test_entrypoint_validation(
    s3: Any,
    sagemaker: Any,
    bucket: str,
    spec: dict[str, Any],
    resources: dict[str, Any],
    message: str,
) -> None:
    request = _request(s3, bucket, {"train.py": TRAIN_SCRIPT}, spec)
    request["ResourceConfig"].update(resources)
    with pytest.raises(ClientError) as raised:
        sagemaker.create_training_job(**request)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(message), error["Message"]
    assert "framework images" in error["Message"] or "ContainerEntrypoint" in error["Message"]


HOST_REPORT = (
    'echo "$SM_CURRENT_HOST $RANK $WORLD_SIZE $MASTER_ADDR $(ls /opt/ml/input/data/train)" '
    '> "/opt/ml/model/$SM_CURRENT_HOST.txt"'
)


def test_an_entrypoint_runs_once_per_host(s3: Any, sagemaker: Any, bucket: str) -> None:
    request = _request(s3, bucket, {"README": "no code needed"}, {"ContainerEntrypoint": ["bash", "-c", HOST_REPORT]})
    request["ResourceConfig"]["InstanceCount"] = 2
    job = _run(sagemaker, request)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    members = _members(s3, job["ModelArtifacts"]["S3ModelArtifacts"])
    reports = {name: members[name].decode().split() for name in ("algo-1.txt", "algo-2.txt")}
    assert reports["algo-1.txt"][:4] == ["algo-1", "0", "2", "127.0.0.1"]
    assert reports["algo-2.txt"][:4] == ["algo-2", "1", "2", "127.0.0.1"]
    assert reports["algo-1.txt"][4:] == reports["algo-2.txt"][4:] != []  # FullyReplicated: the same files


def test_a_failing_host_of_an_entrypoint_job_is_named(s3: Any, sagemaker: Any, bucket: str) -> None:
    command = 'if [ "$RANK" = 1 ]; then echo "no data for me" >&2; exit 3; fi; sleep 120'
    request = _request(s3, bucket, {"README": "no code needed"}, {"ContainerEntrypoint": ["bash", "-c", command]})
    request["ResourceConfig"]["InstanceCount"] = 2
    job = _run(sagemaker, request)
    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: Host algo-2: the training process exited with code 3.")
    assert "no data for me" in reason
