"""A job component the server did not bring up to date before it stopped catches up at start."""

from __future__ import annotations

import time
from pathlib import Path

from sagebox.config import Settings
from sagebox.services.platform import Platform
from sagebox.store import ResourceRecord
from tests.services.processing.jobs import job_request


def test_a_component_left_in_progress_follows_its_ended_job_after_a_restart(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, stop_grace_seconds=1)
    platform = Platform(settings)
    platform.start()
    try:
        platform.processing.create(job_request("caught-up", ["python3", "-c", "print('done')"]))
        deadline = time.time() + 60
        while platform.processing.describe("caught-up")["ProcessingJobStatus"] != "Completed":
            if time.time() > deadline:
                raise TimeoutError("the processing job did not complete")
            time.sleep(0.1)
        component = "caught-up-aws-processing-job"
        # The component follows the job's Ended event, a moment after the job reads Completed.
        while platform.trial_components.describe(component)["Status"] != {"PrimaryStatus": "Completed"}:
            if time.time() > deadline:
                raise TimeoutError("the job's trial component did not follow its end")
            time.sleep(0.05)

        # As if the server had stopped between the job's end and its component's update.
        def as_before_the_end(record: ResourceRecord) -> None:
            record.document["Status"] = {"PrimaryStatus": "InProgress"}
            record.document.pop("EndTime")

        platform.store.resources("TrialComponent").modify(component, as_before_the_end)
    finally:
        platform.close()

    restarted = Platform(settings)
    restarted.start()
    try:
        described = restarted.trial_components.describe(component)
        assert described["Status"] == {"PrimaryStatus": "Completed"}
        assert described["EndTime"] == restarted.processing.describe("caught-up")["ProcessingEndTime"]
    finally:
        restarted.close()
