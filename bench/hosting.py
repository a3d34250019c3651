"""Endpoint latency and throughput against a floor, and CreateEndpoint-to-InService time.

The model is the demo's: XGBoost with 100 trees on scikit-learn's breast cancer
data, trained through sagebox. Each request carries one CSV row. The floor is
bench/floor_server.py: the same booster behind a bare ASGI app on the same loopback
interface. Both are driven by the same HTTP client code from this process.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SEQUENTIAL = 2000
CONCURRENT = 8
CONCURRENT_SECONDS = 5.0
ROUNDS = 2
# The edge routes by the SigV4 credential scope; it does not verify signatures unless
# keys are configured, so a fixed header stands in for boto3's signing here.
AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0"


def _measure(url: str, body: bytes, headers: dict[str, str]) -> dict[str, float]:
    with httpx.Client() as client:
        for _ in range(100):
            client.post(url, content=body, headers=headers).raise_for_status()
        latencies = []
        for _ in range(SEQUENTIAL):
            started = time.perf_counter()
            client.post(url, content=body, headers=headers).raise_for_status()
            latencies.append(time.perf_counter() - started)
    counts = [0] * CONCURRENT
    stop = time.perf_counter() + CONCURRENT_SECONDS

    def worker(index: int) -> None:
        with httpx.Client() as client:
            while time.perf_counter() < stop:
                client.post(url, content=body, headers=headers).raise_for_status()
                counts[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONCURRENT)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"p50_ms": statistics.median(latencies) * 1000, "p99_ms": float(np.percentile(latencies, 99) * 1000), "rps": sum(counts) / elapsed}


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    best = min(runs, key=lambda r: r["p50_ms"])
    return {**best, "rps": max(r["rps"] for r in runs)}


def _train(sagemaker: Any, s3: Any) -> tuple[str, bytes, bytes]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([data.target, data.data]), delimiter=",", fmt="%.10g")
    s3.create_bucket(Bucket="bench")
    s3.put_object(Bucket="bench", Key="train/data.csv", Body=buffer.getvalue().encode())
    sagemaker.create_training_job(
        TrainingJobName="bench-hosting-model",
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/Bench",
        HyperParameters={"objective": "binary:logistic", "num_round": "100", "max_depth": "6"},
        InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/train/"}}}],
        OutputDataConfig={"S3OutputPath": "s3://bench/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    sagemaker.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="bench-hosting-model", WaiterConfig={"Delay": 1})
    artifact = sagemaker.describe_training_job(TrainingJobName="bench-hosting-model")["ModelArtifacts"]["S3ModelArtifacts"]
    archive = s3.get_object(Bucket="bench", Key=artifact.split("/", 3)[3])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        model = tar.extractfile("xgboost-model").read()  # type: ignore[union-attr]
    row = ",".join(f"{v:.10g}" for v in data.data[0]).encode()
    return artifact, model, row


def run() -> dict[str, Any]:
    import boto3

    from sagebox.cli.server_process import ServerProcess
    from sagebox.runtime.model_server import free_port

    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    with tempfile.TemporaryDirectory(prefix="sagebox-bench-") as home:
        server = ServerProcess(Path(home)).start()
        floor = None
        try:
            sagemaker = boto3.client("sagemaker", endpoint_url=server.endpoint_url)
            s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
            artifact, model, row = _train(sagemaker, s3)
            sagemaker.create_model(ModelName="bench", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": artifact})
            sagemaker.create_endpoint_config(EndpointConfigName="bench", ProductionVariants=[
                {"VariantName": "AllTraffic", "ModelName": "bench", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
            started = time.time()
            sagemaker.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
            while sagemaker.describe_endpoint(EndpointName="bench")["EndpointStatus"] != "InService":
                time.sleep(0.02)
            in_service = time.time() - started

            model_file = Path(home) / "floor-model"
            model_file.write_bytes(model)
            port = free_port()
            floor = subprocess.Popen([sys.executable, str(Path(__file__).with_name("floor_server.py")), str(model_file), str(port)])
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    httpx.post(f"http://127.0.0.1:{port}/invocations", content=row, timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            floor_runs, sagebox_runs = [], []
            for _ in range(ROUNDS):  # interleaved, so both see the same machine
                floor_runs.append(_measure(f"http://127.0.0.1:{port}/invocations", row, {"Content-Type": "text/csv"}))
                sagebox_runs.append(_measure(
                    f"{server.endpoint_url}/endpoints/bench/invocations", row, {"Content-Type": "text/csv", "Authorization": AUTH}
                ))
            floor_figures, sagebox_figures = _best(floor_runs), _best(sagebox_runs)
        finally:
            if floor is not None:
                floor.terminate()
                floor.wait()
            server.stop()
    p50_ratio = sagebox_figures["p50_ms"] / floor_figures["p50_ms"]
    rps_ratio = sagebox_figures["rps"] / floor_figures["rps"]
    return {
        "name": "endpoint_invocations",
        "rows": [
            {"measure": "InvokeEndpoint p50 latency, concurrency 1 (ms)", "sagebox": f"{sagebox_figures['p50_ms']:.2f} (p99 {sagebox_figures['p99_ms']:.2f})",
             "reference": f"{floor_figures['p50_ms']:.2f} (p99 {floor_figures['p99_ms']:.2f}) bare ASGI floor", "ratio": f"{p50_ratio:.2f}x",
             "target": "<= 2x", "met": "yes" if p50_ratio <= 2 else "no"},
            {"measure": f"InvokeEndpoint throughput, concurrency {CONCURRENT} (requests/s)", "sagebox": f"{sagebox_figures['rps']:.0f}",
             "reference": f"{floor_figures['rps']:.0f} bare ASGI floor", "ratio": f"{rps_ratio:.2f}x",
             "target": ">= 0.6x", "met": "yes" if rps_ratio >= 0.6 else "no"},
            {"measure": "CreateEndpoint to InService (s)", "sagebox": f"{in_service:.2f}", "target": "< 3 s", "met": "yes" if in_service < 3 else "no"},
        ],
        "notes": f"XGBoost, 100 trees, breast cancer data, one CSV row per request; {SEQUENTIAL} sequential requests for latency, "
                 f"{CONCURRENT} client threads for {CONCURRENT_SECONDS:.0f} s for throughput, best of {ROUNDS} interleaved rounds each; "
                 "client and servers share the machine's CPUs.",
    }


if __name__ == "__main__":
    print(run())
