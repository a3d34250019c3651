"""The shared job lifecycle: a stop racing a start never leaves a job Stopping.

Through boto3 against a live server with eight job slots: 200 processing jobs are
created and stopped at once from many threads, so stops land before the job is queued,
while it waits for a slot, between its launch and its process start, and while it runs.
Every job must end Stopped, promptly, with nothing left running.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sagebox.cli.server_process import ServerProcess
from tests.services.processing.jobs import job_request, unique

PAIRS = 200
SETTLE_SECONDS = 120


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = ServerProcess(
        tmp_path_factory.mktemp("lifecycle-home"),
        {"SAGEBOX_MAX_CONCURRENT_JOBS": "8", "SAGEBOX_STOP_GRACE_SECONDS": "2"},
    ).start()
    client = boto3.client(
        "sagemaker",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(max_pool_connections=32, retries={"max_attempts": 10, "mode": "standard"}),
    )
    try:
        yield client
    finally:
        server.stop()


def _create(client: Any, name: str) -> None:
    client.create_processing_job(**job_request(name, ["python3", "-c", "import time; time.sleep(60)"]))


def _stop(client: Any, name: str) -> None:
    """Stops the job as soon as it exists (the create may still be on its way)."""
    deadline = time.time() + 30
    while True:
        try:
            client.stop_processing_job(ProcessingJobName=name)
            return
        except ClientError as exc:
            message = exc.response["Error"]["Message"]
            if "Could not find" in message and time.time() < deadline:
                continue
            if "cannot be stopped" in message:  # a second stop of an already stopped job
                return
            raise


def test_concurrent_create_and_stop_pairs_all_end_stopped(busy_server: Any) -> None:
    names = [unique("race") for _ in range(PAIRS)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = []
        for name in names:
            futures.append(pool.submit(_create, busy_server, name))
            futures.append(pool.submit(_stop, busy_server, name))
        for future in futures:
            future.result()

    deadline = time.time() + SETTLE_SECONDS
    statuses: dict[str, str] = {}
    while time.time() < deadline:
        statuses = {n: busy_server.describe_processing_job(ProcessingJobName=n)["ProcessingJobStatus"] for n in names}
        if all(status == "Stopped" for status in statuses.values()):
            break
        time.sleep(0.5)
    left = {name: status for name, status in statuses.items() if status != "Stopped"}
    assert not left, f"{len(left)} of {PAIRS} jobs did not end Stopped: {sorted(set(left.values()))}"
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_race_job(p)]
    assert not leftovers, f"{len(leftovers)} job processes still running"


def _is_race_job(process: Path) -> bool:
    try:
        cmdline = (process / "cmdline").read_bytes()
        environ = (process / "environ").read_bytes()
    except OSError:
        return False
    return b"time.sleep(60)" in cmdline and b"SAGEBOX_EXECUTION_ID" in environ and os.getpid() != int(process.name)
