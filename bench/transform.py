"""Batch transform throughput: rows per second through a transform job against in-process xgboost.

The model is XGBoost with 100 trees of depth 6; the data a CSV file of ROWS rows. The
reference reads that same file with pyarrow.csv (multithreaded) and calls
booster.inplace_predict on the rows. The transform job (SplitType Line, MultiRecord,
6 MB payloads, AssembleWith Line, one instance) is timed from CreateTransformJob to
Completed as a client sees it: the model server's start, splitting, the requests,
writing and uploading the output. Its predictions are checked against the reference's.

Each job's wall time is also split into phases, from the job's own timestamps
(TransformStartTime, TransformEndTime) and that of its model server's "ready" log line:

- create -> TransformStartTime: the API call, the record and scheduling the job;
- TransformStartTime -> model server ready: unpacking the model, starting the server
  process (interpreter, imports, loading the model, listening);
- ready -> TransformEndTime: asking its /execution-parameters, streaming the input
  through it, writing and uploading the output, stopping the server;
- TransformEndTime -> client sees it: the client's polling.
"""

from __future__ import annotations

import io
import os
import statistics
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROWS, COLUMNS, TREES = 1_000_000, 10, 100
PARAMS = {"objective": "reg:squarederror", "max_depth": 6, "eta": 0.1, "seed": 0}
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
POLL_SECONDS = 0.1
TARGET = 0.6
PHASES = (
    "create -> TransformStartTime (API, record, scheduling)",
    "TransformStartTime -> model server ready (model unpack, server start)",
    "model server ready -> TransformEndTime (streaming the input, output upload, server stop)",
    "TransformEndTime -> client sees it (polling)",
)


def _data(folder: Path) -> tuple[Path, Any]:
    import xgboost

    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, COLUMNS)).astype(np.float32)
    y = x[:, 0] * 2 + np.sin(x[:, 1] * 3) + x[:, 2] * x[:, 3] + rng.normal(scale=0.1, size=ROWS)
    booster = xgboost.train(PARAMS, xgboost.DMatrix(x[:100_000], label=y[:100_000]), num_boost_round=TREES)
    path = folder / "rows.csv"
    with path.open("w") as out:
        np.savetxt(out, x, delimiter=",", fmt="%.7g")
    return path, booster


def _reference(path: Path, booster: Any) -> tuple[float, np.ndarray]:
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
    rows = np.column_stack([column.to_numpy() for column in table.columns])
    predictions = booster.inplace_predict(rows)
    return time.perf_counter() - started, predictions


def _model_archive(booster: Any) -> bytes:
    raw = bytes(booster.save_raw("ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def _job(sagemaker: Any, name: str, home: Path) -> tuple[float, list[float]]:
    started = time.time()
    sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName="bench-transform",
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=6,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/in/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://bench/out/{name}", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )
    while True:
        job = sagemaker.describe_transform_job(TransformJobName=name)
        if job["TransformJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(POLL_SECONDS)
    seen = time.time()
    if job["TransformJobStatus"] != "Completed":
        raise RuntimeError(f"benchmark job {name} ended {job['TransformJobStatus']}: {job.get('FailureReason')}")
    return seen - started, _phases(job, home / "jobs" / "transform" / name / "logs", started, seen)


def _phases(job: dict[str, Any], log_dir: Path, created: float, seen: float) -> list[float]:
    from sagebox.runtime.logs import read_events

    events = read_events(log_dir / "instance-1-container-1.jsonl")
    ready = next(float(e["timestamp"]) / 1000 for e in events if "model server ready" in str(e["message"]))
    marks = [created, job["TransformStartTime"].timestamp(), ready, job["TransformEndTime"].timestamp(), seen]
    return [max(0.0, later - earlier) for earlier, later in zip(marks, marks[1:], strict=False)]


def _server_start(folder: Path, booster: Any) -> float:
    """How long one model server takes from spawn to answering /ping (part of every job)."""
    from sagebox.runtime import open_executor
    from sagebox.runtime.model_server import ModelServerProcess

    (folder / "model").mkdir(parents=True, exist_ok=True)
    booster.save_model(str(folder / "model" / "xgboost-model.ubj"))
    server = ModelServerProcess("sagebox.serving.handlers.xgboost", executor=open_executor(), base_dir=folder, log_file=folder / "server.jsonl")
    started = time.perf_counter()
    server.start()
    server.wait_ready()
    elapsed = time.perf_counter() - started
    server.stop()
    return elapsed


def run(repeats: int = 5) -> dict[str, Any]:
    import boto3

    from sagebox.cli.server_process import ServerProcess

    with tempfile.TemporaryDirectory(prefix="sagebox-bench-") as scratch:
        folder = Path(scratch)
        path, booster = _data(folder)
        size_mb = path.stat().st_size / 1e6
        home = folder / "home"
        server = ServerProcess(home).start()
        try:
            os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            s3.create_bucket(Bucket="bench")
            s3.upload_file(str(path), "bench", "in/rows.csv")
            s3.put_object(Bucket="bench", Key="model/model.tar.gz", Body=_model_archive(booster))
            sagemaker.create_model(
                ModelName="bench-transform",
                ExecutionRoleArn="arn:aws:iam::123456789012:role/Bench",
                PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://bench/model/model.tar.gz"},
            )
            references, jobs = [], []
            expected = None
            for attempt in range(repeats):
                seconds, expected = _reference(path, booster)
                references.append(seconds)
                name = f"bench-transform-{attempt}-{int(time.time())}"
                jobs.append(_job(sagemaker, name, home))
            body = s3.get_object(Bucket="bench", Key=f"out/{name}/rows.csv.out")["Body"].read()
            got = np.array(body.split(), dtype=np.float64).astype(np.float32)
            if expected is None or not np.array_equal(got, expected):
                raise RuntimeError("the transform job's predictions differ from booster.inplace_predict")
        finally:
            server.stop()
        start = _server_start(folder / "server", booster)
    walls = [seconds for seconds, _ in jobs]
    wall = statistics.median(walls)
    reference = statistics.median(references)
    sagebox_rate = ROWS / wall
    reference_rate = ROWS / reference
    ratio = sagebox_rate / reference_rate
    phases = [statistics.median(phases[i] for _, phases in jobs) for i in range(len(PHASES))]
    rows = [
        {
            "measure": "rows per second, CreateTransformJob to Completed (median)",
            "sagebox": f"{sagebox_rate:,.0f} ({wall:.2f} s; runs {min(walls):.2f}-{max(walls):.2f} s)",
            "reference": f"{reference_rate:,.0f} (pyarrow.csv read + booster.inplace_predict; {reference:.2f} s; "
                         f"runs {min(references):.2f}-{max(references):.2f} s)",
            "ratio": f"{ratio:.2f}x",
            "target": f">= {TARGET}x",
            "met": "yes" if ratio >= TARGET else "no",
        },
    ]
    rows += [{"measure": f"phase: {label} (s, median)", "sagebox": f"{seconds:.3f}",
              "ratio": f"{seconds / wall:.0%} of the wall time"} for label, seconds in zip(PHASES, phases, strict=True)]
    return {
        "name": "batch_transform",
        "rows": rows,
        "notes": f"{ROWS} rows x {COLUMNS} features ({size_mb:.0f} MB CSV), {TREES} trees of depth "
                 f"{PARAMS['max_depth']}, {repeats} runs each; SplitType Line, MultiRecord, MaxPayloadInMB 6, "
                 "AssembleWith Line, one instance with the container's MaxConcurrentTransforms. The job's time "
                 f"includes starting its model server ({start:.2f} s on its own), splitting the file, the "
                 "requests, writing and uploading the output, and the client polling every 100 ms. "
                 "Predictions checked equal to the reference's. Phases come from the job's own timestamps "
                 "and its model server's ready line.",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
