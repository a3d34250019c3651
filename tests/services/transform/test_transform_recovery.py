"""A restarted server: transform jobs that were running fail saying why, queued ones run.

Driven through the service itself (no HTTP): the records a crashed server leaves
behind are written directly, then recover() is called as Platform.start() does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagebox.config import Settings
from sagebox.objects import LocalObjectStore
from sagebox.runtime import open_executor
from sagebox.runtime.local_executor import MARKER_VARIABLE
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.hosting.models import ModelService
from sagebox.services.job_states import to_datetime
from sagebox.services.transform import TransformJobService
from sagebox.services.transform.requests import initial_document
from sagebox.store import MetadataStore, ResourceRecord

REQUEST: dict[str, Any] = {
    "ModelName": "gone",
    "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in/"}}},
    "TransformOutput": {"S3OutputPath": "s3://b/out"},
    "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[TransformJobService, MetadataStore]]:
    settings = Settings(home=tmp_path)
    store = MetadataStore(settings.resolved_database_url)
    objects = LocalObjectStore(tmp_path / "objects")
    scheduler = JobScheduler(1)
    models = ModelService(settings, store, objects)
    try:
        yield TransformJobService(settings, store, objects, scheduler, open_executor(), models), store
    finally:
        scheduler.shutdown(wait=True)
        store.close()


def leave_record(store: MetadataStore, name: str, status: str, internal: dict[str, Any]) -> None:
    now = time.time()
    document = initial_document({**REQUEST, "TransformJobName": name}, f"arn:transform-job/{name}", now)
    document["TransformJobStatus"] = status
    document["_sagebox"] = internal
    store.resources("TransformJob").create(
        ResourceRecord("TransformJob", name, f"arn:transform-job/{name}", status, to_datetime(now), to_datetime(now), document)
    )


def test_recover_fails_running_jobs_ends_their_servers_and_runs_queued_ones(
    service: tuple[TransformJobService, MetadataStore],
) -> None:
    transform, store = service
    orphan = subprocess.Popen(  # a model server the crashed server started through the executor
        [sys.executable, "-c", "import time; time.sleep(60)"],
        start_new_session=True,
        env={**os.environ, MARKER_VARIABLE: "crashed-run"},
    )
    token = {"executor": "local", "marker": "crashed-run", "pids": [orphan.pid]}
    leave_record(store, "running", "InProgress", {"launched": True, "executions": [token]})
    leave_record(store, "stopping", "Stopping", {"launched": True})
    leave_record(store, "queued", "InProgress", {})

    transform.recover()

    running = transform.describe("running")
    assert running["TransformJobStatus"] == "Failed"
    assert "server stopped while this transform job was running" in running["FailureReason"]
    assert "TransformEndTime" in running
    assert orphan.wait(timeout=10) != 0
    assert transform.describe("stopping")["TransformJobStatus"] == "Stopped"
    deadline = time.time() + 10
    while transform.describe("queued")["TransformJobStatus"] == "InProgress":
        assert time.time() < deadline
        time.sleep(0.05)
    queued = transform.describe("queued")
    assert queued["TransformJobStatus"] == "Failed"  # it ran, and its model no longer exists
    assert queued["FailureReason"].startswith('ClientError: Could not find model "')
    assert all(not key.startswith("_") for key in queued)
