"""Experiment metrics: BatchPutMetrics throughput, and `Run.log_metric`'s cost per call.

1. Ten runs log 1,000 steps of one metric each (10,000 points, 10 per request, as the
   SDK batches them) to a fresh `sagebox serve`, one client process per run, all
   starting together: points accepted per second over the wall time, through boto3's
   `sagemaker-metrics` client (what the SDK uses) and through a plain HTTP client (the
   server's own capacity, without botocore's cost on the same two cores). Target:
   >= 10,000 points/s. Other work on the machine takes cores from both, so the server's
   CPU time per 1,000 points (user + system, all its threads, from /proc/<pid>/stat over
   the same window) is reported too: it does not depend on the load.
2. `Run.log_metric` (SageMaker SDK v2) against sagebox, per call, measured inside the
   client process over 2,000 calls, against MLflow's `log_metric` to a local file store
   measured the same way in its own process. Target: <= 2x MLflow's time per call.

MLflow is a reference only, never a sagebox dependency: `make bench-references` installs
it in `.venv-mlflow/`; without it the comparison is reported as not measured.
Run ``python -m bench experiments``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sagebox.cli.env import sdk_config
from sagebox.cli.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
MLFLOW_PYTHON = ROOT / ".venv-mlflow" / "bin" / "python"
RUNS = 10
STEPS = 1_000
BATCH = 10
LOG_CALLS = 2_000
TARGET_POINTS_PER_SECOND = 10_000
TARGET_RATIO = 2.0
CLIENT_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}

# One run's writer: waits for the common start, sends STEPS points in batches, prints its end.
WRITER = """
import json, sys, time
run, start_at, steps, batch, via, endpoint = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
if via == "boto3":
    import boto3
    client = boto3.client("sagemaker-metrics")
    def send(points):
        client.batch_put_metrics(TrialComponentName=run, MetricData=points)
else:
    import http.client
    from urllib.parse import urlparse
    url = urlparse(endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port)
    headers = {"Content-Type": "application/json", "Authorization":
               "AWS4-HMAC-SHA256 Credential=bench/20250101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0"}
    def send(points):
        connection.request("PUT", "/BatchPutMetrics", json.dumps({"TrialComponentName": run, "MetricData": points}), headers)
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200 or b"Errors" in body:
            raise SystemExit(body)
now = time.time()
batches = [[{"MetricName": "loss", "Value": 1.0 / (step + 1), "Step": step, "Timestamp": int(now)}
            for step in range(first, first + batch)] for first in range(0, steps, batch)]
time.sleep(max(0.0, start_at - time.time()))
cpu = time.process_time()
for points in batches:
    send(points)
print(json.dumps({"end": time.time(), "cpu": time.process_time() - cpu}))
"""

# Run.log_metric inside a `with Run(...)`, timed around the calls only.
SDK_LOGGER = """
import json, sys, time
import sagemaker
from sagemaker.experiments.run import Run
calls, bucket = int(sys.argv[1]), sys.argv[2]
session = sagemaker.Session(default_bucket=bucket)
with Run(experiment_name="bench-log-metric", run_name="calls", sagemaker_session=session) as run:
    began = time.perf_counter()
    for step in range(calls):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    spent = time.perf_counter() - began
print(json.dumps({"seconds_per_call": spent / calls}))
"""

MLFLOW_LOGGER = """
import json, sys, time
import mlflow
calls, store = int(sys.argv[1]), sys.argv[2]
mlflow.set_tracking_uri("file://" + store)
with mlflow.start_run():
    began = time.perf_counter()
    for step in range(calls):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    spent = time.perf_counter() - began
print(json.dumps({"seconds_per_call": spent / calls}))
"""


def _client_env(server: ServerProcess, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    config = folder / "sagemaker-sdk-config.yaml"
    config.write_text(sdk_config("bench-experiments"))
    env.update(CLIENT_ENV)
    env.update(
        AWS_ENDPOINT_URL=server.endpoint_url,
        SAGEMAKER_USER_CONFIG_OVERRIDE=str(config),
        SAGEMAKER_SUPPRESS_V2_WARNING="1",
    )
    return env


def _cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system, every thread), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ingest(server: ServerProcess, env: dict[str, str], via: str) -> tuple[float, float, float]:
    """Points per second accepted from RUNS writers starting together, and the server's
    and the writers' CPU seconds per 1,000 of those points."""
    import boto3

    sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url, **_credentials())
    runs = [f"bench-{via.replace('3', 'three')}-run-{index}" for index in range(RUNS)]
    for run in runs:
        sagemaker.create_trial_component(TrialComponentName=run)
    start_at = time.time() + 8.0  # after every writer has imported its client
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, run, str(start_at), str(STEPS), str(BATCH), via, server.endpoint_url],
            env=env, stdout=subprocess.PIPE, text=True,
        )
        for run in runs
    ]
    if server.pid is None:
        raise RuntimeError("the server has no process")
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before = _cpu_seconds(server.pid)
    ends, client_cpu = [], 0.0
    for writer in writers:
        output, _ = writer.communicate(timeout=600)
        if writer.returncode != 0:
            raise RuntimeError(f"a {via} writer failed: {output}")
        report = json.loads(output.strip().splitlines()[-1])
        ends.append(report["end"])
        client_cpu += report["cpu"]
    cpu_per_thousand = (_cpu_seconds(server.pid) - cpu_before) / (RUNS * STEPS / 1000)
    for run in runs:
        counted = sagemaker.describe_trial_component(TrialComponentName=run)["Metrics"][0]["Count"]
        if counted != STEPS:
            raise RuntimeError(f"{run} summarises {counted} points, not {STEPS}")
    return RUNS * STEPS / (max(ends) - start_at), cpu_per_thousand, client_cpu / (RUNS * STEPS / 1000)


def _service_capacity(folder: Path) -> tuple[float, float]:
    """Points per second the service layer takes from RUNS threads, without HTTP, and the
    process's CPU seconds per 1,000 points."""
    import threading

    from sagebox.config import Settings
    from sagebox.services.platform import Platform

    platform = Platform(Settings(home=folder / "in-process"))
    platform.start()
    try:
        now = time.time()
        runs = [f"bench-service-run-{index}" for index in range(RUNS)]
        for run in runs:
            platform.trial_components.create({"TrialComponentName": run})
        requests = {
            run: [
                {"TrialComponentName": run, "MetricData": [
                    {"MetricName": "loss", "Value": 1.0 / (step + 1), "Step": step, "Timestamp": now}
                    for step in range(first, first + BATCH)
                ]}
                for first in range(0, STEPS, BATCH)
            ]
            for run in runs
        }
        start = threading.Barrier(RUNS + 1)

        def write(run: str) -> None:
            start.wait()
            for request in requests[run]:
                platform.trial_components.metrics.batch_put(request)

        threads = [threading.Thread(target=write, args=(run,)) for run in runs]
        for thread in threads:
            thread.start()
        start.wait()
        began, cpu_before = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.join()
        cpu_per_thousand = (time.process_time() - cpu_before) / (RUNS * STEPS / 1000)
        return RUNS * STEPS / (time.perf_counter() - began), cpu_per_thousand
    finally:
        platform.close()


def _credentials() -> dict[str, str]:
    return {
        "region_name": CLIENT_ENV["AWS_DEFAULT_REGION"],
        "aws_access_key_id": CLIENT_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CLIENT_ENV["AWS_SECRET_ACCESS_KEY"],
    }


def _per_call(python: Path | str, script: str, arguments: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(
        [str(python), "-c", script, *arguments], env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds_per_call"])


def run() -> dict[str, Any]:
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        server = ServerProcess(folder / "home").start()
        try:
            import boto3

            env = _client_env(server, folder)
            boto3.client("s3", endpoint_url=server.endpoint_url, **_credentials()).create_bucket(
                Bucket="bench-experiments"
            )
            through_boto3, boto3_cpu, boto3_clients_cpu = _ingest(server, env, "boto3")
            through_http, http_cpu, http_clients_cpu = _ingest(server, env, "http")
            sdk_call = _per_call(sys.executable, SDK_LOGGER, [str(LOG_CALLS), "bench-experiments"], env)
        finally:
            server.stop()
        in_process, in_process_cpu = _service_capacity(folder)
        load_after = os.getloadavg()
        mlflow_call = None
        if MLFLOW_PYTHON.exists():
            mlflow_env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
            mlflow_call = _per_call(MLFLOW_PYTHON, MLFLOW_LOGGER, [str(LOG_CALLS), str(folder / "mlruns")], mlflow_env)
    ratio = sdk_call / mlflow_call if mlflow_call else None
    rows = [
        {
            "measure": f"BatchPutMetrics, {RUNS} runs x {STEPS} steps, boto3 clients (points/s)",
            "sagebox": round(through_boto3),
            "target": f">= {TARGET_POINTS_PER_SECOND}",
            "met": through_boto3 >= TARGET_POINTS_PER_SECOND,
        },
        {
            "measure": f"BatchPutMetrics, {RUNS} runs x {STEPS} steps, plain HTTP clients (points/s)",
            "sagebox": round(through_http),
            "target": f">= {TARGET_POINTS_PER_SECOND}",
            "met": through_http >= TARGET_POINTS_PER_SECOND,
        },
        {
            "measure": f"BatchPutMetrics, {RUNS} runs x {STEPS} steps, service layer without HTTP (points/s)",
            "sagebox": round(in_process),
            "target": f">= {TARGET_POINTS_PER_SECOND}",
            "met": in_process >= TARGET_POINTS_PER_SECOND,
        },
        {
            "measure": "BatchPutMetrics, server CPU per 1,000 points (ms): plain HTTP / boto3 / service layer",
            "sagebox": f"{http_cpu * 1e3:.0f} / {boto3_cpu * 1e3:.0f} / {in_process_cpu * 1e3:.0f}",
        },
        {
            "measure": "BatchPutMetrics, writers' CPU per 1,000 points (ms): plain HTTP / boto3",
            "sagebox": f"{http_clients_cpu * 1e3:.0f} / {boto3_clients_cpu * 1e3:.0f}",
        },
        {
            "measure": "Run.log_metric vs MLflow log_metric (file store), time per call (us)",
            "sagebox": round(sdk_call * 1e6, 1),
            "reference": round(mlflow_call * 1e6, 1) if mlflow_call else "not measured (make bench-references)",
            "ratio": round(ratio, 3) if ratio else "",
            "target": f"<= {TARGET_RATIO}x",
            "met": ratio <= TARGET_RATIO if ratio else "",
        },
    ]
    return {
        "name": "experiment_metrics",
        "rows": rows,
        "notes": (
            f"One `sagebox serve` (SQLite); {RUNS} writer processes start together, each sending {STEPS} "
            f"points of one metric in requests of {BATCH}; throughput is points over the wall time until "
            "the last writer is done, after checking every run's summary counts them all. Writers and server "
            "share the machine's cores. Run.log_metric and MLflow's log_metric are each timed inside their own "
            f"process over {LOG_CALLS} calls (the SDK sends a BatchPutMetrics request every {BATCH} calls; "
            f"MLflow writes its file store on every call). Server CPU per 1,000 points is the server "
            "process's user + system time (all threads) over the writers' window, divided by the points; "
            "the service layer's is the whole in-process run's (its writer threads included); the writers' "
            "is the sum of their processes' CPU time while sending. The machine's "
            f"load average (1, 5, 15 min) was {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} when the benchmark "
            f"started and {load_after[0]:.1f}, {load_after[1]:.1f}, {load_after[2]:.1f} when it ended; "
            "other processes' load takes cores from the writers and the server alike."
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
