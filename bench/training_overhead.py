"""Overhead of a training job: CreateTrainingJob-to-Completed against xgboost.train in-process.

Same data, same parameters: the reference is the same `xgboost.train` call (the
train set evaluated every round) on a DMatrix already in memory; sagebox reads the CSV from its object store, starts the
algorithm process, trains, packs and uploads model.tar.gz. Start latency is the time
from the CreateTrainingJob call to the training process running (the Training
transition's StartTime, stamped when the process is spawned).
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROWS, COLUMNS = 200_000, 20
PARAMS = {"objective": "reg:squarederror", "max_depth": 8, "eta": 0.1, "seed": 0}
ROUNDS = 170
POLL_SECONDS = 0.25
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _data() -> tuple[np.ndarray, np.ndarray, bytes]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, COLUMNS)).astype(np.float32)
    y = (x[:, 0] * 2 + np.sin(x[:, 1] * 3) + x[:, 2] * x[:, 3] + rng.normal(scale=0.1, size=ROWS)).astype(np.float32)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, x]), delimiter=",", fmt="%.7g")
    return x, y, buffer.getvalue().encode()


def _reference(x: np.ndarray, y: np.ndarray) -> float:
    import xgboost

    started = time.perf_counter()
    train = xgboost.DMatrix(x, label=y)
    # The same call the job makes: the train set evaluated every round, as SageMaker's
    # XGBoost does; only the printing of each round is left out.
    xgboost.train(PARAMS, train, num_boost_round=ROUNDS, evals=[(train, "train")], verbose_eval=False)
    return time.perf_counter() - started


def _job(sagemaker: Any, name: str) -> tuple[float, float]:
    started = time.time()
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/Bench",
        HyperParameters={"objective": PARAMS["objective"], "max_depth": str(PARAMS["max_depth"]),
                         "eta": str(PARAMS["eta"]), "seed": "0", "num_round": str(ROUNDS)},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv",
                          "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/train/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://bench/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    while True:
        job = sagemaker.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(POLL_SECONDS)
    ended = time.time()
    if job["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"benchmark job {name} ended {job['TrainingJobStatus']}: {job.get('FailureReason')}")
    training = next(t for t in job["SecondaryStatusTransitions"] if t["Status"] == "Training")
    return ended - started, training["StartTime"].timestamp() - started


def run(repeats: int = 5) -> dict[str, Any]:
    import boto3

    from sagebox.cli.server_process import ServerProcess

    x, y, csv = _data()
    references: list[float] = []
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-") as home:
        server = ServerProcess(Path(home)).start()
        try:
            os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            s3.create_bucket(Bucket="bench")
            s3.put_object(Bucket="bench", Key="train/data.csv", Body=csv)
            runs = []
            for i in range(repeats):  # interleaved, so both see the same machine
                references.append(_reference(x, y))
                runs.append(_job(sagemaker, f"bench-overhead-{i}-{int(time.time())}"))
        finally:
            server.stop()
    wall = statistics.median(r[0] for r in runs)
    start = statistics.median(r[1] for r in runs)
    reference = statistics.median(references)
    ratio = wall / reference
    return {
        "name": "training_job_overhead",
        "rows": [
            {"measure": "job wall time, create to Completed (s, median)", "sagebox": f"{wall:.2f}",
             "reference": f"{reference:.2f} (xgboost.train in-process)", "ratio": f"{ratio:.2f}x",
             "target": "<= 1.3x", "met": "yes" if ratio <= 1.3 else "no"},
            {"measure": "start latency, create to process running (s, median)", "sagebox": f"{start:.3f}",
             "target": "< 1 s", "met": "yes" if start < 1 else "no"},
        ],
        "notes": f"{ROWS} rows x {COLUMNS} features ({len(csv) / 1e6:.0f} MB CSV), {ROUNDS} rounds of depth {PARAMS['max_depth']}, "
                 f"{repeats} interleaved runs each; the job includes staging the CSV, parsing it, starting the process, "
                 "packing and uploading model.tar.gz, and the client polling DescribeTrainingJob every 250 ms.",
    }


if __name__ == "__main__":
    print(run())
