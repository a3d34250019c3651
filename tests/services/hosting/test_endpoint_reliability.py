"""Reliability: an instance killed under load, 10,000 invocations at concurrency 32, restarts."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import xgboost
from botocore.config import Config
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from tests.services.hosting.conftest import (
    TrainedModel,
    csv_rows,
    deploy,
    predictions,
    train_model,
    variant,
)
from tests.services.hosting.test_endpoint_features import _server_pids
from tests.services.training.jobs import unique


def test_ten_thousand_invocations_at_concurrency_32(sagemaker: Any, runtime: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a, count=2)])
    body = csv_rows(model_a.features[:1])
    expected = float(model_a.booster.predict(xgboost.DMatrix(model_a.features[:1]))[0])

    def call(_: int) -> float:
        return float(predictions(runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)["Body"].read())[0])

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(call, range(10_000)))
    assert len(answers) == 10_000
    assert np.allclose(answers, expected, rtol=1e-6)
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_a_killed_instance_is_replaced_and_traffic_avoids_it(sagemaker: Any, runtime: Any, sagebox_server: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a, count=2)])
    body = csv_rows(model_a.features[:1])
    failures: list[str] = []
    done = threading.Event()
    calls = 0

    def traffic() -> None:
        nonlocal calls
        while not done.is_set():
            try:
                runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
                calls += 1
            except ClientError as exc:
                failures.append(str(exc))

    workers = [threading.Thread(target=traffic) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    before = _server_pids(sagebox_server.home, endpoint)
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    at_kill = calls
    deadline = time.time() + 30
    while time.time() < deadline:
        now = _server_pids(sagebox_server.home, endpoint)
        if len(now) == 2 and before[0] not in now:
            break
        time.sleep(0.2)
    at_replacement = calls
    time.sleep(1.0)
    done.set()
    for worker in workers:
        worker.join()
    after = _server_pids(sagebox_server.home, endpoint)
    assert len(after) == 2 and before[0] not in after
    assert failures == []
    # Traffic flowed before the kill, while the instance was replaced, and after it.
    assert 0 < at_kill < at_replacement < calls
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    sagemaker.delete_endpoint(EndpointName=endpoint)


def test_endpoints_come_back_after_a_restart(tmp_path: Path, diabetes: tuple[np.ndarray, np.ndarray]) -> None:
    home = tmp_path / "home"
    server = ServerProcess(home).start()
    clients = lambda: (  # noqa: E731
        boto3.client("sagemaker", endpoint_url=server.endpoint_url),
        boto3.client("sagemaker-runtime", endpoint_url=server.endpoint_url, config=Config(retries={"max_attempts": 1})),
        boto3.client("s3", endpoint_url=server.endpoint_url),
    )
    sagemaker, runtime, s3 = clients()
    try:
        bucket = unique("restart")
        s3.create_bucket(Bucket=bucket)
        model = train_model(sagemaker, s3, bucket, *diabetes, num_round=5)
        endpoint = deploy(sagemaker, [variant("AllTraffic", model)])
        body = csv_rows(model.features[:1])
        first = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)["Body"].read()
        server.kill()
        time.sleep(1.0)
        assert _server_pids(home, endpoint) == [], "model servers must not outlive the server"
        server = ServerProcess(home).start()
        sagemaker, runtime, s3 = clients()
        assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
        again = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)["Body"].read()
        assert again == first
    finally:
        server.stop()


def test_a_hung_instance_is_replaced_after_repeated_failed_health_checks(sagemaker: Any, sagebox_server: Any, model_a: TrainedModel) -> None:
    endpoint = deploy(sagemaker, [variant("AllTraffic", model_a, count=1)])
    before = _server_pids(sagebox_server.home, endpoint)
    assert len(before) == 1
    os.kill(before[0], signal.SIGSTOP)  # alive, but answers nothing
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            now = _server_pids(sagebox_server.home, endpoint)
            if now and before[0] not in now:
                break
            time.sleep(0.3)
        assert before[0] not in _server_pids(sagebox_server.home, endpoint)
    finally:
        try:
            os.kill(before[0], signal.SIGCONT)
            os.kill(before[0], signal.SIGKILL)
        except ProcessLookupError:
            pass
    sagemaker.delete_endpoint(EndpointName=endpoint)
