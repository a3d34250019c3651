"""Serving an Autopilot candidate: p50 latency of its inference pipeline against one XGBoost endpoint.

An AutoML job (two candidates) runs through sagebox on a ~570-row table with numbers,
categories, dates and gaps (scikit-learn's breast cancer data with derived columns). Its
best candidate is deployed as Autopilot deploys it: a serial inference pipeline of three
containers (feature transform, XGBoost, inverse label transform), invoked with one raw CSV
row. The reference is a single built-in XGBoost endpoint serving the candidate's own
booster (the pipeline's second container alone) on the same row, already transformed.
Each container is also deployed alone, so the notes say where the pipeline's time goes.
All endpoints are measured in interleaved rounds from this process over the same HTTP client.
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

import httpx
import numpy as np
import pandas as pd

from bench.hosting import AUTH

TARGET = "diagnosis"
ROLE = "arn:aws:iam::123456789012:role/Bench"
# A raw row as a client sends it: a gap in a number column, a category and a date as strings.
RAW_ROW = b"17.99,,122.8,1001.0,0.1184,0.2776,large,2020-01-01"
WARM_UP = 50
SEQUENTIAL = 500
ROUNDS = 3
CPU_CALLS = 300
TARGET_RATIO = 3.0


def _table() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.iloc[:, :6].copy()
    rng = np.random.default_rng(0)
    frame["size_band"] = pd.cut(
        data.frame["mean radius"], [0, 12, 16, 100], labels=["small", "medium", "large"]
    ).astype(str)
    frame["seen"] = pd.date_range("2020-01-01", periods=len(frame), freq="D").astype(str)
    frame.loc[rng.choice(len(frame), 40, replace=False), "mean texture"] = np.nan
    frame.loc[rng.choice(len(frame), 30, replace=False), "size_band"] = np.nan
    frame[TARGET] = np.where(data.target == 1, "benign", "malignant")
    return frame


def _best_candidate(sagemaker: Any, s3: Any) -> dict[str, Any]:
    s3.create_bucket(Bucket="bench")
    s3.put_object(
        Bucket="bench", Key="automl/train.csv", Body=_table().to_csv(index=False).encode()
    )
    sagemaker.create_auto_ml_job(
        AutoMLJobName="bench-automl",
        InputDataConfig=[
            {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/automl/"}
                },
                "TargetAttributeName": TARGET,
            }
        ],
        OutputDataConfig={"S3OutputPath": "s3://bench/output"},
        RoleArn=ROLE,
        AutoMLJobConfig={
            "CompletionCriteria": {"MaxCandidates": 2},
            "Mode": "HYPERPARAMETER_TUNING",
        },
    )
    deadline = time.time() + 600
    while time.time() < deadline:
        described = sagemaker.describe_auto_ml_job(AutoMLJobName="bench-automl")
        if described["AutoMLJobStatus"] in ("Completed", "Failed", "Stopped"):
            break
        time.sleep(0.5)
    if described["AutoMLJobStatus"] != "Completed":
        raise RuntimeError(f"the AutoML job ended {described['AutoMLJobStatus']}: {described}")
    return described["BestCandidate"]


def _deploy(sagemaker: Any, name: str, containers: list[dict[str, Any]]) -> None:
    model: dict[str, Any] = (
        {"PrimaryContainer": containers[0]} if len(containers) == 1 else {"Containers": containers}
    )
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **model)
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


def _wait_in_service(sagemaker: Any, names: list[str]) -> None:
    deadline = time.time() + 120
    for name in names:
        while sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] != "InService":
            if time.time() > deadline:
                raise RuntimeError(f"endpoint {name} is not InService")
            time.sleep(0.05)


def _tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user and system) spent so far by a process and its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def _p50_ms(client: httpx.Client, url: str, body: bytes, server_pid: int) -> tuple[float, float]:
    """p50 latency (ms) of sequential requests, and the CPU ms per request of the server and
    its model servers (all sagebox processes, the client aside)."""
    headers = {"Content-Type": "text/csv", "Authorization": AUTH}
    for _ in range(WARM_UP):
        client.post(url, content=body, headers=headers).raise_for_status()
    latencies = []
    cpu = _tree_cpu_seconds(server_pid)
    for _ in range(SEQUENTIAL):
        started = time.perf_counter()
        client.post(url, content=body, headers=headers).raise_for_status()
        latencies.append(time.perf_counter() - started)
    cpu = _tree_cpu_seconds(server_pid) - cpu
    return statistics.median(latencies) * 1000, cpu / SEQUENTIAL * 1000


def _cpu_ms(
    s3: Any, containers: list[dict[str, Any]], bodies: dict[str, bytes]
) -> dict[str, float]:
    """CPU milliseconds per call of each container's handler, run in this process on the
    candidate's own model files: what a request costs whatever else the machine is doing."""
    from sagebox.serving.handlers import automl, xgboost

    costs = {}
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-automl-models-") as folder:
        handlers: dict[str, Any] = {}
        for name, container, module in (
            ("features", containers[0], automl),
            ("xgboost", containers[1], xgboost),
        ):
            bucket, key = container["ModelDataUrl"].removeprefix("s3://").split("/", 1)
            archive = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            model_dir = Path(folder) / name
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(model_dir, filter="data")
            handlers[name] = module.load(model_dir)
        # The reference of the feature transform's fast path: the fitted pipeline itself.
        handlers["features_sklearn"] = automl.FeatureTransform(
            handlers["features"].model, fast=False
        )
        body_of = {"features_sklearn": bodies["features"]}
        for name, handler in handlers.items():
            body = body_of.get(name) or bodies[name]
            answer = handler.predict(body, "text/csv", "text/csv")
            if name == "features_sklearn" and answer != handlers["features"].predict(
                body, "text/csv", "text/csv"
            ):
                raise RuntimeError("the fast path and the fitted pipeline answer differently")
            for _ in range(WARM_UP):
                handler.predict(body, "text/csv", "text/csv")
            started = time.process_time()
            for _ in range(CPU_CALLS):
                handler.predict(body, "text/csv", "text/csv")
            costs[name] = (time.process_time() - started) / CPU_CALLS * 1000
    return costs


def run() -> dict[str, Any]:
    import boto3

    from sagebox.cli.server_process import ServerProcess

    os.environ.update(
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1"
    )
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-automl-") as home:
        server = ServerProcess(Path(home)).start()
        try:
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            started = time.time()
            best = _best_candidate(sagemaker, s3)
            job_seconds = time.time() - started
            containers = best["InferenceContainers"]
            deployed = {
                "pipeline": containers,
                "xgboost": [containers[1]],
                "features": [containers[0]],
                "labels": [containers[2]],
            }
            for name, parts in deployed.items():
                _deploy(sagemaker, f"bench-{name}", parts)
            _wait_in_service(sagemaker, [f"bench-{name}" for name in deployed])

            def url(name: str) -> str:
                return f"{server.endpoint_url}/endpoints/bench-{name}/invocations"

            with httpx.Client() as client:
                headers = {"Content-Type": "text/csv", "Authorization": AUTH}
                features = client.post(url("features"), content=RAW_ROW, headers=headers)
                scores = client.post(url("xgboost"), content=features.content, headers=headers)
                label = client.post(url("pipeline"), content=RAW_ROW, headers=headers)
                for answer in (features, scores, label):
                    answer.raise_for_status()
                bodies = {
                    "pipeline": RAW_ROW,
                    "xgboost": features.content,
                    "features": RAW_ROW,
                    "labels": scores.content,
                }
                runs: dict[str, list[float]] = {name: [] for name in deployed}
                server_cpu: dict[str, list[float]] = {name: [] for name in deployed}
                server_pid = server.pid
                for _ in range(ROUNDS):  # interleaved, so all see the same machine
                    for name, body in bodies.items():
                        p50_ms, cpu_ms = _p50_ms(client, url(name), body, server_pid)
                        runs[name].append(p50_ms)
                        server_cpu[name].append(cpu_ms)
            cpu = _cpu_ms(s3, containers, bodies)
        finally:
            server.stop()
    p50 = {name: min(values) for name, values in runs.items()}
    ratio = p50["pipeline"] / p50["xgboost"]
    # CPU per request of all sagebox processes: what a request costs whatever the machine's load.
    work = {name: statistics.median(values) for name, values in server_cpu.items()}
    # Each endpoint alone pays the edge and one loopback hop once; the pipeline pays the edge
    # once and a hop per container, so the containers' own sum over-counts two edge passes.
    alone = p50["features"] + p50["xgboost"] + p50["labels"]
    return {
        "name": "automl_serving",
        "rows": [
            {
                "measure": "Autopilot best candidate (3-container pipeline), one raw row: p50 latency (ms)",
                "sagebox": f"{p50['pipeline']:.2f}",
                "reference": f"{p50['xgboost']:.2f} single XGBoost endpoint (same booster, transformed row)",
                "ratio": f"{ratio:.2f}x",
                "target": f"<= {TARGET_RATIO:g}x",
                "met": "yes" if ratio <= TARGET_RATIO else "no",
            },
            {
                "measure": "feature-transform handler, one raw row: CPU ms per call (in-process)",
                "sagebox": f"{cpu['features']:.3f}",
                "reference": f"{cpu['features_sklearn']:.3f} the fitted scikit-learn pipeline (same answer)",
                "ratio": f"{cpu['features'] / cpu['features_sklearn']:.3f}x",
            },
            {
                "measure": "Autopilot best candidate, one raw row: CPU ms per request of the server and its model servers",
                "sagebox": f"{work['pipeline']:.2f}",
                "reference": f"{work['xgboost']:.2f} single XGBoost endpoint (same booster, transformed row)",
                "ratio": f"{work['pipeline'] / work['xgboost']:.2f}x",
            },
        ],
        "notes": (
            f"AutoML job (MaxCandidates 2, {job_seconds:.0f} s) on scikit-learn's breast cancer data with "
            "derived category, date and gap columns; the pipeline answers the predicted label of one raw "
            "CSV row. Each container deployed alone, p50 ms: feature transform "
            f"{p50['features']:.2f}, XGBoost {p50['xgboost']:.2f}, inverse label transform "
            f"{p50['labels']:.2f} (sum {alone:.2f}, each including the edge and one hop). "
            "CPU time per call of the handlers alone, in-process on the same model files (the "
            f"containers' own work, whatever the machine's load): feature transform {cpu['features']:.2f} ms "
            f"(compiled fast path; the fitted scikit-learn pipeline: {cpu['features_sklearn']:.2f} ms), "
            f"XGBoost {cpu['xgboost']:.2f} ms. CPU ms per request of the server and its model "
            f"servers (median of the rounds; the client aside), each container deployed alone: feature "
            f"transform {work['features']:.2f}, XGBoost {work['xgboost']:.2f}, inverse label transform "
            f"{work['labels']:.2f}. Machine load average (1 min) at the start: {load:.1f}. "
            f"{SEQUENTIAL} sequential requests per endpoint, best p50 of {ROUNDS} interleaved rounds "
            f"(the pipeline answers {label.text.strip()!r} for the raw row); client, server and "
            "model servers share the machine's CPUs."
        ),
    }


if __name__ == "__main__":
    print(run())
