"""How fast one API server creates training jobs on a PostgreSQL store, against SQLite.

Two `sagebox serve` processes on this machine, one on a PostgreSQL server started here
(tests/postgres_server.py: a private cluster, fsync off as for the tests), the other on its
SQLite file, the reference; both with a local object folder and the local executor.
Clients in threads (one boto3 client each) call CreateTrainingJob as fast as they are
answered; the rate is jobs created over the time the calls took, the figure the
capacity arithmetic of docs/scale-out.md needs (how many jobs and trials a second one
server and one database take in).

The jobs are real and run: each names a channel prefix that holds no object, so it
fails at once while staging (its record written a few more times, as any job's is over
its life), one at a time behind the queue (`--max-concurrent-jobs 1`), so the creations
compete with the background writes of the jobs already made, as in a busy server.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

JOBS = 300
CLIENTS = 8
WARM_UP = 20
BUCKET = "bench-store"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _create(sagemaker: Any, name: str) -> None:
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/Bench",
        HyperParameters={"objective": "reg:squarederror", "num_round": "10"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/no-such-prefix/",
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and all their descendants so far."""
    import psutil

    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
    return total


def _rate(
    endpoint_url: str, prefix: str, jobs: int, server_pid: int, database_pid: int | None
) -> dict[str, float]:
    """Jobs created per second, p50 seconds per call (CLIENTS threads), and the CPU seconds
    per job of the API server (with its jobs) and of the database."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 0}, max_pool_connections=CLIENTS)
    boto3.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket=BUCKET)
    clients = [
        boto3.client("sagemaker", endpoint_url=endpoint_url, config=config) for _ in range(CLIENTS)
    ]
    for i in range(WARM_UP):
        _create(clients[0], f"{prefix}-warm-{i}")
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        for i in range(index, jobs, CLIENTS):
            began = time.perf_counter()
            try:
                _create(clients[index], f"{prefix}-{i}")
            except Exception as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
                return
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    database = [database_pid] if database_pid else []
    server_cpu, database_cpu = _cpu_seconds([server_pid]), _cpu_seconds(database)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    server_cpu = _cpu_seconds([server_pid]) - server_cpu
    database_cpu = _cpu_seconds(database) - database_cpu
    if errors:
        raise RuntimeError(f"CreateTrainingJob failed during the benchmark: {errors[0]!r}")
    return {
        "rate": jobs / elapsed,
        "p50": statistics.median(latencies),
        "server_cpu": server_cpu / jobs,
        "database_cpu": database_cpu / jobs,
    }


def run(jobs: int = JOBS) -> dict[str, Any]:
    from sagebox.cli.server_process import ServerProcess

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.postgres_server import start_server

    os.environ.update(
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1"
    )
    load = os.getloadavg()[0]
    postgres = start_server()
    url = postgres.create_database()
    # The postmaster's pid heads its data folder's postmaster.pid (None: an external server).
    cluster = getattr(postgres, "_cluster", None)
    database_pid = (
        int((cluster.data / "postmaster.pid").read_text().split()[0]) if cluster else None
    )
    figures: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="sagebox-bench-store-") as scratch:
            base = ["--max-concurrent-jobs", "1"]
            servers = {
                "postgresql": ServerProcess(Path(scratch) / "pg", None, ["--store", url, *base]),
                "sqlite": ServerProcess(Path(scratch) / "sqlite", None, base),
            }
            for kind, server in servers.items():
                server.start()
                try:
                    pid = server._process.pid if server._process else 0
                    figures[kind] = _rate(
                        server.endpoint_url, f"bench-store-{kind}", jobs, pid,
                        database_pid if kind == "postgresql" else None,
                    )  # fmt: skip
                finally:
                    server.stop()
    finally:
        postgres.drop_database(url)
        postgres.stop()
    pg, sq = figures["postgresql"], figures["sqlite"]
    return {
        "name": "store_throughput",
        "runs": figures,
        "rows": [
            {
                "measure": f"CreateTrainingJob, {CLIENTS} concurrent boto3 clients, {jobs} jobs (jobs/s; p50 ms per call)",
                "sagebox": f"{pg['rate']:.0f} on PostgreSQL (p50 {pg['p50'] * 1000:.0f} ms)",
                "reference": f"{sq['rate']:.0f} on SQLite (p50 {sq['p50'] * 1000:.0f} ms)",
                "ratio": f"{pg['rate'] / sq['rate']:.2f}x",
            },
            {
                "measure": "CPU per job created, while creating (ms): the API server; PostgreSQL",
                "sagebox": f"{pg['server_cpu'] * 1000:.0f} server; {pg['database_cpu'] * 1000:.1f} PostgreSQL",
                "reference": f"{sq['server_cpu'] * 1000:.0f} server on SQLite",
                "ratio": f"{pg['server_cpu'] / sq['server_cpu']:.2f}x",
            },
        ],
        "notes": (
            "One `sagebox serve` per store, one after the other, each with the local executor, a local object "
            "folder and --max-concurrent-jobs 1; PostgreSQL is a private server started on this machine with "
            "the test suite's settings (tests/postgres_server.py: fsync and synchronous_commit off). The jobs run and fail at once (their channel's prefix "
            "holds no object), so the creations share the server and the database with the jobs' own writes. "
            "CPU is the server process (and its children) and the postmaster with its backends, over the timed "
            "creations; jobs still queued then run after it. Clients, server and database share the machine's 2 CPUs: the figure is a floor for one API server "
            f"process, not the database's limit. 1-minute load average {load:.1f} when it started."
        ),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
