"""Script mode through boto3: framework images run the user's entry point with the local Python."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import tarfile
from typing import Any

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.archives import tar_gz
from tests.services.training.jobs import ROLE, csv_bytes, unique, wait_for

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TENSORFLOW_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.16.1-cpu-py310"

TRAIN_SCRIPT = '''
import argparse
import json
import os
import sys

import joblib
import numpy as np
from sklearn.ensemble import RandomForestRegressor

from helpers.data import load_channel

parser = argparse.ArgumentParser()
parser.add_argument("--n-estimators", type=int, default=10)
parser.add_argument("--max-depth", type=int, default=None)
parser.add_argument("--criterion", type=str, default="squared_error")
parser.add_argument("--bootstrap", type=str, default="true")
parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
args = parser.parse_args()

x, y = load_channel(os.environ["SM_CHANNEL_TRAIN"])
model = RandomForestRegressor(
    n_estimators=args.n_estimators, max_depth=args.max_depth, criterion=args.criterion, random_state=0
)
model.fit(x, y)
print(f"train-r2: {model.score(x, y):.6f}")
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))

names = [k for k in os.environ if k.startswith("SM_")] + ["PYTHONPATH", "MY_FLAG"]
seen = {"argv": sys.argv[1:], "cwd": os.getcwd(), "prefix": sys.prefix, "n_estimators": args.n_estimators,
        "env": {k: os.environ.get(k) for k in names}}
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "seen.json"), "w") as handle:
    json.dump(seen, handle)
'''

HELPER_MODULE = '''
import os

import numpy as np


def load_channel(folder):
    data = np.vstack([np.loadtxt(os.path.join(folder, f), delimiter=",", ndmin=2) for f in sorted(os.listdir(folder))])
    return data[:, 1:], data[:, 0]
'''

FAILING_SCRIPT = '''
import sys

print("about to fail")
print("a warning on stderr", file=sys.stderr)
raise ValueError("the training data has no rows")
'''


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("script-mode")
    s3.create_bucket(Bucket=name)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    y = x @ np.array([1.5, -2.0, 0.5, 3.0]) + rng.normal(scale=0.1, size=120)
    s3.put_object(Bucket=name, Key="data/train/train.csv", Body=csv_bytes(x, y))
    return name


def _upload_source(s3: Any, bucket: str, job: str, files: dict[str, str]) -> str:
    key = f"{job}/source/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=tar_gz(files))
    return f"s3://{bucket}/{key}"


def _script_job(
    s3: Any, bucket: str, files: dict[str, str], *, image: str = SKLEARN_IMAGE,
    hyperparameters: dict[str, str] | None = None, **overrides: Any,
) -> dict[str, Any]:
    """A CreateTrainingJob request as the SageMaker SDK's SKLearn estimator sends it."""
    name = unique("script")
    source = _upload_source(s3, bucket, name, files)
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {
            "sagemaker_program": json.dumps("train.py"),
            "sagemaker_submit_directory": json.dumps(source),
            "sagemaker_container_log_level": "20",
            "sagemaker_region": json.dumps("us-east-1"),
            "sagemaker_job_name": json.dumps(name),
            **(hyperparameters or {}),
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/data/train/"}},
            }
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


def _tar_members(s3: Any, bucket: str, key: str) -> dict[str, bytes]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


SOURCE = {"train.py": TRAIN_SCRIPT, "helpers/__init__.py": "", "helpers/data.py": HELPER_MODULE}


def test_sklearn_script_trains_reports_metrics_and_saves_its_model(sagemaker: Any, s3: Any, bucket: str) -> None:
    request = _script_job(
        s3, bucket, SOURCE,
        hyperparameters={"n-estimators": "12", "max-depth": "4", "criterion": json.dumps("squared_error"),
                         "bootstrap": "true"},
        Environment={"MY_FLAG": "on"},
    )
    request["AlgorithmSpecification"]["MetricDefinitions"] = [{"Name": "train:r2", "Regex": r"train-r2: ([0-9.]+)"}]
    name = request["TrainingJobName"]
    job = _run(sagemaker, request)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert 0.8 < metrics["train:r2"] <= 1.0

    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{bucket}/output/{name}/output/model.tar.gz"
    model_files = _tar_members(s3, bucket, f"output/{name}/output/model.tar.gz")
    assert list(model_files) == ["model.joblib"]
    model = joblib.load(io.BytesIO(model_files["model.joblib"]))
    assert model.n_estimators == 12 and model.max_depth == 4

    seen = json.loads(_tar_members(s3, bucket, f"output/{name}/output/output.tar.gz")["seen.json"])
    # Decoded, sagemaker_* dropped, sorted, strings unquoted, JSON text for the rest.
    assert seen["argv"] == ["--bootstrap", "true", "--criterion", "squared_error", "--max-depth", "4",
                            "--n-estimators", "12"]
    env = seen["env"]
    assert seen["cwd"].endswith(f"/training/{name}/code")
    assert env["PYTHONPATH"].split(":")[0] == seen["cwd"]
    assert env["MY_FLAG"] == "on"
    assert json.loads(env["SM_HPS"]) == {"n-estimators": 12, "max-depth": 4, "criterion": "squared_error",
                                         "bootstrap": True}
    assert env["SM_HP_N-ESTIMATORS"] == "12" and env["SM_HP_CRITERION"] == "squared_error"
    assert not any(k.startswith("SM_HP_SAGEMAKER") for k in env)
    assert json.loads(env["SM_USER_ARGS"]) == seen["argv"]
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_CHANNEL_TRAIN"].endswith(f"/training/{name}/input/data/train")
    assert env["SM_MODEL_DIR"].endswith(f"/training/{name}/model")
    assert env["SM_OUTPUT_DATA_DIR"].endswith(f"/training/{name}/output/data")
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_NAME"] == "train"
    assert env["SM_MODULE_DIR"] == f"s3://{bucket}/{name}/source/sourcedir.tar.gz"
    assert env["SM_NUM_GPUS"] == "0" and int(env["SM_NUM_CPUS"]) >= 1
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"] and env["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(env["SM_FRAMEWORK_PARAMS"]) == {}
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["hyperparameters"]["n-estimators"] == 12
    assert training_env["channel_input_dirs"] == {"train": env["SM_CHANNEL_TRAIN"]}
    assert training_env["job_name"] == name and training_env["user_entry_point"] == "train.py"
    for variable in ("SM_INPUT_DIR", "SM_INPUT_CONFIG_DIR", "SM_OUTPUT_DIR", "SM_OUTPUT_INTERMEDIATE_DIR",
                     "SM_INPUT_DATA_CONFIG", "SM_RESOURCE_CONFIG", "SM_LOG_LEVEL", "SM_NETWORK_INTERFACE_NAME"):
        assert env[variable], variable


def test_a_script_that_raises_fails_the_job_with_its_error(sagemaker: Any, s3: Any, bucket: str) -> None:
    job = _run(sagemaker, _script_job(s3, bucket, {"train.py": FAILING_SCRIPT}))
    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:")
    assert "ExitCode 1" in reason
    assert 'ErrorMessage "ValueError: the training data has no rows"' in reason
    assert "train.py" in reason
    assert "ModelArtifacts" not in job or not job["ModelArtifacts"].get("S3ModelArtifacts")


def test_a_failure_file_written_by_the_script_becomes_the_reason(sagemaker: Any, s3: Any, bucket: str) -> None:
    script = (
        "import os, sys\n"
        "open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w').write('labels are missing')\n"
        "sys.exit(3)\n"
    )
    job = _run(sagemaker, _script_job(s3, bucket, {"train.py": script}))
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: labels are missing"


def test_a_missing_entry_point_fails_the_job_naming_it(sagemaker: Any, s3: Any, bucket: str) -> None:
    request = _script_job(s3, bucket, {"other.py": "print('hi')"})
    job = _run(sagemaker, request)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: the entry point 'train.py'")
    assert "other.py" in job["FailureReason"]


def test_requirements_are_installed_once_into_a_cached_environment(
    sagemaker: Any, s3: Any, bucket: str, sagebox_server: Any
) -> None:
    # A requirements file of this test's own: other tests on the shared server cache theirs.
    requirements = f"# {unique('requirements')}\nnumpy\n"
    files = {**SOURCE, "requirements.txt": requirements}
    venvs = sagebox_server.home / "venvs"
    before = {p.name for p in venvs.iterdir()} if venvs.is_dir() else set()
    prefixes = []
    for _ in range(2):
        request = _script_job(s3, bucket, files, hyperparameters={"n-estimators": "3"})
        job = _run(sagemaker, request)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        name = request["TrainingJobName"]
        seen = json.loads(_tar_members(s3, bucket, f"output/{name}/output/output.tar.gz")["seen.json"])
        prefixes.append(seen["prefix"])
        logs = [e["message"] for e in _log_events(sagebox_server, name)]
        assert any("numpy" in line and "already satisfied" in line.lower() for line in logs) == (len(prefixes) == 1)
    digest = hashlib.sha256(requirements.encode()).hexdigest()
    cached = sagebox_server.home / "venvs" / digest
    assert prefixes == [str(cached), str(cached)]
    assert {p.name for p in venvs.iterdir() if not p.name.startswith(".")} - before == {digest}


def test_a_failed_requirements_install_fails_the_job_with_pips_error(sagemaker: Any, s3: Any, bucket: str) -> None:
    files = {**SOURCE, "requirements.txt": "--no-index\nsagebox-no-such-package==1.0\n"}
    job = _run(sagemaker, _script_job(s3, bucket, files))
    assert job["TrainingJobStatus"] == "Failed"
    reason = job["FailureReason"]
    assert reason.startswith("AlgorithmError: InstallRequirementsError: pip could not install requirements.txt: ")
    assert "ERROR:" in reason and "sagebox-no-such-package" in reason


def test_a_framework_that_is_not_installed_fails_with_the_install_command(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("TensorFlow is installed in this environment, so a tensorflow-training job would run")
    job = _run(sagemaker, _script_job(s3, bucket, {"train.py": "print('never runs')"}, image=TENSORFLOW_IMAGE))
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == (
        "ClientError: the tensorflow-training image runs scripts with TensorFlow, which is not installed in this "
        "sagebox environment; install it with: pip install tensorflow"
    )


def test_a_framework_image_without_an_entry_point_is_refused(sagemaker: Any, s3: Any, bucket: str) -> None:
    request = _script_job(s3, bucket, SOURCE)
    del request["HyperParameters"]["sagemaker_program"]
    with pytest.raises(ClientError) as info:
        sagemaker.create_training_job(**request)
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "sagemaker_program" in error["Message"] and "sagemaker-scikit-learn" in error["Message"]


def _log_events(server: Any, job: str) -> list[dict[str, Any]]:
    path = server.home / "jobs" / "training" / job / "logs" / "algo-1.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_an_entry_point_in_a_built_in_algorithm_image_is_refused(sagemaker: Any, s3: Any, bucket: str) -> None:
    request = _script_job(s3, bucket, SOURCE, image="382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1")
    with pytest.raises(ClientError) as info:
        sagemaker.create_training_job(**request)
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "runs only in framework images" in error["Message"] and "kmeans:1" in error["Message"]


def test_a_training_script_reaches_the_api_as_a_job_role_reaches_aws(
    sagemaker: Any, s3: Any, bucket: str
) -> None:
    script = (
        "import boto3, json, os\n"
        "job = boto3.client('sagemaker').describe_training_job(TrainingJobName=os.environ['TRAINING_JOB_NAME'])\n"
        "seen = {'url': os.environ['AWS_ENDPOINT_URL'], 'status': job['TrainingJobStatus']}\n"
        "json.dump(seen, open(os.path.join(os.environ['SM_OUTPUT_DATA_DIR'], 'seen.json'), 'w'))\n"
    )
    request = _script_job(s3, bucket, {"train.py": script})
    job = _run(sagemaker, request)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    name = request["TrainingJobName"]
    seen = json.loads(_tar_members(s3, bucket, f"output/{name}/output/output.tar.gz")["seen.json"])
    assert seen["url"].startswith("http://127.0.0.1:") and seen["status"] == "InProgress"
    assert "AWS_ENDPOINT_URL" not in job.get("Environment", {})  # not written into the job's description
