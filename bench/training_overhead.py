"""Overhead of a training job: CreateTrainingJob-to-Completed against xgboost.train in-process.

Same data, same parameters. The reference is what a user would write to train on the
CSV file in one process: ``pyarrow.csv.read_csv`` of the same file from disk (the
fastest of pyarrow, pandas and xgboost's own reader here), an ``xgboost.DMatrix`` of its
columns, and the same ``xgboost.train`` call the job makes (the train set evaluated
every round). The job: the CSV staged from sagebox's object store into the job folder,
the algorithm process started, the CSV parsed, trained, model.tar.gz packed and
uploaded, and the client polling DescribeTrainingJob. The two are interleaved, and
the last job's model is checked equal to the reference's.

Each job's wall time is also split into phases, from its SecondaryStatusTransitions
(stamped by the server) and the timestamps of its log lines (stamped when the server
reads each line from the process):

- create -> Downloading: the API call, the record and scheduling the job;
- Downloading -> Training: staging the channel into the job folder, starting the process;
- Training -> first log line: the interpreter and the algorithm's imports;
- first log line -> "Train matrix": reading the CSV and building the DMatrix;
- "Train matrix" -> last round: training;
- last round -> Uploading: saving the model, the process exiting, the runner noticing;
- Uploading -> Completed: packing and uploading model.tar.gz;
- Completed -> client sees it: the client's polling.
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

ROWS, COLUMNS = 200_000, 20
PARAMS = {"objective": "reg:squarederror", "max_depth": 6, "eta": 0.1, "seed": 0}
ROUNDS = 150
POLL_SECONDS = 0.25
TARGET = 1.2
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
PHASES = (
    "create -> Downloading (API, record, scheduling)",
    "Downloading -> Training (staging the channel, spawning the process)",
    "process start -> first log line (interpreter and imports)",
    "first log line -> train matrix (CSV read, DMatrix)",
    "train matrix -> last round (training)",
    "last round -> Uploading (model save, exit, runner noticing)",
    "Uploading -> Completed (pack and upload model.tar.gz)",
    "Completed -> client sees it (polling)",
)


def _write_data(path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, COLUMNS)).astype(np.float32)
    y = (x[:, 0] * 2 + np.sin(x[:, 1] * 3) + x[:, 2] * x[:, 3] + rng.normal(scale=0.1, size=ROWS)).astype(np.float32)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, x]), delimiter=",", fmt="%.7g")
    path.write_text(buffer.getvalue())


def _reference(path: Path) -> tuple[float, Any, float]:
    """Read the CSV from disk, build the DMatrix, train: what a user would write.

    Returns the seconds in all, the booster and the seconds of reading and the DMatrix.
    """
    import pyarrow.csv as pacsv
    import xgboost

    started = time.perf_counter()
    table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True))
    train = xgboost.DMatrix(table.drop_columns(["f0"]), label=table.column("f0").to_numpy())
    loaded = time.perf_counter()
    # The same call the job makes: the train set evaluated every round, as SageMaker's
    # XGBoost does; only the printing of each round is left out.
    booster = xgboost.train(PARAMS, train, num_boost_round=ROUNDS, evals=[(train, "train")], verbose_eval=False)
    elapsed = time.perf_counter() - started
    booster.feature_names = None  # the table's column names; the job's CSV has none
    booster.feature_types = None
    return elapsed, booster, loaded - started


def _job(sagemaker: Any, name: str, home: Path) -> tuple[float, float, list[float]]:
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
    phases = _phases(job, home / "jobs" / "training" / name / "logs" / "algo-1.jsonl", started, ended)
    return ended - started, phases[0] + phases[1], phases


def _phases(job: dict[str, Any], log_file: Path, created: float, seen: float) -> list[float]:
    from sagebox.runtime.logs import read_events

    at = {t["Status"]: t["StartTime"].timestamp() for t in job["SecondaryStatusTransitions"]}
    events = [(float(e["timestamp"]) / 1000, str(e["message"])) for e in read_events(log_file)]
    first_line = events[0][0]
    matrix = next(t for t, message in events if message.startswith("Train matrix has"))
    last_round = next(t for t, message in reversed(events) if message.startswith(f"[{ROUNDS - 1}]"))
    marks = [created, at["Downloading"], at["Training"], first_line, matrix, last_round,
             at["Uploading"], at["Completed"], seen]
    return [max(0.0, later - earlier) for earlier, later in zip(marks, marks[1:], strict=False)]


def _job_model(s3: Any, name: str) -> Any:
    import xgboost

    body = s3.get_object(Bucket="bench", Key=f"output/{name}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        member = tar.extractfile("xgboost-model")
        if member is None:
            raise RuntimeError(f"model.tar.gz of {name} holds no xgboost-model file")
        raw = member.read()
    booster = xgboost.Booster()
    booster.load_model(bytearray(raw))
    return booster


def run(repeats: int = 5) -> dict[str, Any]:
    import boto3

    from sagebox.cli.server_process import ServerProcess

    references: list[float] = []
    reading: list[float] = []
    runs: list[tuple[float, float, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-") as scratch:
        folder = Path(scratch)
        path = folder / "train.csv"
        _write_data(path)
        size_mb = path.stat().st_size / 1e6
        home = folder / "home"
        server = ServerProcess(home).start()
        try:
            os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            s3.create_bucket(Bucket="bench")
            s3.upload_file(str(path), "bench", "train/data.csv")
            expected = None
            name = ""
            for i in range(repeats):  # interleaved, so both see the same machine
                seconds, expected, loading = _reference(path)
                references.append(seconds)
                reading.append(loading)
                name = f"bench-overhead-{i}-{int(time.time())}"
                runs.append(_job(sagemaker, name, home))
            same_model = expected is not None and _job_model(s3, name).save_raw("json") == expected.save_raw("json")
        finally:
            server.stop()
    if not same_model:
        raise RuntimeError("the training job's model differs from the reference's xgboost.train")
    wall = statistics.median(r[0] for r in runs)
    start = statistics.median(r[1] for r in runs)
    reference = statistics.median(references)
    ratio = wall / reference
    spread = f"{min(r[0] for r in runs):.2f}-{max(r[0] for r in runs):.2f}"
    reference_spread = f"{min(references):.2f}-{max(references):.2f}"
    phases = [statistics.median(r[2][i] for r in runs) for i in range(len(PHASES))]
    rows = [
        {"measure": "job wall time, create to Completed (s, median)", "sagebox": f"{wall:.2f} (runs {spread})",
         "reference": f"{reference:.2f} (runs {reference_spread}; CSV read + DMatrix + xgboost.train in-process)",
         "ratio": f"{ratio:.2f}x", "target": f"<= {TARGET}x", "met": "yes" if ratio <= TARGET else "no"},
        {"measure": "start latency, create to process running (s, median)", "sagebox": f"{start:.3f}",
         "target": "< 1 s", "met": "yes" if start < 1 else "no"},
    ]
    rows += [{"measure": f"phase: {label} (s, median)", "sagebox": f"{seconds:.3f}",
              "ratio": f"{seconds / wall:.0%} of the wall time"} for label, seconds in zip(PHASES, phases, strict=True)]
    read = statistics.median(reading)
    rows += [
        {"measure": "reference phase: CSV read + DMatrix (s, median)", "reference": f"{read:.3f}"},
        {"measure": "reference phase: training (s, median)",
         "reference": f"{statistics.median(r - d for r, d in zip(references, reading, strict=True)):.3f}"},
    ]
    return {
        "name": "training_job_overhead",
        "rows": rows,
        "notes": f"{ROWS} rows x {COLUMNS} features ({size_mb:.0f} MB CSV), {ROUNDS} rounds of depth {PARAMS['max_depth']}, "
                 f"{repeats} interleaved runs each. The reference reads the same CSV file from disk with pyarrow.csv, "
                 "builds the DMatrix and trains with the train set evaluated every round. The job includes staging "
                 "the CSV, starting the process, parsing the CSV, packing and uploading model.tar.gz, and the client "
                 f"polling DescribeTrainingJob every {POLL_SECONDS * 1000:.0f} ms; its model is checked equal to the "
                 "reference's. Phases come from the job's status transitions and the timestamps of its log lines.",
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
