"""Resource events: every family service publishes what happens to its resources once.

Driven through a Platform in this process (no HTTP), subscribed to its event bus.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagebox.config import Settings
from sagebox.services.events import ResourceEvent
from sagebox.services.platform import Platform
from tests.services.processing.jobs import job_request


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    started = Platform(Settings(home=tmp_path, stop_grace_seconds=1))
    started.start()
    try:
        yield started
    finally:
        started.close()


def _record(platform: Platform, kinds: set[str]) -> list[ResourceEvent]:
    seen: list[ResourceEvent] = []
    platform.events.subscribe(seen.append, kinds)
    return seen


def _wait(seen: list[Any], count: int) -> None:
    deadline = time.time() + 60
    while len(seen) < count and time.time() < deadline:
        time.sleep(0.05)


def test_a_job_publishes_created_then_ended_once(platform: Platform) -> None:
    seen = _record(platform, {"ProcessingJob"})
    platform.processing.create(job_request("events-done", ["python3", "-c", "print('hi')"]))
    _wait(seen, 2)
    time.sleep(0.5)  # nothing more may follow
    assert [(e.change, e.name) for e in seen] == [("Created", "events-done"), ("Ended", "events-done")]
    assert seen[1].document["ProcessingJobStatus"] == "Completed"
    assert "_sagebox" not in seen[1].document


def test_a_job_stopped_running_or_queued_ends_once(platform: Platform) -> None:
    seen = _record(platform, {"ProcessingJob"})
    sleeper = ["python3", "-c", "import time; time.sleep(60)"]
    names = [f"events-stop-{n}" for n in range(4)]  # two run, two wait for a slot
    for name in names:
        platform.processing.create(job_request(name, sleeper))
    time.sleep(1.0)
    for name in names:
        platform.processing.stop(name)
    _wait(seen, 8)
    time.sleep(0.5)
    ended = [e for e in seen if e.change == "Ended"]
    assert sorted(e.name for e in ended) == names
    assert {e.document["ProcessingJobStatus"] for e in ended} == {"Stopped"}


def test_records_publish_created_and_deleted_and_nothing_when_refused(platform: Platform) -> None:
    seen = _record(platform, {"EndpointConfig", "Model"})
    with pytest.raises(Exception, match="Could not find model"):
        platform.endpoint_configs.create(
            {"EndpointConfigName": "c", "ProductionVariants": [
                {"VariantName": "v", "ModelName": "absent", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]}
        )
    assert seen == []
    platform.objects.create_bucket("models")
    platform.objects.put_object("models", "m/model.tar.gz", b"not read until deployed")
    container = {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                 "ModelDataUrl": "s3://models/m/model.tar.gz"}
    arn = platform.models.create({"ModelName": "m", "PrimaryContainer": container})["ModelArn"]
    platform.models.delete("m")
    assert [(e.kind, e.change, e.arn) for e in seen] == [("Model", "Created", arn), ("Model", "Deleted", arn)]
    assert seen[0].document["PrimaryContainer"]["ModelDataUrl"] == "s3://models/m/model.tar.gz"
